import { expect, test, type Page, PASSWORD, ADMIN } from './fixtures';

// A second console started by scripts/e2e.sh with `--backend <first console> --backend-api-key ik_…`:
// everything it shows and changes goes over HTTP to the first console's InsForge-compatible API.
const REMOTE = process.env.REMOTE_BASE_URL ?? '';

async function signInRemote(page: Page) {
  await page.goto(`${REMOTE}/login`);
  await page.locator('body[data-hydrated="true"]').waitFor();
  await page.getByLabel('Email').fill(ADMIN);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(new RegExp(`^${REMOTE}/test`));
  await page.locator('body[data-hydrated="true"]').waitFor();
}

test('a console in remote mode shows and changes the remote backend', async ({ page, request }) => {
  test.setTimeout(60_000);
  test.skip(!REMOTE, 'REMOTE_BASE_URL is not set');
  await signInRemote(page);
  await expect(page.getByTestId('remote-notice')).toContainText(process.env.BASE_URL ?? '');
  // The first console's demo connection, read through the remote backend.
  await expect(page.getByText('sk_test_****dbox').first()).toBeVisible();
  await page.screenshot({ path: 'screenshots/remote-overview.png', fullPage: true });

  // The catalog comes from the first console's mirror.
  await page.goto(`${REMOTE}/test/catalog`);
  await page.locator('body[data-hydrated="true"]').waitFor();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Catalog');
  const primary = await request.get(`${process.env.BASE_URL}/api/payments/test/catalog/products`, {
    headers: { 'x-api-key': process.env.E2E_API_KEY ?? '' },
  });
  expect(primary.status()).toBe(200);
  const { products } = await primary.json();
  const name: string = products.find((p: { active: boolean }) => p.active).name;
  await expect(page.getByText(name).first()).toBeVisible();
  await page.screenshot({ path: 'screenshots/remote-catalog.png', fullPage: true });

  // A product created here is created there: the remote console wrote through the API.
  const created = `Remote gadget ${Date.now().toString(36)}`;
  await page.getByTestId('new-product').click();
  const form = page.getByTestId('product-form');
  await form.getByLabel(/^Name/).fill(created);
  await form.getByTestId('save-product').click();
  await expect(page.getByTestId('toast-success').filter({ hasText: created })).toBeVisible();
  const after = await request.get(`${process.env.BASE_URL}/api/payments/test/catalog/products`, {
    headers: { 'x-api-key': process.env.E2E_API_KEY ?? '' },
  });
  const listed: { name: string }[] = (await after.json()).products;
  expect(listed.map((p) => p.name)).toContain(created);
});

// The remote console streams its pages in order (`streamed_in_order`, src/server/http.rs): each
// must hydrate from the streamed HTML as from a whole one, without an error, and stay usable.
test('the remote console streams its pages, and each hydrates without an error', async ({ page }) => {
  test.setTimeout(60_000);
  test.skip(!REMOTE, 'REMOTE_BASE_URL is not set');
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A panic while hydrating is logged as a console error, then thrown. (A server function's error
  // status, as for the sync progress the remote backend lacks, is the browser's own line: not ours.)
  page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && errors.push(m.text()));
  await signInRemote(page);
  for (const path of ['/test', '/test/keys', '/test/sync', '/test/customers', '/test/subscriptions', '/test/history',
    '/test/webhooks', '/test/users', '/test/account']) {
    await page.goto(`${REMOTE}${path}`);
    await page.locator('body[data-hydrated="true"]').waitFor();
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  }
  // An island of the last streamed page acts: the theme switch.
  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', /.+/);
  expect(errors, errors.join('\n')).toEqual([]);
});
