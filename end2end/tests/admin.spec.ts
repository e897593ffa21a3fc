import { expect, test, PASSWORD, ADMIN, SUPPORT, waitForHydration, signIn, open, sandboxUrl, stripeCreatesCustomer } from './fixtures';

// The Keys, Sync and Webhooks pages against the demo server (scripts/e2e.sh): the test
// environment is connected to the in-process Stripe sandbox with `sk_test_sandbox`, live has no key.
// Every test leaves that state as it found it, since console.spec.ts checks it afterwards.

test('an admin sees the masked key, gets client and server errors inline, removes and restores the key', async ({ page }) => {
  await signIn(page, ADMIN);
  await open(page, '/test/keys');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Keys');
  const card = page.getByTestId('key-card');
  await expect(card.getByTestId('masked-key')).toHaveText('sk_test_****dbox');
  await expect(card.getByTestId('connection-status')).toHaveText('connected');
  await expect(card.getByTestId('account-id')).toContainText('acct_');
  const input = page.getByLabel('Secret key', { exact: true });
  await expect(input).toHaveAttribute('type', 'password');
  await expect(input).toHaveAttribute('autocomplete', 'off');
  await page.screenshot({ path: 'screenshots/test-keys-connected.png', fullPage: true });

  // Wrong prefix: refused in the browser, under the field, nothing sent.
  await input.fill('sk_live_0123456789');
  await page.getByTestId('save-key').click();
  await expect(page.getByTestId('key-client-error')).toContainText('starts with sk_test_');
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('key-server-error')).toHaveCount(0);

  // The right prefix, but Stripe (the sandbox) refuses the key: its message, under the field.
  // Replacing a key is confirmed first.
  await input.fill('sk_test_');
  await page.getByTestId('save-key').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('replaces the mirrored catalog');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('key-client-error')).toHaveCount(0);
  await expect(page.getByTestId('key-server-error')).toContainText('Invalid API Key');
  await expect(page.getByTestId('toast-error').first()).toContainText('The key was not saved');
  await expect(card.getByTestId('masked-key')).toHaveText('sk_test_****dbox');
  await page.screenshot({ path: 'screenshots/test-keys-error.png', fullPage: true });

  // Removal says what stops working, and can be cancelled.
  await page.getByTestId('remove-key').click();
  const dialog = page.getByTestId('confirm-dialog');
  await expect(dialog).toContainText('Checkout, the customer portal, sync and webhooks of the test environment stop');
  await expect(dialog).toContainText('stay until a key for another Stripe account is set');
  await page.screenshot({ path: 'screenshots/test-keys-remove.png', fullPage: true });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(card.getByTestId('masked-key')).toHaveText('sk_test_****dbox');

  await page.getByTestId('remove-key').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('toast-success').first()).toContainText('Test key removed.');
  await expect(card.getByTestId('masked-key')).toHaveText('not set');
  await expect(page.getByTestId('remove-key')).toHaveCount(0);

  // Setting the sandbox key again restores the demo (same account: the mirror is kept). A first
  // key is confirmed too, with what it does; in demo mode the sandbox, not Stripe, is named.
  await expect(page.getByTestId('demo-key-notice')).toContainText('accepts any sk_test_ key');
  await input.fill('sk_test_sandbox');
  await page.getByTestId('save-key').click();
  const setDialog = page.getByTestId('confirm-dialog');
  await expect(setDialog).toContainText('Set the test key?');
  await expect(setDialog).toContainText('the offline sandbox accepts any sk_test_ key');
  await expect(setDialog).toContainText('creates its webhook endpoint');
  await expect(setDialog).toContainText('A first sync');
  await expect(setDialog).not.toContainText('Stripe checks the key');
  await page.screenshot({ path: 'screenshots/test-keys-set-confirm.png', fullPage: true });
  await setDialog.getByTestId('confirm-ok').click();
  // The page is read again: the toast says it was saved, the card shows the key masked.
  const saved = page.getByTestId('toast-success').filter({ hasText: 'Test key saved' });
  await expect(saved).toContainText('the offline sandbox accepted it');
  await expect(card.getByTestId('masked-key')).toHaveText('sk_test_****dbox');
  await expect(card.getByTestId('connection-status')).toHaveText('connected');
  await expect(input).toHaveValue('');
  // The key itself is never in the page.
  expect(await page.content()).not.toContain('sk_test_sandbox');
});

