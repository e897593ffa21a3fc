import { expect, test, type Page, PASSWORD, ADMIN, SUPPORT, waitForHydration, signIn, openAcme } from './fixtures';

// Support's power tools (issue #15): the customer page, the header search for every kind of id,
// and refunds by admins, against the demo sandbox that `scripts/e2e.sh` starts.

test.describe.configure({ timeout: 120_000 });

/// Types into the header's search box, focused with its `/` shortcut, and submits.
async function search(page: Page, query: string) {
  // Nothing focused (the shortcut leaves fields alone while someone types in them).
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('/');
  const box = page.getByTestId('console-search');
  await expect(box).toBeFocused();
  await box.fill(query);
  // A plain GET form: submitting loads a new document, whose URL can be the one shown already
  // (the customer whose page is open). Wait for it to load and hydrate, or the next `/` lands
  // on the page being replaced, before its shortcut exists.
  const loaded = page.waitForEvent('load');
  await box.press('Enter');
  await loaded;
  await waitForHydration(page);
}

test('support opens a customer and finds every kind of id from the header', async ({ page }) => {
  await signIn(page, SUPPORT);
  const customer = await openAcme(page);
  await expect(page.getByTestId('customer-heading')).toContainText('Acme');
  const identity = page.getByTestId('customer-identity');
  await expect(identity).toContainText('billing@acme.test');
  await expect(page.getByTestId('customer-card')).toContainText(/•••• \d{4}, expires \d{2}\/\d{4}/);
  await expect(page.getByTestId('customer-subjects').getByRole('link', { name: 'team:acme' })).toBeVisible();
  await expect(page.getByTestId('stripe-link')).toHaveAttribute('href', `https://dashboard.stripe.com/test/customers/${customer}`);
  await expect(page.getByTestId('subscriptions-table')).toBeVisible();
  await expect(page.getByTestId('customer-payments').getByTestId('history-row').first()).toBeVisible();
  // Support sees no refund control.
  await expect(page.getByTestId('refund-open')).toHaveCount(0);
  await page.screenshot({ path: 'screenshots/test-customer.png', fullPage: true });

  // The ids this page shows, each searched for from the header.
  const subscription = await page.getByTestId('subscription-row').first().getAttribute('data-id');
  const invoice = (await page.getByTestId('customer-payments').locator('code').allTextContents()).find((t) => t.startsWith('in_'));
  expect(subscription).toMatch(/^sub_/);
  expect(invoice).toMatch(/^in_/);

  await search(page, customer);
  await expect(page).toHaveURL(new RegExp(`/test/customers/${customer}$`));
  await search(page, 'billing@acme.test');
  await expect(page).toHaveURL(new RegExp(`/test/customers/${customer}$`));
  await search(page, 'team:acme');
  await expect(page).toHaveURL(/\/test\/subjects\/team\/acme$/);
  await search(page, subscription ?? '');
  await expect(page).toHaveURL(new RegExp(`/test/subscriptions/${subscription}$`));
  await search(page, invoice ?? '');
  await expect(page).toHaveURL(new RegExp(`/test/history\\?object=${invoice}$`));
  await waitForHydration(page);
  await expect(page.getByTestId('history-table').getByTestId('history-row')).toHaveCount(1);
  await page.screenshot({ path: 'screenshots/test-search-invoice.png', fullPage: true });

  await page.goto('/test/webhooks');
  await waitForHydration(page);
  const event = await page.getByTestId('event-row').first().getAttribute('data-event-id');
  await search(page, event ?? '');
  await expect(page).toHaveURL(new RegExp(`/test/webhooks\\?id=${event}$`));
  await waitForHydration(page);
  await expect(page.getByTestId('event-row')).toHaveCount(1);

  await page.goto('/test/catalog');
  await waitForHydration(page);
  const product = (await page.locator('code').allTextContents()).find((t) => t.startsWith('prod_'));
  expect(product).toMatch(/^prod_/);
  await search(page, product ?? '');
  await expect(page).toHaveURL(new RegExp(`/test/catalog\\?product=${product}$`));
  // The expanded product lists its prices; a price's id opens that same product.
  await waitForHydration(page);
  const price = (await page.locator('code').allTextContents()).find((t) => t.startsWith('price_'));
  expect(price).toMatch(/^price_/);
  await search(page, price ?? '');
  await expect(page).toHaveURL(/\/test\/catalog\?product=prod_/);
  // A page load: the shortcut works once the page has hydrated.
  await waitForHydration(page);

  // Ctrl-K focuses the box as well; free text lists matches by kind.
  await page.keyboard.press('Control+k');
  await expect(page.getByTestId('console-search')).toBeFocused();
  await page.getByTestId('console-search').fill('acme');
  await page.getByTestId('console-search').press('Enter');
  await expect(page).toHaveURL(/\/test\/search\?q=acme$/);
  await expect(page.getByTestId('search-customers')).toContainText('billing@acme.test');
  await expect(page.getByTestId('console-search')).toHaveValue('acme');
  await page.screenshot({ path: 'screenshots/test-search-text.png', fullPage: true });

  // The server refuses a refund from support, whatever the page shows.
  const refused = await page.request.post('/api/console/admin-refund', {
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: process.env.BASE_URL ?? '' },
    data: 'env=test&form[payment_intent_id]=pi_x&form[currency]=usd&form[amount]=1&form[reason]=duplicate',
  });
  expect(refused.status()).toBe(403);
});

