import { expect, test, type Page, PASSWORD, ADMIN, waitForHydration } from './fixtures';

// The Content-Security-Policy the server sends (a per-page script nonce, 'wasm-unsafe-eval',
// styles from the console's own origin only) must not get in the way of the hydrated app: no
// `securitypolicyviolation` event and no CSP message in the console on any page, and the pages
// become interactive.

declare global {
  interface Window {
    __cspViolations: string[];
  }
}

/** Collects every CSP violation and CSP console message the page reports, from its first script on. */
async function watchCsp(page: Page): Promise<string[]> {
  const problems: string[] = [];
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener(
      'securitypolicyviolation',
      (e) => window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`),
      true,
    );
  });
  page.on('console', (msg) => {
    if (/Content[- ]Security[- ]Policy|Refused to (execute|load|apply|connect|compile)/i.test(msg.text())) {
      problems.push(`console ${msg.type()}: ${msg.text()}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return problems;
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => window.__cspViolations ?? []);
}

/** Opens a page, checks its policy header carries a nonce, and waits for hydration. */
async function open(page: Page, path: string, status = 200) {
  const response = await page.goto(path);
  expect(response?.status(), path).toBe(status);
  const csp = (await response?.headerValue('content-security-policy')) ?? '';
  expect(csp, path).toContain("'wasm-unsafe-eval'");
  expect(csp, path).toMatch(/'nonce-[A-Za-z0-9_-]{16,}'/);
  expect(csp, path).toContain("frame-ancestors 'none'");
  await waitForHydration(page);
}

test('pages hydrate under the Content-Security-Policy without a single violation', async ({ page, context }) => {
  const problems = await watchCsp(page);

  await open(page, '/login');
  expect(await violations(page), '/login').toEqual([]);
  await page.getByLabel('Email').fill(ADMIN);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/test$/);
  await waitForHydration(page);

  // Loaded directly (server-rendered, then hydrated) ...
  const chart = page.locator('.chart-card, [data-testid="history-chart"]').first();
  const paths = [
    '/test',
    '/test/keys',
    '/test/sync',
    '/test/catalog',
    '/test/customers',
    '/test/subscriptions',
    '/test/history',
    '/test/webhooks',
    '/test/audit',
    '/test/subjects/team/acme',
    '/live',
    '/test/no-such-section',
  ];
  for (const path of paths) {
    await open(page, path, path.endsWith('no-such-section') ? 404 : 200);
    if (path === '/test/history') {
      await expect(chart).toBeVisible();
    }
    expect(await violations(page), path).toEqual([]);
  }

  // ... and reached by links, with data from server functions (fetch) where a page refetches
  // or changes something. Links are page loads (pages of islands have no router).
  await open(page, '/test/customers');
  await page.getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByTestId('figures')).toBeVisible();
  await page.getByRole('link', { name: 'Payment history' }).click();
  await expect(page).toHaveURL(/\/test\/history$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Payment history');
  await expect(chart).toBeVisible();
  await page.getByRole('link', { name: 'Catalog' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Catalog');

  // The catalog's copy buttons are handled by the WASM's `PageForms` (an inline `onclick` would
  // be blocked).
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const chip = page.locator('.catalog-id').first();
  const id = await chip.getByTestId('object-id').innerText();
  await chip.getByRole('button', { name: `Copy ${id}` }).click();
  await expect(chip.locator('.catalog-copy')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(id);

  // An interactive element works after hydration: the theme switch.
  const html = page.locator('html');
  const toggle = page.getByTestId('theme-toggle');
  const before = await toggle.getAttribute('aria-pressed');
  await toggle.click();
  await expect(html).toHaveAttribute('data-theme', before === 'true' ? 'light' : 'dark');
  await toggle.click();

  expect(await violations(page)).toEqual([]);
  expect(problems).toEqual([]);
});
