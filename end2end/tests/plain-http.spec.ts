import { expect, test, ADMIN, signIn, openAcme } from './fixtures';
import config from '../playwright.config';

// A console reached over plain HTTP at another host name than this machine's (a LAN address,
// say) is no secure context: the browser has no `crypto.randomUUID` there. The refund forms'
// island (`src/pages/refund.rs`) then leaves the idempotency key to the server, as a form posted
// without JavaScript does; it used to call it anyway, which threw out of the submit handler
// after it had stopped the browser's own submit, so nothing happened at all.
//
// The host name resolves to the suite's server on the loopback (Chromium's resolver rules), so
// nothing leaves this machine. A file of its own: the browser's flags are per worker.
test.use({
  baseURL: `http://console.test:${new URL(process.env.BASE_URL ?? '').port}`,
  launchOptions: {
    ...config.use?.launchOptions,
    args: [...(config.use?.launchOptions?.args ?? []), '--host-resolver-rules=MAP console.test 127.0.0.1'],
  },
});

test('over plain HTTP at another host name, an admin still refunds in place, keyed by the server', async ({ page }) => {
  await signIn(page, ADMIN);
  expect(await page.evaluate(() => window.isSecureContext), 'the premise: no secure context').toBe(false);
  await openAcme(page);
  const payments = page.getByTestId('customer-payments');
  await payments.getByTestId('refund-open').first().click();
  const form = payments.getByTestId('refund-form').first();
  await expect(form.locator('input[name="form[idempotency_key]"]')).toHaveValue('');
  await form.getByTestId('refund-amount').fill('0.50');
  const url = page.url();
  await form.getByTestId('refund-submit').click();
  await expect(form.getByTestId('refund-done')).toContainText('Refunded $0.50');
  expect(page.url()).toBe(url);
});
