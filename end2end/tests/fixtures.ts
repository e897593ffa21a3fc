import { test as base, expect, type Response } from '@playwright/test';
import { appendFileSync, mkdirSync } from 'node:fs';

// Every spec imports `test` from here. When scripts/e2e.sh sets E2E_RECORD_DIR, each test's
// browser context records the bodies of the answers it receives (pages, server functions, API
// calls, CSV exports: not the static bundle, which scripts/leaks.py reads from the build) and,
// at its end, the values of its cookies (the session tokens), so that the secret scan that runs
// after the suite can look for every secret the run used (issue #9).
const recordDir = process.env.E2E_RECORD_DIR;

/** Content types of bundle files, scanned from the build instead. */
const STATIC = /wasm|javascript|css|font|image/;

export const test = base.extend<{ recordTraffic: void }>({
  recordTraffic: [
    async ({ context }, use, testInfo) => {
      if (!recordDir) {
        await use();
        return;
      }
      mkdirSync(recordDir, { recursive: true });
      const file = `${recordDir}/responses-${testInfo.workerIndex}.txt`;
      const pending: Promise<void>[] = [];
      const record = (response: Response) => {
        if (STATIC.test(response.headers()['content-type'] ?? '')) return;
        pending.push(
          response
            .body()
            .then((body) => appendFileSync(file, `\n=== ${response.status()} ${response.url()}\n${body.toString('latin1')}`))
            .catch(() => {}), // a redirect or an aborted request has no body
        );
      };
      context.on('response', record);
      await use();
      await Promise.all(pending);
      const cookies = (await context.cookies()).map((c) => c.value).filter((v) => v.length >= 16);
      appendFileSync(`${recordDir}/cookies.txt`, cookies.map((v) => `${v}\n`).join(''));
    },
    { auto: true },
  ],
});

export { expect };

// The run's users (scripts/e2e.sh creates them) and the helpers every spec signs in with.
export const PASSWORD = process.env.E2E_PASSWORD ?? '';
export const ADMIN = process.env.E2E_ADMIN_EMAIL ?? '';
export const SUPPORT = process.env.E2E_SUPPORT_EMAIL ?? '';

/** Waits until the WASM has hydrated the page (the app marks `<body>` then). */
export async function waitForHydration(page: import('@playwright/test').Page) {
  await page.locator('body[data-hydrated="true"]').waitFor();
}

/** Opens a console path and waits for hydration. */
export async function open(page: import('@playwright/test').Page, path: string) {
  await page.goto(path);
  await waitForHydration(page);
}

/** Fills in and submits the sign-in form, whatever the outcome. */
export async function submitSignIn(page: import('@playwright/test').Page, email: string, password = PASSWORD) {
  await page.goto('/login');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in and waits for the overview of the test environment, hydrated. */
export async function signIn(page: import('@playwright/test').Page, email: string, password = PASSWORD) {
  await submitSignIn(page, email, password);
  await expect(page).toHaveURL(/\/test$/);
  await waitForHydration(page);
}

/** The demo's Stripe sandbox (its address is on the overview's demo notice). */
export async function sandboxUrl(page: import('@playwright/test').Page): Promise<string> {
  await open(page, '/test');
  const text = await page.getByTestId('demo-notice').locator('code').innerText();
  expect(text).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  return text;
}

/**
 * Creates a customer in the `sandbox`'s test account (`sandboxUrl`), which sends
 * `customer.created` to the console's managed endpoint, and waits until the console has
 * processed that event. Returns the customer's id. Needs a signed-in page (it reads the event
 * log as that user).
 */
export async function stripeCreatesCustomer(page: import('@playwright/test').Page, sandbox: string, email: string): Promise<string> {
  const res = await page.request.post(`${sandbox}/v1/customers`, {
    headers: { Authorization: 'Bearer sk_test_sandbox' },
    form: { email },
  });
  expect(res.ok()).toBeTruthy();
  const customer = (await res.json()).id as string;
  await expect
    .poll(async () => {
      // With the `Origin` a browser sends: cookie writes without one are refused.
      const list = await page.request.post('/api/console/webhook-events', {
        headers: { origin: process.env.BASE_URL ?? '' },
        form: { environment: 'test', event_type: 'customer.created' },
      });
      const body = await list.json();
      return (body.items ?? []).some(
        (e: { objectId?: string; processingStatus?: string }) => e.objectId === customer && e.processingStatus === 'processed',
      );
    }, { timeout: 15_000 })
    .toBe(true);
  return customer;
}
export type { Locator, Page } from '@playwright/test';

/** The demo's `team:acme` customer, opened from the customers list; its id. */
export async function openAcme(page: import('@playwright/test').Page): Promise<string> {
  await page.goto('/test/customers?search=acme');
  await waitForHydration(page);
  await page.getByTestId('customer-row').first().getByTestId('customer-link').click();
  await expect(page).toHaveURL(/\/test\/customers\/cus_[A-Za-z0-9]+$/);
  await waitForHydration(page);
  return page.url().split('/').pop() ?? '';
}
