// Cold time to interactive of every console page, and the JS and WASM it downloads (issue #13),
// measured in Debian's Chromium against the running release build (scripts/e2e.sh runs it after
// the suite). A benchmark, not a test: it reports, it does not judge.
//
// Each sample is a new browser context (an empty cache, the signed-in session's cookies only) on
// a slow link emulated through the Chrome DevTools Protocol: 10 Mbit/s down and up, 40 ms round
// trips, the CPU slowed 4x. Time to interactive = from navigation start until the route has
// hydrated (`body[data-hydrated="true"]`, set by `src/ui/island_loader.js` once the last island has
// hydrated).
// Bytes = what crossed the wire for the page's `/pkg/` JS and WASM (compressed, as sent), so a
// page whose code is a lazily loaded chunk shows that chunk on top of the shared files.
//
// Environment: BASE_URL, E2E_ADMIN_EMAIL, E2E_PASSWORD (scripts/e2e.sh sets them); TTI_RUNS
// (default 5); TTI_SLOW=0 measures on the unthrottled loopback instead; TTI_PAGES measures only
// the pages it lists, as the report names them (`TTI_PAGES=/test/webhooks,/test/sync`).
//
// The baseline: the machine is shared, and the slowed CPU is slowed from whatever share of it the
// other tenants leave. So each page's samples alternate with samples of a fixed page served by
// this script (`BASELINE`: no WASM, a fixed script and a fixed table to lay out, the same
// throttling), and each row prints that page's median beside the console page's. A page that
// misses the target beside a baseline far above its usual figure missed it on a busy machine.
import { chromium } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';

const base = process.env.BASE_URL;
const runs = Number(process.env.TTI_RUNS ?? 5);
const slow = process.env.TTI_SLOW !== '0';
const pages = ['', '/keys', '/sync', '/catalog', '/catalog/copy', '/customers', '/search?q=acme', '/subscriptions',
  '/history', '/webhooks', '/audit', '/users', '/api-keys', '/account', '/subjects/team/acme'];

// A fixed amount of main-thread work: a script of about 40 ms on an idle core unslowed, and a
// table of 300 rows to lay out and paint, like a console page's. It marks the body as a page's
// hydration does, so both are timed the same way.
const BASELINE = `<!doctype html><html><head><title>baseline</title></head><body><table>${
  Array.from({ length: 300 }, (_, i) => `<tr><td>row ${i}</td><td>cus_${i.toString(36)}</td><td>$${i}.00</td></tr>`).join('')
}</table><script>
  document.addEventListener('DOMContentLoaded', () => {
    let h = 0;
    for (let i = 0; i < 4e6; i++) h = (h * 31 + i) | 0;
    document.body.dataset.baseline = h;
    document.body.dataset.hydrated = 'true';
  });
</script></body></html>`;
const baselineServer = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(BASELINE));
await new Promise((resolve) => baselineServer.listen(0, '127.0.0.1', resolve));
const baselineUrl = `http://127.0.0.1:${baselineServer.address().port}/`;

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
    // Notes the moment hydration marks the body, from navigation start, as a promise the
    // script below awaits.
    window.__hydration = new Promise((resolve) => {
      new MutationObserver((_, observer) => {
        if (document.body?.dataset.hydrated === 'true') {
          observer.disconnect();
          resolve(performance.now() - performance.getEntriesByType('navigation')[0].startTime);
        }
      }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
    });
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
  // Waits through the DevTools protocol alone. Playwright's own waiting (`goto` until `load`,
  // then a locator) evaluates Playwright's injected script in the page once `load` has fired:
  // about 50 ms of the slowed main thread (a DevTools trace of /test/keys), which on a page
  // still hydrating by then landed inside the time measured, and which no user's browser runs.
  await page.goto(url, { waitUntil: 'commit' });
  let timer;
  const ms = await Promise.race([
    cdp
      .send('Runtime.evaluate', { expression: 'window.__hydration', awaitPromise: true, returnByValue: true })
      .then((answer) => answer.result.value),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${url} did not hydrate within 60 s`)), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));
  if (typeof ms !== 'number') throw new Error(`${url}: no hydration time (${ms})`);
  // Late responses (a preloaded chunk finishing after hydration) still count as the page's bytes.
  await page.waitForLoadState('networkidle');
  await context.close();
  return { ms, bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
const loadBefore = loadavg()[0];
const only = process.env.TTI_PAGES ? process.env.TTI_PAGES.split(',') : null;
const targets = [{ page: '/login', url: `${base}/login`, signedIn: false }]
  .concat(pages.map((p) => ({ page: `/test${p}`, url: `${base}/test${p}`, signedIn: true })))
  .filter(({ page }) => !only || only.includes(page));
for (const { page, url, signedIn } of targets) {
  const samples = [];
  const baseline = [];
  for (let i = 0; i < runs; i++) {
    samples.push(await sample(url, signedIn));
    baseline.push((await sample(baselineUrl, false)).ms);
  }
  samples.sort((a, b) => a.ms - b.ms);
  const mid = samples[Math.floor(samples.length / 2)];
  results.push({
    page,
    medianMs: Math.round(mid.ms),
    kb: Math.round(mid.bytes / 1024),
    baselineMs: Math.round(median(baseline)),
    runs,
    slow,
  });
}
await browser.close();
baselineServer.close();

console.log(
  'cold time to interactive (median of %d, empty cache%s), and JS + WASM received',
  runs,
  slow ? ', 10 Mbit/s, 40 ms RTT, CPU 4x slower' : ', loopback',
);
console.log('  (baseline: the fixed page, median of its samples taken between the page\'s; load average %s to %s)',
  loadBefore.toFixed(1), loadavg()[0].toFixed(1));
for (const r of results) {
  console.log(`  ${String(r.medianMs).padStart(6)} ms  ${String(r.kb).padStart(5)} KB  baseline ${String(r.baselineMs).padStart(5)} ms  ${r.page}`);
}
writeFileSync('tti.json', JSON.stringify(results, null, 2));
