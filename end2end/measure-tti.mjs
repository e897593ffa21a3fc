// Cold time to interactive of every console page, and the JS and WASM it downloads (issue #13),
// measured in Debian's Chromium against the running release build (scripts/e2e.sh runs it after
// the suite). A benchmark, not a test: it reports, it does not judge.
//
// Each sample is a new browser context (an empty cache, the signed-in session's cookies only) on
// a slow link emulated through the Chrome DevTools Protocol: 10 Mbit/s down and up, 40 ms round
// trips, the CPU slowed 4x. Time to interactive = from navigation start until the route has
// hydrated (`body[data-hydrated="true"]`, set once its handlers are attached: `src/ui/hydrated.rs`).
// Bytes = what crossed the wire for the page's `/pkg/` JS and WASM (compressed, as sent), so a
// page whose code is a lazily loaded chunk shows that chunk on top of the shared files.
//
// Environment: BASE_URL, E2E_ADMIN_EMAIL, E2E_PASSWORD (scripts/e2e.sh sets them); TTI_RUNS
// (default 5); TTI_SLOW=0 measures on the unthrottled loopback instead; TTI_PAGES measures only
// the pages it lists, as the report names them (`TTI_PAGES=/test/webhooks,/test/sync`).
import { chromium } from '@playwright/test';
import { writeFileSync } from 'node:fs';

const base = process.env.BASE_URL;
const runs = Number(process.env.TTI_RUNS ?? 5);
const slow = process.env.TTI_SLOW !== '0';
const pages = ['', '/keys', '/sync', '/catalog', '/catalog/copy', '/customers', '/search?q=acme', '/subscriptions',
  '/history', '/webhooks', '/audit', '/users', '/api-keys', '/account', '/subjects/team/acme'];

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });

// Signs in once, unthrottled; every sample reuses the session's cookies and nothing else.
const setup = await browser.newContext();
const first = await setup.newPage();
await first.goto(`${base}/login`);
await first.locator('body[data-hydrated="true"]').waitFor();
await first.getByLabel('Email').fill(process.env.E2E_ADMIN_EMAIL);
await first.getByLabel('Password').fill(process.env.E2E_PASSWORD);
await first.getByRole('button', { name: 'Sign in' }).click();
await first.waitForURL(/\/test/);
// The detail pages, reached the way a user would: the first row of their list.
for (const [list, detail] of [['/customers', /\/test\/customers\/[^/?]+$/], ['/subscriptions', /\/test\/subscriptions\/[^/?]+$/]]) {
  await first.goto(`${base}/test${list}`);
  const hrefs = await first.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  const href = hrefs.find((h) => h && detail.test(h));
  if (href) pages.push(href.replace(/^\/test/, ''));
}
const session = await setup.storageState();
await setup.close();

/** One cold load of `url`: milliseconds to interactive and bytes of JS and WASM received. */
async function sample(url, signedIn) {
  const context = await browser.newContext(signedIn ? { storageState: session } : {});
  await context.addInitScript(() => {
    // Notes the moment hydration marks the body, before any test code can observe it.
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === 'true') {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  if (slow) {
    const bytesPerSecond = (10 * 1000 * 1000) / 8;
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 40,
      downloadThroughput: bytesPerSecond,
      uploadThroughput: bytesPerSecond,
    });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  }
  const urls = new Map();
  let bytes = 0;
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => {
    const u = urls.get(e.requestId) ?? '';
    if (/\/pkg\/.*\.(js|wasm)$/.test(new URL(u, base).pathname)) bytes += e.encodedDataLength;
  });
  await page.goto(url);
  await page.locator('body[data-hydrated="true"]').waitFor({ timeout: 60_000 });
  const ms = await page.evaluate(() => window.__hydratedAt - performance.getEntriesByType('navigation')[0].startTime);
  // Late responses (a preloaded chunk finishing after hydration) still count as the page's bytes.
  await page.waitForLoadState('networkidle');
  await context.close();
  return { ms, bytes };
}

const results = [];
const only = process.env.TTI_PAGES ? process.env.TTI_PAGES.split(',') : null;
const targets = [{ page: '/login', url: `${base}/login`, signedIn: false }]
  .concat(pages.map((p) => ({ page: `/test${p}`, url: `${base}/test${p}`, signedIn: true })))
  .filter(({ page }) => !only || only.includes(page));
for (const { page, url, signedIn } of targets) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await sample(url, signedIn));
  samples.sort((a, b) => a.ms - b.ms);
  const median = samples[Math.floor(samples.length / 2)];
  results.push({ page, medianMs: Math.round(median.ms), kb: Math.round(median.bytes / 1024), runs, slow });
}
await browser.close();

console.log(
  'cold time to interactive (median of %d, empty cache%s), and JS + WASM received',
  runs,
  slow ? ', 10 Mbit/s, 40 ms RTT, CPU 4x slower' : ', loopback',
);
for (const r of results) console.log(`  ${String(r.medianMs).padStart(6)} ms  ${String(r.kb).padStart(5)} KB  ${r.page}`);
writeFileSync('tti.json', JSON.stringify(results, null, 2));
