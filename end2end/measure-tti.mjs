// Time to interactive of every console page, measured in Debian's Chromium against the running
// server (scripts/e2e.sh runs it after the suite). A benchmark, not a test: it reports, it does
// not judge. Time to interactive = from navigation start until the page has hydrated
// (`body[data-hydrated="true"]`, set by the WASM once its event handlers are attached).
import { chromium } from '@playwright/test';
import { writeFileSync } from 'node:fs';

const base = process.env.BASE_URL;
const runs = Number(process.env.TTI_RUNS ?? 5);
const pages = ['', '/keys', '/sync', '/catalog', '/customers', '/subscriptions', '/history', '/webhooks', '/audit',
  '/subjects/team/acme'];

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const context = await browser.newContext();
// Notes the moment hydration marks the body, before any test code can observe it.
await context.addInitScript(() => {
  new MutationObserver((_, observer) => {
    if (document.body?.dataset.hydrated === 'true') {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
});
const page = await context.newPage();
await page.goto(`${base}/login`);
await page.locator('body[data-hydrated="true"]').waitFor();
await page.getByLabel('Email').fill(process.env.E2E_ADMIN_EMAIL);
await page.getByLabel('Password').fill(process.env.E2E_PASSWORD);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.waitForURL(/\/test/);

const results = [];
for (const path of pages) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    await page.goto(`${base}/test${path}`);
    await page.locator('body[data-hydrated="true"]').waitFor();
    samples.push(await page.evaluate(() => window.__hydratedAt - performance.getEntriesByType('navigation')[0].startTime));
  }
  samples.sort((a, b) => a - b);
  results.push({ page: `/test${path}`, medianMs: Math.round(samples[Math.floor(samples.length / 2)]), runs });
}
await browser.close();

results.sort((a, b) => b.medianMs - a.medianMs);
console.log('time to interactive (median of %d, slowest first)', runs);
for (const r of results) console.log(`  ${String(r.medianMs).padStart(6)} ms  ${r.page}`);
writeFileSync('tti.json', JSON.stringify(results, null, 2));
