import { expect, test, type Page, ADMIN, open, sandboxUrl, signIn, stripeCreatesCustomer, waitForHydration } from './fixtures';

// A page comes to life on the data the server rendered it with (issue #13). Its resources are
// read back from the page, so no server function runs while it hydrates: webhook events or a
// sync arriving between the server's render and the browser's cannot make the browser's first
// render differ from the HTML it hydrates. (The webhook log's mismatch, seen once, came from
// inside the server's render: it built the page three times and sent one read's data beside
// another's HTML. Its rows are now the server's HTML, which the island does not hydrate;
// `tests/integration/admin_pages.rs` checks that with events arriving.)

/** Notes the path of every server function the page calls, from now on. */
function serverCalls(page: Page): string[] {
  const calls: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith('/api/console/')) calls.push(path);
  });
  return calls;
}

const PAGES = ['/test/webhooks', '/test/keys', '/test/sync', '/test/users', '/test/api-keys', '/test/account',
  '/test/catalog/copy', '/test/catalog', '/test/catalog?edit=new-product', '/test/history'];

test('every page hydrates without calling a server function', async ({ page }) => {
  await signIn(page, ADMIN);
  const calls = serverCalls(page);
  for (const path of PAGES) {
    calls.length = 0;
    await open(page, path);
    // Anything hydration set off has been sent by now.
    await page.waitForLoadState('networkidle');
    expect(calls, `${path} called the server while hydrating`).toEqual([]);
  }
});

/** The `data-event-id`s of the event log's rows in a page's HTML. */
function eventIdsIn(html: string): string[] {
  return [...html.matchAll(/data-event-id="(evt_[^"]+)"/g)].map((m) => m[1]);
}

test('an event that arrives between the server render and hydration changes nothing the browser hydrates', async ({ page }) => {
  await signIn(page, ADMIN);
  const sandbox = await sandboxUrl(page);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  const calls = serverCalls(page);

  // The race, made certain: the server renders the log, then Stripe sends an event and the
  // console processes it, and only then does the browser receive the (now stale) page.
  let rendered: string[] = [];
  let arrived = '';
  await page.route(/\/test\/webhooks$/, async (route) => {
    const response = await route.fetch();
    const html = await response.text();
    rendered = eventIdsIn(html);
    const before = calls.length;
    arrived = await stripeCreatesCustomer(page, sandbox, `hydration-race-${Date.now()}@example.com`);
    calls.splice(before); // the helper's own reads of the log, not the page's
    await route.fulfill({ response, body: html });
  });
  await page.goto('/test/webhooks');
  await waitForHydration(page);
  await page.unrouteAll();
  await page.waitForLoadState('networkidle');

  expect(rendered.length, 'the server rendered a page of events').toBeGreaterThan(0);
  // Hydrated on the server's snapshot: the same rows, no fetch, nothing reported.
  const hydrated = await page.getByTestId('event-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-id')));
  expect(hydrated).toEqual(rendered);
  expect(calls, 'the page called the server while hydrating').toEqual([]);
  expect(errors).toEqual([]);
  // And it is alive: a row's control opens its confirmation.
  await page.getByTestId('event-row').first().getByTestId('reprocess').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText(`Re-process ${rendered[0]}`);
  await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('confirm-dialog')).toHaveCount(0);

  // The event did arrive (the premise): a new render of the log has it.
  await open(page, '/test/webhooks?type=customer.created');
  await expect(page.getByTestId('event-row').filter({ hasText: arrived })).toHaveCount(1);
});