test('live-mode key writes ask to type live first', async ({ page }) => {
  await signIn(page, ADMIN);
  await open(page, '/live/keys');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Keys');
  await expect(page.getByTestId('key-card').getByTestId('masked-key')).toHaveText('not set');
  await expect(page.getByTestId('remove-key')).toHaveCount(0);
  const input = page.getByLabel('Secret key', { exact: true });
  await input.fill('sk_test_0123456789');
  await page.getByTestId('save-key').click();
  await expect(page.getByTestId('key-client-error')).toContainText('starts with sk_live_');

  await input.fill('sk_live_0123456789');
  await page.getByTestId('save-key').click();
  const dialog = page.getByTestId('confirm-dialog');
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId('confirm-ok')).toBeDisabled();
  await page.getByTestId('confirm-env').fill('test');
  await expect(page.getByTestId('confirm-ok')).toBeDisabled();
  await page.getByTestId('confirm-env').fill('live');
  await page.screenshot({ path: 'screenshots/live-keys-confirm.png', fullPage: true });
  await page.getByTestId('confirm-ok').click();
  // Demo mode's live sandbox takes any live key: connected, and shown masked only.
  await expect(page.getByTestId('key-card').getByTestId('masked-key')).toHaveText('sk_live_****6789');
  await expect(page.getByTestId('key-card').getByTestId('connection-status')).toHaveText('connected');
  await page.screenshot({ path: 'screenshots/live-keys.png', fullPage: true });
  // The webhook log's forms (the server's HTML, sent by the page's small island) ask for `live`
  // the same way; Escape leaves the change unsent.
  await open(page, '/live/webhooks');
  await page.getByTestId('configure-webhook').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('Configure the live webhook endpoint?');
  await expect(page.getByTestId('confirm-ok')).toBeDisabled();
  await page.getByTestId('confirm-env').fill('test');
  await expect(page.getByTestId('confirm-ok')).toBeDisabled();
  await page.getByTestId('confirm-env').fill('live');
  await expect(page.getByTestId('confirm-ok')).toBeEnabled();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('confirm-dialog')).toHaveCount(0);
  await open(page, '/live/keys');
  // Removing it asks for `live` too; the later specs start from an unconfigured live mode again.
  await page.getByTestId('remove-key').click();
  await expect(page.getByTestId('confirm-ok')).toBeDisabled();
  await page.getByTestId('confirm-env').fill('live');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('key-card').getByTestId('masked-key')).toHaveText('not set');
});

test('an admin syncs, watches the progress and sees the result; live asks to type live', async ({ page }) => {
  await signIn(page, ADMIN);
  const sandbox = await sandboxUrl(page);
  // Slow the sandbox down and make it answer one 429, so the running state can be seen.
  for (const fault of [
    { path_prefix: '/v1/customers', delay_ms: 1500, count: 2 },
    { path_prefix: '/v1/prices', status: 429, count: 1 },
  ]) {
    const res = await page.request.post(`${sandbox}/_sandbox/faults`, { data: fault });
    expect(res.ok()).toBeTruthy();
  }

  await open(page, '/test/sync');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sync');
  await expect(page.getByTestId('sync-last').getByTestId('sync-row-test')).toBeVisible();
  await page.getByTestId('sync-env').click();
  await expect(page.getByTestId('sync-env')).toBeDisabled();
  // While the form is out its progress section says so (a backend without progress shows its
  // bar by that, `src/pages/sync.rs`).
  await expect(page.locator('#sync-progress')).toHaveAttribute('data-sending', '');
  const panel = page.getByTestId('progress-test');
  await expect(panel.getByTestId('sync-state')).toHaveText('running');
  await expect(panel.getByTestId('progress-products').getByTestId('counts')).toContainText('fetched');
  await page.screenshot({ path: 'screenshots/test-sync-running.png', fullPage: true });

  const result = page.getByTestId('sync-result');
  await expect(result).toBeVisible({ timeout: 20_000 });
  const row = result.getByTestId('sync-row-test');
  await expect(row.getByTestId('sync-status')).toHaveText('succeeded');
  await expect(row.getByTestId('count-products')).toHaveText(/^[1-9]\d*$/);
  await expect(row.getByTestId('count-prices')).toHaveText(/^[1-9]\d*$/);
  await expect(row.getByTestId('count-customers')).toHaveText(/^[1-9]\d*$/);
  await expect(row.getByTestId('count-subscriptions')).toHaveText(/^\d+$/);
  await expect(row.getByTestId('count-unmapped')).toHaveText(/^\d+$/);
  await expect(page.getByTestId('toast-success').first()).toContainText('Sync finished.');
  await expect(page.locator('#sync-progress')).not.toHaveAttribute('data-sending');
  await expect(panel.getByTestId('sync-state')).toHaveText('finished');
  await expect(panel.getByTestId('stripe-requests')).toHaveText(/^[1-9]\d*$/);
  await expect(panel.getByTestId('rate-limit-backoffs')).toHaveText(/^[1-9]\d*$/);
  await page.screenshot({ path: 'screenshots/test-sync-result.png', fullPage: true });

  // Live: confirmed by typing `live`; without a key the failure is reported per environment.
  await open(page, '/live/sync');
  await page.getByTestId('sync-env').click();
  await expect(page.getByTestId('confirm-ok')).toBeDisabled();
  await page.getByTestId('confirm-env').fill('live');
  await page.getByTestId('confirm-ok').click();
  const liveRow = page.getByTestId('sync-result').getByTestId('sync-row-live');
  await expect(liveRow.getByTestId('sync-row-error')).toContainText('STRIPE_LIVE_SECRET_KEY is not configured');
  await expect(liveRow.getByTestId('sync-status')).not.toHaveText('succeeded');
  await expect(page.getByTestId('toast-error').first()).toContainText('Live');
  await page.screenshot({ path: 'screenshots/live-sync.png', fullPage: true });
});

