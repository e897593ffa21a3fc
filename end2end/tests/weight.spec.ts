import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test, ADMIN, SUPPORT, open, signIn } from './fixtures';

// What the browser downloads (issue #13). Sizes are deterministic for a build, so the first
// load's budget is asserted; the other routes' extra downloads are reported.

/** The release build's site (scripts/e2e.sh serves it), where the precompressed copies are. */
const PKG = join(process.env.SITE_ROOT ?? join(__dirname, '..', '..', 'target', 'site'), 'pkg');

/** Notes every `/pkg/` JS and WASM file the page loads, by file name. */
function recordBundle(page: Page): Set<string> {
  const files = new Set<string>();
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (/^\/pkg\/[^/]+\.(js|wasm)$/.test(path)) files.add(path.slice('/pkg/'.length));
  });
  return files;
}

/** A file's size as gzip sends it: its `.gz` copy, or the file itself where none was worth making. */
function gzipBytes(file: string): number {
  const gz = join(PKG, `${file}.gz`);
  return statSync(existsSync(gz) ? gz : join(PKG, file)).size;
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

/**
 * The first load's budget, in gzip bytes: issue #13's 300 KB. The sign-in page and the overview
 * hydrate only their islands (`src/app.rs`, `Hydration`), so the first load is the main module
 * (Leptos's core and the islands) without the router or any page; the catalog's editors are a
 * chunk of their own, loaded only once one is opened. Sizes are deterministic for a build, so a change that grows
 * the first load past the budget fails here, not in a user's download.
 */
const FIRST_LOAD_BUDGET = 300_000;

test('the first load, sign-in then the overview, stays within its JS and WASM budget as gzip', async ({ page }) => {
  const files = recordBundle(page);
  await signIn(page, ADMIN);
  await page.waitForLoadState('networkidle');
  const sizes = [...files].map((f) => [f, gzipBytes(f)] as const);
  const total = sizes.reduce((sum, [, n]) => sum + n, 0);
  console.log(`first load: ${kb(total)} gzip\n${sizes.map(([f, n]) => `  ${kb(n).padStart(9)}  ${f}`).join('\n')}`);
  // The main module and its WASM at least (a test that saw nothing would pass for nothing).
  expect(sizes.some(([f]) => f.endsWith('.wasm'))).toBe(true);
  expect(sizes.some(([f]) => f.endsWith('.js'))).toBe(true);
  expect(total, sizes.map(([f, n]) => `${f} ${n}`).join(', ')).toBeLessThanOrEqual(FIRST_LOAD_BUDGET);
});

test('every other route reports what it downloads on top of the first load', async ({ page }) => {
  const files = recordBundle(page);
  await signIn(page, ADMIN);
  await page.waitForLoadState('networkidle');
  const seen = new Set(files);
  const lines: string[] = [];
  for (const path of ['/keys', '/sync', '/catalog', '/catalog?edit=new-product', '/catalog/copy', '/customers', '/search?q=acme', '/subscriptions',
    '/history', '/webhooks', '/audit', '/users', '/api-keys', '/account', '/subjects/team/acme']) {
    files.clear();
    // A full load that waits for hydration: a lazily loaded route hydrates once its chunk is in.
    await open(page, `/test${path}`);
    await page.waitForLoadState('networkidle');
    const extra = [...files].filter((f) => !seen.has(f));
    extra.forEach((f) => seen.add(f));
    lines.push(`  ${kb(extra.reduce((sum, f) => sum + gzipBytes(f), 0)).padStart(9)}  /test${path}`);
  }
  console.log(`extra download per route, in this order, gzip:\n${lines.join('\n')}`);
});

/** The split downloads a page starts with, as their own chunk's file name starts. */
const DOWNLOADS = ['split_hydrate_catalog_editor_'];

/**
 * Opens `path` and checks that it runs the downloads `expected` names (by their own chunk's
 * prefix) and no other, and preloads every chunk it runs; a page that runs none preloads none.
 */
async function expectDownloads(page: Page, files: Set<string>, path: string, expected: readonly string[]) {
  files.clear();
  await open(page, path);
  await page.waitForLoadState('networkidle');
  const chunks = [...files].filter((f) => f.endsWith('.wasm') && !f.startsWith('payments-console.'));
  const preloaded = await page
    .locator('link[rel="preload"][as="fetch"]')
    .evaluateAll((links) => links.map((l) => new URL((l as HTMLLinkElement).href).pathname.slice('/pkg/'.length)));
  // The chunks' loader comes first, on every page: the JS glue imports it, so nothing can start
  // before it has arrived, and behind the WebAssembly it waited for a free connection.
  const order = await page
    .locator('head link[rel="modulepreload"], head link[rel="preload"][as="fetch"]')
    .evaluateAll((links) => links.map((l) => new URL((l as HTMLLinkElement).href).pathname.slice('/pkg/'.length)));
  expect(order[0], `${path} preloads the chunks' loader first: ${order}`).toMatch(/^__wasm_split\./);
  for (const prefix of expected) expect(chunks.some((f) => f.startsWith(prefix)), `${path} loads ${prefix}…`).toBe(true);
  for (const chunk of chunks) expect(preloaded, `${path} preloads ${chunk}`).toContain(chunk);
  if (expected.length === 0) {
    expect(chunks, `${path} runs no chunk`).toEqual([]);
    expect(preloaded.filter((f) => !f.startsWith('payments-console.')), `${path} preloads no chunk`).toEqual([]);
  }
  for (const other of DOWNLOADS) {
    if (!expected.includes(other)) expect(chunks.some((f) => f.startsWith(other)), `${path} loads no ${other}…`).toBe(false);
  }
}

test('a page preloads every chunk it runs and no other: the editors on a catalog editing, none on a list, the payments or the editing pages', async ({ page }) => {
  const files = recordBundle(page);
  await signIn(page, ADMIN);
  // The catalog with an editor open downloads the editors (their chunk, `src/pages/lazy.rs`);
  // the catalog itself no chunk at all, and nor do the customer list, the payment history with
  // its refund forms (their island is in the main module), or the other editing pages (Keys,
  // Sync, the webhook log, copying the catalog, Users, API keys and the account), whose controls
  // are forms the main module's `PageForms` sends, or a page not found.
  for (const [path, expected] of [
    ['/test/catalog?edit=new-product', ['split_hydrate_catalog_editor_']],
    ['/test/catalog', []],
    ['/test/sync', []],
    ['/test/catalog/copy', []],
    ['/test/keys', []],
    ['/test/users', []],
    ['/test/api-keys', []],
    ['/test/account', []],
    ['/test/customers', []],
    ['/test/history', []],
    ['/test/webhooks', []],
    // A page not found hydrates its frame's islands only (the whole app, router included, before).
    ['/test/no-such-section', []],
  ] as const) {
    await expectDownloads(page, files, path, expected);
  }
});

test('support staff download no admin page and no refund form, nor anything for their account', async ({ page }) => {
  const files = recordBundle(page);
  await signIn(page, SUPPORT);
  // The admins' pages tell them they are for admins; a payment's row offers them no refund; the
  // webhook log and their account are the server's HTML.
  for (const [path, expected] of [
    ['/test/keys', []],
    ['/test/users', []],
    ['/test/history', []],
    ['/test/webhooks', []],
    ['/test/account', []],
    // No editor is open for them: the catalog is theirs to read.
    ['/test/catalog?edit=new-product', []],
  ] as const) {
    await expectDownloads(page, files, path, expected);
  }
});
