import { expect, test, type Page, ADMIN, SUPPORT, signIn, open, waitForHydration } from './fixtures';

// Copy the catalog from test to live (issue #14), against demo mode's empty live sandbox. The
// spec connects live mode first and disconnects it at the end: the specs after it, like those
// before, expect live mode without a key.

/** Sets or removes the live key on the live Keys page, typing `live` to confirm. */
async function liveKey(page: Page, key: string | null) {
  await open(page, '/live/keys');
  if (key) {
    await page.getByLabel('Secret key', { exact: true }).fill(key);
    await page.getByTestId('save-key').click();
  } else {
    await page.getByTestId('remove-key').click();
  }
  await page.getByTestId('confirm-env').fill('live');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('key-card').getByTestId('masked-key')).toHaveText(key ? /^sk_live_\*{4}/ : 'not set');
}

test('an admin previews the copy, confirms with live, gets a report, and a re-run changes nothing', async ({ page, browser }) => {
  test.setTimeout(120_000);
  await signIn(page, ADMIN);
  await liveKey(page, 'sk_live_copycheck01');
  try {
    await open(page, '/test/catalog');
    await page.getByTestId('copy-to-live').click();
    await expect(page).toHaveURL(/\/test\/catalog\/copy$/);
    await open(page, '/test/catalog/copy');
    await page.getByTestId('copy-all').check();
    // "All" ticks every product (the page's forms island), and the preview is the server's, of
    // the chosen products in the address.
    const boxes = page.getByTestId('copy-product');
    expect(await boxes.count()).toBeGreaterThan(1);
    for (const box of await boxes.all()) await expect(box).toBeChecked();
    await boxes.first().uncheck();
    await expect(page.getByTestId('copy-all')).not.toBeChecked();
    await boxes.first().check();
    await expect(page.getByTestId('copy-all')).toBeChecked();
    await page.getByTestId('copy-preview').click();
    await expect(page).toHaveURL(/\/test\/catalog\/copy\?preview=1&all=1&product=/);
    const plan = page.getByTestId('copy-plan');
    await expect(plan).toBeVisible();
    await waitForHydration(page);
    await expect(page.getByTestId('copy-summary')).toContainText(/[1-9]\d* to create/);
    await expect(plan.locator('[data-kind="price"]').first()).toBeVisible();
    // Archived test prices never copied (the catalog spec archived some) stay behind, said so.
    const notCopied = await plan.getByTestId('copy-change').filter({ hasText: 'Not copied' }).count();
    await page.screenshot({ path: 'screenshots/test-catalog-copy-preview.png', fullPage: true });

    // Nothing happens until `live` is typed.
    await expect(page.getByTestId('copy-run')).toBeDisabled();
    await page.getByTestId('copy-confirm').fill('test');
    await expect(page.getByTestId('copy-run')).toBeDisabled();
    await page.getByTestId('copy-confirm').fill('live');
    await page.getByTestId('copy-run').click();
    const report = page.getByTestId('copy-report');
    await expect(report).toBeVisible({ timeout: 60_000 });
    // Shown in place of the page read again, whose preview now finds live in step.
    await expect(page.getByTestId('copy-report-card')).toBeFocused();
    await expect(page.getByTestId('copy-nothing')).toBeVisible();
    await expect(page.getByTestId('copy-report-summary')).toContainText(/^[1-9]\d* done, 0 refused, \d+ skipped, \d+ unchanged\.$/);
    const outcomes = await page.getByTestId('copy-outcome').allInnerTexts();
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'Refused')).toEqual([]);
    expect(outcomes.filter((o) => o === 'Skipped').length).toBe(notCopied);
    expect(outcomes.filter((o) => o === 'Done').length).toBeGreaterThan(0);
    await page.screenshot({ path: 'screenshots/test-catalog-copy-report.png', fullPage: true });

    // A second preview finds live in step with test.
    await open(page, '/test/catalog/copy');
    await page.getByTestId('copy-all').check();
    await page.getByTestId('copy-preview').click();
    await expect(page.getByTestId('copy-nothing')).toBeVisible();
    await expect(page.getByTestId('copy-summary')).toContainText('0 to create, 0 to update, 0 to replace');

    // Support staff are refused the page and see no button.
    const context = await browser.newContext();
    const support = await context.newPage();
    await signIn(support, SUPPORT);
    await open(support, '/test/catalog');
    await expect(support.getByTestId('copy-to-live')).toHaveCount(0);
    await support.goto('/test/catalog/copy');
    await expect(support.getByTestId('forbidden')).toBeVisible();
    await context.close();
  } finally {
    await liveKey(page, null);
  }
});