test('the sync page follows a sync started elsewhere until it ends, then shows its result', async ({ page }) => {
  await signIn(page, ADMIN);
  const sandbox = await sandboxUrl(page);
  const res = await page.request.post(`${sandbox}/_sandbox/faults`, { data: { path_prefix: '/v1/customers', delay_ms: 2500, count: 1 } });
  expect(res.ok()).toBeTruthy();
  // Another tab's sync (or the CLI's): the page, opened while it runs, did not start it.
  const elsewhere = page.request.post('/api/console/sync-run', {
    headers: { origin: process.env.BASE_URL ?? '' },
    form: { environment: 'test', both: 'false' },
  });
  await expect
    .poll(async () => {
      const p = await page.request.post('/api/console/sync-progress', {
        headers: { origin: process.env.BASE_URL ?? '' },
        form: { environment: 'test', both: 'false' },
      });
      return (await p.json())[0]?.state;
    })
    .toBe('running');
  await open(page, '/test/sync');
  const panel = page.getByTestId('progress-test');
  await expect(panel.getByTestId('sync-state')).toHaveText('running');
  // Nothing clicked: the page reads its progress again until the sync has ended, then itself.
  await expect(panel.getByTestId('sync-state')).toHaveText('finished', { timeout: 20_000 });
  expect((await elsewhere).ok()).toBeTruthy();
  const row = page.getByTestId('sync-last').getByTestId('sync-row-test');
  await expect(row.getByTestId('sync-status')).toHaveText('succeeded');
  const synced = await row.locator('time').getAttribute('datetime');
  expect(Date.now() - Date.parse(synced!)).toBeLessThan(60_000);
  await expect(page.getByTestId('sync-env')).toBeEnabled();
});