test('an admin refunds part of a payment from the customer page', async ({ page }) => {
  await signIn(page, ADMIN);
  await openAcme(page);
  const payments = page.getByTestId('customer-payments');
  const control = payments.getByTestId('refund-open').first();
  await expect(control).toBeVisible();
  await control.click();
  const form = payments.getByTestId('refund-form').first();
  // Opening the form gives it a fresh idempotency key (the table's island, `src/pages/refund.rs`).
  const key = form.locator('input[name="form[idempotency_key]"]');
  await expect(key).toHaveValue(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const opened = await key.inputValue();
  await form.getByTestId('refund-amount').fill('1.00');
  await form.getByTestId('refund-reason').selectOption('duplicate');
  await page.screenshot({ path: 'screenshots/test-refund-form.png', fullPage: true });
  const url = page.url();
  await form.getByTestId('refund-submit').click();
  await expect(form.getByTestId('refund-done')).toContainText('Refunded $1.00');
  // Submitted in place: the page did not move, and the button is back.
  expect(page.url()).toBe(url);
  await expect(form.getByTestId('refund-submit')).toHaveText('Refund');
  await expect(form.getByTestId('refund-submit')).toBeEnabled();
  const made = (await form.getByTestId('refund-done').textContent())?.match(/\((re_[A-Za-z0-9]+),/)?.[1];
  expect(made).toMatch(/^re_/);
  // Sent again from the same opened form, it refunds nothing more: the same key, the same refund.
  await form.getByTestId('refund-done').evaluate((el) => el.remove());
  await form.getByTestId('refund-submit').click();
  await expect(form.getByTestId('refund-done')).toContainText(`(${made},`);
  expect(await key.inputValue()).toBe(opened);
  // Closed and opened again, the form is a new request with a new key.
  await control.click();
  await control.click();
  await expect(key).not.toHaveValue(opened);
  await expect(key).not.toHaveValue('');

  // Stripe's event updates the history: the payment's own view lists the refund.
  await form.getByRole('link', { name: "this payment's history" }).click();
  await expect(page).toHaveURL(/\/test\/history\?object=pi_/);
  await expect
    .poll(async () => {
      await page.reload();
      return page.locator('[data-testid="history-row"][data-type="refund"]').count();
    })
    .toBeGreaterThan(0);
  await page.screenshot({ path: 'screenshots/test-refund-history.png', fullPage: true });

  // More than is left: Stripe's message, on the form.
  await waitForHydration(page);
  const again = page.getByTestId('history-table').getByTestId('refund-open').first();
  await again.click();
  const second = page.getByTestId('refund-form').first();
  await second.getByTestId('refund-amount').fill('99999');
  await second.getByTestId('refund-submit').click();
  await expect(second.getByTestId('refund-error')).toContainText('greater than');
});

test('without JavaScript, a row\'s refund link opens its form, which refunds', async ({ page, browser, baseURL }) => {
  await signIn(page, ADMIN);
  const plain = await browser.newContext({ baseURL, javaScriptEnabled: false, storageState: await page.context().storageState() });
  const tab = await plain.newPage();
  await tab.goto('/test/history?type=one_time_payment');
  const table = tab.getByTestId('history-table');
  // The table's one form is a template: nothing of it shows, and no row has a form until asked.
  await expect(table.getByTestId('refund-form')).toHaveCount(0);
  const link = table.getByTestId('refund-open').first();
  const pi = await link.getAttribute('data-pi');
  expect(pi).toMatch(/^pi_/);
  await link.click();
  // A page load: the address names the row, the filters kept.
  await expect(tab).toHaveURL(new RegExp(`/test/history\\?type=one_time_payment&refund=${pi}$`));
  const form = table.getByTestId('refund-form');
  await expect(form).toHaveCount(1);
  await expect(form).toBeVisible();
  await expect(form.locator('input[name="form[payment_intent_id]"]')).toHaveValue(pi ?? '');
  await expect(form.getByTestId('refund-amount')).toHaveValue(/^\d+\.\d{2}$/);
  await expect(form.getByTestId('refund-cancel')).toHaveAttribute('href', '/test/history?type=one_time_payment');
  await expect(table.locator(`[data-testid="refund-open"][data-pi="${pi}"]`)).toHaveAttribute('aria-expanded', 'true');
  await form.getByTestId('refund-amount').fill('0.25');
  await form.getByTestId('refund-submit').click();
  // Posted as a plain form: the refund is made (the server keyed it), and Stripe's event shows it.
  await expect
    .poll(async () => {
      await tab.goto(`/test/history?object=${pi}`);
      return tab.locator('[data-testid="history-row"][data-type="refund"]').count();
    })
    .toBeGreaterThan(0);
  await plain.close();
});
