import { expect, test, type Page, PASSWORD, SUPPORT, waitForHydration, signIn, open } from './fixtures';

// A fresh demo shows the payments Stripe already held before the console connected (issue #11):
// `scripts/e2e.sh` starts `serve --demo`, whose first sync backfills the sandbox's demo history
// (paid invoices, one-time payments, a full and a partial refund) and imports its events. This
// file runs before any test that makes new payments (support.spec.ts renews subscriptions).

test.describe.configure({ timeout: 90_000 });

/// The CSV export of a view: its data rows, split into cells (no cell of the demo holds a comma).
async function csvRows(page: Page, query: string): Promise<string[][]> {
  const res = await page.request.get(`/export/test/payment-history.csv${query}`);
  expect(res.status()).toBe(200);
  const lines = (await res.text()).trim().split(/\r?\n/);
  expect(lines[0]).toMatch(/^date,type,status,amount,amount_refunded,/);
  return lines.slice(1).map((l) => l.split(','));
}

test('a fresh demo shows the payments, refunds and events Stripe already held', async ({ page }) => {
  await signIn(page, SUPPORT);

  // Payment history: rows with amounts, and a chart with bars, without any webhook having come.
  await open(page, '/test/history');
  const rows = page.getByTestId('history-row');
  await expect(rows.first()).toBeVisible();
  const shown = await rows.count();
  expect(shown).toBeGreaterThan(5);
  for (const amount of await rows.locator('td.num').first().allInnerTexts()) {
    expect(amount).toMatch(/\d/);
  }
  const types = await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-type')));
  for (const kind of ['subscription_invoice', 'one_time_payment', 'refund']) {
    expect(types).toContain(kind);
  }
  const chart = page.getByTestId('history-chart');
  await expect(chart).toBeVisible();
  expect(await chart.locator('rect').count()).toBeGreaterThan(0);
  await expect(page.getByTestId('status-breakdown')).toContainText('succeeded');
  await page.screenshot({ path: 'screenshots/test-history-backfilled.png', fullPage: true });

  // The export holds the same rows as the page.
  const all = await csvRows(page, '');
  expect(all.length).toBe(shown);
  expect(all.map((c) => c[1]).sort()).toEqual((types as string[]).sort());

  // The refunds: the demo's full refund and its partial one, each beside its original payment.
  await open(page, '/test/history?type=refund');
  await expect(rows).toHaveCount(2);
  const refunds = await csvRows(page, '?type=refund');
  expect(refunds).toHaveLength(2);
  for (const cells of refunds) {
    expect(cells[2]).toBe('refunded');
    expect(Number(cells[3])).toBeGreaterThan(0);
    expect(cells[15]).toMatch(/^re_/);
  }
  await open(page, '/test/history?type=one_time_payment&status=refunded');
  await expect(rows).toHaveCount(1);
  await open(page, '/test/history?status=partially_refunded');
  await expect(rows).toHaveCount(1);

  // A subject's page shows its payments and refunds (Linus bought twice once-off, and one of
  // the two was refunded).
  await open(page, '/test/subjects/user/99');
  await expect(page.getByTestId('subject-payments').getByTestId('history-row')).toHaveCount(2);
  await expect(page.getByTestId('subject-refunds').getByTestId('history-row')).toHaveCount(1);

  // The webhook log holds the events Stripe still had, handled.
  await open(page, '/test/webhooks?type=invoice.paid');
  const events = page.getByTestId('event-row');
  await expect(events.first()).toBeVisible();
  for (const status of await page.getByTestId('event-status').allInnerTexts()) {
    expect(status).toBe('processed');
  }
  await page.screenshot({ path: 'screenshots/test-webhooks-imported.png', fullPage: true });
});