test('webhooks: endpoint details, the event log with filters, re-processing', async ({ page }) => {
  await signIn(page, ADMIN);
  // Something happens in Stripe: the sandbox sends customer.created to the managed endpoint. Wait
  // until it is processed, so the page is not rendered while the log is still changing under it.
  const customer = await stripeCreatesCustomer(page, await sandboxUrl(page), 'webhook-e2e@example.com');

  await open(page, '/test/webhooks');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Webhooks');
  const endpoint = page.getByTestId('endpoint-card');
  await expect(endpoint.getByTestId('endpoint-id')).toHaveText(/^we_/);
  await expect(endpoint.getByTestId('endpoint-url')).toContainText('/api/webhooks/stripe/test');
  await expect(endpoint).toContainText('The managed set (21 event types)');
  await expect(endpoint).toContainText('invoice_payment.paid');

  const row = page.getByTestId('event-row').filter({ hasText: customer });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('event-type')).toHaveText('customer.created');
  await expect(row.getByTestId('event-status')).toHaveText('processed');
  const attempts = Number(await row.getByTestId('event-attempts').innerText());
  await page.screenshot({ path: 'screenshots/test-webhooks-events.png', fullPage: true });

  // Filters go into the URL.
  await page.getByLabel('Status', { exact: true }).selectOption('failed');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/\/test\/webhooks\?status=failed$/);
  await expect(row).toHaveCount(0);
  for (const status of await page.getByTestId('event-status').allInnerTexts()) {
    expect(status).toBe('failed');
  }
  await page.getByLabel('Status', { exact: true }).selectOption('');
  await page.getByLabel('Event type', { exact: true }).fill('customer.created');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/\/test\/webhooks\?type=customer\.created$/);
  await expect(row).toHaveCount(1);
  for (const type of await page.getByTestId('event-type').allInnerTexts()) {
    expect(type).toBe('customer.created');
  }
  // A pasted filtered URL shows the same view.
  await open(page, '/test/webhooks?type=invoice.paid');
  await expect(page.getByLabel('Event type', { exact: true })).toHaveValue('invoice.paid');
  await expect(row).toHaveCount(0);

  // An ignored event says why on its row, so support does not read it as a failure.
  await open(page, '/test/webhooks?status=ignored&type=payment_intent.succeeded');
  const ignored = page.getByTestId('event-row').first();
  await expect(ignored.getByTestId('event-status')).toHaveText('ignored');
  await expect(ignored.getByTestId('event-reason')).toContainText('Handled through invoice.paid or checkout.session.completed');
  await page.screenshot({ path: 'screenshots/test-webhooks-ignored.png', fullPage: true });

  // Re-process, confirmed: a toast, and the row shows one more attempt. The server rendered the
  // rows and the page renders the log it fetches afterwards: the row is there once, not twice.
  await open(page, '/test/webhooks?type=customer.created');
  await row.getByTestId('reprocess').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('Re-process evt_');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('toast-success').filter({ hasText: 're-processed' })).toBeVisible();
  await expect(row.getByTestId('event-attempts')).toHaveText(String(attempts + 1));
  await expect(row).toHaveCount(1);
  await expect(page.getByTestId('event-table')).toHaveCount(1);
  // The fetched log's buttons work as the server's did.
  await row.getByTestId('reprocess').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('Re-process evt_');
  await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Cancel' }).click();

  // Reconfiguring the endpoint is confirmed too.
  await endpoint.getByTestId('configure-webhook').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('Configure the test webhook endpoint?');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('toast-success').filter({ hasText: 'Webhook endpoint configured' })).toBeVisible();
  await expect(endpoint.getByTestId('endpoint-id')).toHaveText(/^we_/);
});

test('support reads the webhook log without controls, and is refused keys and sync', async ({ page }) => {
  await signIn(page, SUPPORT);
  await open(page, '/test/webhooks');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Webhooks');
  await expect(page.getByTestId('endpoint-card').getByTestId('endpoint-id')).toHaveText(/^we_/);
  await expect(page.getByTestId('event-table')).toBeVisible();
  await expect(page.getByTestId('event-row').first()).toBeVisible();
  await expect(page.getByTestId('configure-webhook')).toHaveCount(0);
  await expect(page.getByTestId('reprocess')).toHaveCount(0);
  await page.screenshot({ path: 'screenshots/support-webhooks.png', fullPage: true });
  // The page is the server's HTML (no editing island): its filters are a GET form, which the
  // page's small island sends without the empty ones.
  await expect(page.locator('leptos-island[data-component="StripePagesIsland"]')).toHaveCount(0);
  const status = (await page.getByTestId('event-row').first().getByTestId('event-status').textContent())?.trim();
  expect(status).toBeTruthy();
  await page.getByTestId('filter-status').selectOption(status!);
  await page.getByTestId('apply-filters').click();
  await expect(page).toHaveURL(new RegExp(`/test/webhooks\\?status=${status}$`));
  await expect(page.getByTestId('event-row').first()).toBeVisible();
  for (const badge of await page.getByTestId('event-status').all()) await expect(badge).toHaveText(status!);
  for (const slug of ['keys', 'sync']) {
    await open(page, `/test/${slug}`);
    await expect(page.getByTestId('forbidden')).toBeVisible();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Admins only');
    await expect(page.getByTestId('secret-key')).toHaveCount(0);
    await expect(page.getByTestId('sync-env')).toHaveCount(0);
  }
});

