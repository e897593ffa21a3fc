import { expect, test, type Page, PASSWORD, SUPPORT, waitForHydration, signIn, open } from './fixtures';
import { readFileSync } from 'node:fs';

// The support pages (customers, subscriptions, payment history, subject) as a support user sees
// them, against the demo sandbox that `scripts/e2e.sh` starts with `serve --demo`.

// Each test visits several server-rendered pages on a machine shared with builds.
test.describe.configure({ timeout: 90_000 });

/// Renews the active demo subscriptions in the sandbox, so that invoices are paid and the
/// payment history (filled from Stripe's webhooks) has rows.
async function renewActiveSubscriptions(page: Page) {
  // `page.request` is not a browser: it sends the cookie but no `Origin`, so it names the
  // console's, as the page's own requests do (cookie writes without one are refused).
  const info = await page.request.post('/api/console/instance', {
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: process.env.BASE_URL ?? '' },
    data: '',
  });
  expect(info.ok()).toBeTruthy();
  const sandbox = (await info.json()).demo_sandbox_url as string;
  expect(sandbox).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  await open(page, '/test/subscriptions?status=active&limit=100');
  const ids = await page.getByTestId('subscription-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
  expect(ids.length).toBeGreaterThan(0);
  for (const id of ids) {
    const res = await page.request.post(`${sandbox}/_sandbox/subscriptions/${id}/advance`, { data: {} });
    expect(res.ok()).toBeTruthy();
  }
}

test('support searches customers and pages through them with the cursor', async ({ page }) => {
  await signIn(page, SUPPORT);
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Customers', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Customers');
  const rows = page.getByTestId('customer-row');
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThan(3);

  await page.getByLabel('Search').fill('acme');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/\/test\/customers\?search=acme$/);
  await waitForHydration(page);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('billing@acme.test');
  await expect(page.getByLabel('Search')).toHaveValue('acme');
  await page.screenshot({ path: 'screenshots/test-customers.png', fullPage: true });

  // Two a page: the next page has other customers, the cursor is in the URL, and "First page"
  // goes back.
  await open(page, '/test/customers?limit=2');
  await expect(rows).toHaveCount(2);
  const firstPage = await rows.allTextContents();
  await page.getByTestId('next-page').click();
  await expect(page).toHaveURL(/limit=2&cursor=/);
  await expect.poll(async () => (await rows.allTextContents()).join('|')).not.toBe(firstPage.join('|'));
  await expect(rows).toHaveCount(2);
  const secondPage = await rows.allTextContents();
  await page.reload();
  await waitForHydration(page);
  expect(await rows.allTextContents()).toEqual(secondPage);
  await page.getByTestId('first-page').click();
  await expect(page).toHaveURL(/\/test\/customers\?limit=2$/);
  await expect.poll(async () => (await rows.allTextContents()).join('|')).toBe(firstPage.join('|'));
});

