import { expect, test, ADMIN, open, signIn } from './fixtures';

// A page comes to life on the data the server rendered it with (issue #13). Its resources are
// read back from the page, so no server function runs while it hydrates: webhook events or a
// sync arriving between the server's render and the browser's cannot make the browser's first
// render differ from the HTML it hydrates (the webhooks page's mismatch, seen once).

const PAGES = ['/test/webhooks', '/test/keys', '/test/sync', '/test/users', '/test/api-keys', '/test/account',
  '/test/catalog/copy', '/test/catalog', '/test/history'];

test('every page hydrates without calling a server function', async ({ page }) => {
  await signIn(page, ADMIN);
  const calls: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith('/api/console/')) calls.push(path);
  });
  for (const path of PAGES) {
    calls.length = 0;
    await open(page, path);
    // Anything hydration set off has been sent by now.
    await page.waitForLoadState('networkidle');
    expect(calls, `${path} called the server while hydrating`).toEqual([]);
  }
});
