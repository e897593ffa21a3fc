import { expect, test, SUPPORT, signIn, open } from './fixtures';

// The overview's figures (issue #14): what a support agent or admin opens first.

test('the overview shows MRR, payments, failures and the status mix, each linking to its rows', async ({ page }) => {
  await signIn(page, SUPPORT);
  const figures = page.getByTestId('figures');
  await expect(figures).toBeVisible();
  // The demo's subscriptions are priced in one currency at least.
  await expect(page.getByTestId('kpi-mrr').locator('[data-currency]').first()).toBeVisible();
  await expect(page.getByTestId('kpi-subscriptions')).toContainText('active');
  await expect(page.getByTestId('subscription-mix').locator('li').first()).toBeVisible();
  await expect(page.getByTestId('overview-chart')).toBeVisible();
  await page.screenshot({ path: 'screenshots/test-overview-figures.png', fullPage: true });

  // A figure leads to its rows.
  await page.getByTestId('kpi-failed').getByRole('link').click();
  // The last 7 days' failures: the history from the window's first day on.
  await expect(page).toHaveURL(/\/test\/history\?status=failed&from=\d{4}-\d{2}-\d{2}$/);
  await open(page, '/test');
  await page.getByTestId('subscription-mix').locator('li[data-status="active"] a').click();
  await expect(page).toHaveURL(/\/test\/subscriptions\?status=active$/);
  await expect(page.getByTestId('subscription-mix')).toBeVisible();
});