test('support filters subscriptions, expands items, opens a subscription and its subject', async ({ page }) => {
  await signIn(page, SUPPORT);
  await open(page, '/test/subscriptions');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Subscriptions');
  const rows = page.getByTestId('subscription-row');
  await expect(rows.first()).toBeVisible();
  const all = await rows.count();

  // Status filter: only active ones, in the URL, kept on reload.
  await page.getByLabel('Status').selectOption('active');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/status=active/);
  await waitForHydration(page);
  const statuses = await rows.getByTestId('status').allTextContents();
  expect(statuses.length).toBeGreaterThan(0);
  expect(statuses.length).toBeLessThan(all);
  expect(new Set(statuses)).toEqual(new Set(['active']));

  // Subject filter.
  await open(page, '/test/subscriptions');
  await page.getByLabel('Subject type').fill('team');
  await page.getByLabel('Subject id').fill('acme');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/subjectType=team&subjectId=acme/);
  await waitForHydration(page);
  await expect(rows).toHaveCount(1);
  await page.reload();
  await waitForHydration(page);
  await expect(rows).toHaveCount(1);
  await expect(page.getByLabel('Subject type')).toHaveValue('team');
  await expect(page.getByLabel('Subject id')).toHaveValue('acme');
  await expect(rows.first().getByTestId('subject-link')).toHaveText('team:acme');

  // Expanding the row shows its items.
  const items = rows.first().getByTestId('item-row');
  await expect(items.first()).toBeHidden();
  await rows.first().getByTestId('subscription-items').locator('summary').click();
  await expect(items.first()).toBeVisible();
  await expect(items.first()).toContainText('Pro');
  await page.screenshot({ path: 'screenshots/test-subscriptions.png', fullPage: true });

  // The detail page.
  const id = await rows.first().getAttribute('data-id');
  await rows.first().getByTestId('subscription-link').click();
  await expect(page).toHaveURL(new RegExp(`/test/subscriptions/${id}$`));
  const detail = page.getByTestId('subscription-detail');
  await expect(detail).toContainText('Status');
  await expect(detail.getByTestId('status')).toHaveText('active');
  await expect(detail.getByTestId('cancel-at-period-end')).toHaveText('no');
  await expect(page.getByTestId('item-row').first()).toContainText('Pro');
  await page.screenshot({ path: 'screenshots/test-subscription-detail.png', fullPage: true });

  // Its subject page.
  await detail.getByTestId('subject-link').click();
  await expect(page).toHaveURL(/\/test\/subjects\/team\/acme$/);
  await expect(page.getByTestId('subject-label')).toHaveText('team:acme');
  await expect(page.getByTestId('subscription-row')).toHaveCount(1);
  await expect(page.getByTestId('subscription-row').first()).toHaveAttribute('data-id', id ?? '');
  await expect(page.getByTestId('subject-customer')).toContainText('billing@acme.test');

  // Cursor paging of subscriptions, two a page.
  await open(page, '/test/subscriptions?limit=2');
  await expect(rows).toHaveCount(2);
  const first = await rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-id')));
  await page.getByTestId('next-page').click();
  await expect(page).toHaveURL(/limit=2&cursor=/);
  const ids = () => rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-id')));
  await expect.poll(async () => (await ids()).join('|')).not.toBe(first.join('|'));
  const second = await ids();
  expect(second.length).toBeGreaterThan(0);
  expect(second.some((x) => first.includes(x))).toBeFalsy();
});

test('payment history filters, charts and exports exactly the filtered view', async ({ page }) => {
  await signIn(page, SUPPORT);
  await renewActiveSubscriptions(page);

  await open(page, '/test/history');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Payment history');
  const rows = page.getByTestId('history-row');
  // The webhooks arrive shortly after the renewals.
  await expect(async () => {
    await page.reload();
    await waitForHydration(page);
    expect(await rows.count()).toBeGreaterThan(1);
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId('history-chart')).toBeVisible();
  await expect(page.getByTestId('status-breakdown')).toContainText('succeeded');

  await page.getByLabel('Subject type').fill('team');
  await page.getByLabel('Subject id').fill('acme');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/subjectType=team&subjectId=acme/);
  await waitForHydration(page);
  await expect(rows.first()).toBeVisible();
  const shown = await rows.count();
  const subjects = await rows.getByTestId('subject-link').allTextContents();
  expect(new Set(subjects)).toEqual(new Set(['team:acme']));
  await page.screenshot({ path: 'screenshots/test-history.png', fullPage: true });

  // The CSV is the same view: same rows, same subject.
  const csvLink = page.getByTestId('csv-export');
  await expect(csvLink).toHaveAttribute('href', /\/export\/test\/payment-history\.csv\?subjectType=team&subjectId=acme/);
  const [download] = await Promise.all([page.waitForEvent('download'), csvLink.click()]);
  const csv = readFileSync((await download.path()) as string, 'utf8');
  const lines = csv.trim().split(/\r?\n/);
  expect(lines[0]).toMatch(/^date,type,status,amount,/);
  expect(lines.length - 1).toBe(shown);
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    expect(cells[8]).toBe('team');
    expect(cells[9]).toBe('acme');
  }

  // A filter that matches nothing (Acme never had a failed one-time payment): an empty
  // table, a header-only CSV.
  await open(page, '/test/history?subjectType=team&subjectId=acme&type=failed_payment');
  await expect(page.getByTestId('history-table')).toContainText('No payments match.');
  const res = await page.request.get('/export/test/payment-history.csv?subjectType=team&subjectId=acme&type=failed_payment');
  expect(res.status()).toBe(200);
  expect((await res.text()).trim().split(/\r?\n/)).toHaveLength(1);

  // The subject page lists the payments too.
  await open(page, '/test/subjects/team/acme');
  await expect(page.getByTestId('subject-payments').getByTestId('history-row').first()).toBeVisible();
  await page.screenshot({ path: 'screenshots/test-subject.png', fullPage: true });
});