test('the sync table scrolls inside its own box at 1280 px, so its error column can be reached', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(page, ADMIN);
  await open(page, '/test/sync');
  const table = page.getByTestId('sync-last');
  await expect(table.getByTestId('sync-row-test')).toBeVisible();
  const box = page.locator('.sync-table-scroll');
  await expect(box).toHaveCount(1);
  // The box, not the page, is what scrolls: the page is no wider than the window, and the box
  // ends inside it.
  const pageOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(pageOverflow).toBeLessThanOrEqual(0);
  const { right, scrollable } = await box.evaluate((el) => ({
    right: el.getBoundingClientRect().right,
    scrollable: getComputedStyle(el).overflowX,
  }));
  expect(right).toBeLessThanOrEqual(1280);
  expect(scrollable).toBe('auto');
  // The error column can be brought into view, and an error wraps instead of widening the table.
  const errorHeader = table.getByRole('columnheader', { name: 'Error' });
  await errorHeader.scrollIntoViewIfNeeded();
  await expect(errorHeader).toBeInViewport();
  const wrap = await table.getByTestId('sync-row-error').first().evaluate((el) => getComputedStyle(el).overflowWrap);
  expect(wrap).toBe('anywhere');
  await page.screenshot({ path: 'screenshots/test-sync-table-1280.png', fullPage: true });
});

test("the webhook log's forms: a refused secret keeps the form, a saved one shows after the page is read again", async ({ page }) => {
  await signIn(page, ADMIN);
  await open(page, '/test/webhooks');
  // No editing island: the page's controls are forms the main module's small island sends.
  await expect(page.locator('leptos-island[data-component="StripePagesIsland"]')).toHaveCount(0);
  const form = page.getByTestId('forwarding-form');
  const secret = form.getByTestId('forwarding-secret');
  await expect(page.getByTestId('forwarding-secret-hint')).toHaveText('not set');

  // Checked in the browser first: empty, or not a signing secret at all, is never sent.
  await form.getByTestId('save-forwarding-secret').click();
  await expect(form.getByTestId('forwarding-client-error')).toContainText('Paste the signing secret');
  await secret.fill('sk_test_not_a_signing_secret');
  await form.getByTestId('save-forwarding-secret').click();
  await expect(form.getByTestId('forwarding-client-error')).toContainText('starts with whsec_');
  await expect(secret).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('confirm-dialog')).toHaveCount(0);

  // A secret the server refuses: confirmed, sent, refused in a toast and under the field; the
  // page stays as it was.
  await secret.fill('whsec_short');
  await form.getByTestId('save-forwarding-secret').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('Save the test forwarding secret?');
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('confirm-dialog')).toHaveCount(0);
  await expect(page.getByTestId('toast-error')).toContainText(/^The signing secret was not saved: .*whsec_ must be followed by/);
  await expect(form.getByTestId('forwarding-server-error')).toContainText('whsec_ must be followed by');
  await expect(secret).toHaveValue('whsec_short');
  await expect(form.getByTestId('save-forwarding-secret')).toBeEnabled();

  // A good one: the page is read again, says so, and shows the stored secret's hint.
  const good = `whsec_${'e2eForms'.repeat(4)}`;
  await secret.fill(good);
  await form.getByTestId('save-forwarding-secret').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('toast-success')).toContainText('Signing secret saved');
  await expect(page.getByTestId('forwarding-secret-hint')).toHaveText(`whsec_…${good.slice(-4)}`);
  await expect(page.getByTestId('forwarding-secret')).toHaveValue('');

  // Removing it is asked as a destructive change; Cancel leaves it.
  await page.getByTestId('remove-forwarding-secret').click();
  await expect(page.getByTestId('confirm-ok')).toHaveClass(/button-danger/);
  await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('confirm-dialog')).toHaveCount(0);
  await expect(page.getByTestId('forwarding-secret-hint')).toHaveText(`whsec_…${good.slice(-4)}`);
  await page.getByTestId('remove-forwarding-secret').click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('toast-success')).toContainText('Signing secret removed');
  await expect(page.getByTestId('forwarding-secret-hint')).toHaveText('not set');

  // The copy button of the Stripe CLI's command works on this server-rendered page too.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  const copy = page.getByTestId('copy-forwarding-command');
  await copy.click();
  await expect(copy).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('stripe listen --forward-to');
});
