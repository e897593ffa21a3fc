import { expect, test, type Page, PASSWORD, ADMIN, SUPPORT, waitForHydration, submitSignIn } from './fixtures';

const ALL_SECTIONS = [
  { label: 'Overview', slug: '', heading: /Test environment/ },
  { label: 'Keys', slug: '/keys', heading: 'Keys' },
  { label: 'Sync', slug: '/sync', heading: 'Sync' },
  { label: 'Catalog', slug: '/catalog', heading: 'Catalog' },
  { label: 'Customers', slug: '/customers', heading: 'Customers' },
  { label: 'Subscriptions', slug: '/subscriptions', heading: 'Subscriptions' },
  { label: 'Payment history', slug: '/history', heading: 'Payment history' },
  { label: 'Webhooks', slug: '/webhooks', heading: 'Webhooks' },
  { label: 'Audit log', slug: '/audit', heading: 'Audit log' },
];
const ADMIN_ONLY = ['Keys', 'Sync', 'Audit log'];

test('an admin signs in, visits every section, switches to live and back, and signs out', async ({ page }) => {
  await page.goto('/test/catalog');
  // Anonymous visitors land on the login page, which remembers where they were going.
  await expect(page).toHaveURL(/\/login\?next=%2Ftest%2Fcatalog/);
  await page.screenshot({ path: 'screenshots/login.png', fullPage: true });

  await waitForHydration(page);
  await page.getByLabel('Email').fill(ADMIN);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/test\/catalog$/);
  await expect(page.getByTestId('role-badge')).toHaveText('admin');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Catalog');

  const nav = page.getByRole('navigation', { name: 'Sections' });
  for (const section of ALL_SECTIONS) {
    await nav.getByRole('link', { name: section.label, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/test${section.slug}$`));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(section.heading);
    await expect(nav.getByRole('link', { name: section.label, exact: true })).toHaveAttribute('aria-current', 'page');
    await page.screenshot({ path: `screenshots/test-${section.slug.slice(1) || 'overview'}.png`, fullPage: true });
  }

  // The server runs with --demo: the overview says so, and where its Stripe sandbox is.
  await nav.getByRole('link', { name: 'Overview', exact: true }).click();
  await expect(page.getByTestId('demo-notice')).toContainText(/Demo mode.*http:\/\/127\.0\.0\.1:\d+/);
  // Both environments are shown; test is connected to the sandbox with a masked key and a
  // synced catalog, live is not configured and says so.
  const testCard = page.getByTestId('connection-test');
  await expect(testCard.getByTestId('connection-status')).toHaveText('connected');
  await expect(testCard.getByTestId('masked-key')).toHaveText('sk_test_****dbox');
  await expect(testCard.getByTestId('sync-counts')).toContainText('products');
  await expect(page.getByTestId('connection-live').getByTestId('connection-status')).toHaveText('unconfigured');
  await page.screenshot({ path: 'screenshots/test-overview-connected.png', fullPage: true });
  await nav.getByRole('link', { name: 'Audit log', exact: true }).click();

  // Switch to live on the same page: the URL and the banner change.
  await expect(page.getByTestId('live-banner')).toHaveCount(0);
  await page.getByTestId('env-live').click();
  await expect(page).toHaveURL(/\/live\/audit$/);
  await expect(page.getByTestId('live-banner')).toBeVisible();
  await expect(page.getByTestId('live-banner')).toContainText('LIVE MODE');
  await page.screenshot({ path: 'screenshots/live-audit.png', fullPage: true });
  // The banner stays on every live page.
  await nav.getByRole('link', { name: 'Catalog', exact: true }).click();
  await expect(page).toHaveURL(/\/live\/catalog$/);
  await expect(page.getByTestId('live-banner')).toBeVisible();
  // The live overview lists what needs doing first: there is no live key.
  await nav.getByRole('link', { name: 'Overview', exact: true }).click();
  await expect(page.getByTestId('attention')).toContainText('No Stripe secret key is configured.');
  await nav.getByRole('link', { name: 'Catalog', exact: true }).click();
  await page.getByTestId('env-test').click();
  await expect(page).toHaveURL(/\/test\/catalog$/);
  await expect(page.getByTestId('live-banner')).toHaveCount(0);

  // The audit log shows this sign-in.
  await nav.getByRole('link', { name: 'Audit log', exact: true }).click();
  await expect(page.getByTestId('audit-table')).toContainText('session.sign_in');
  await expect(page.getByTestId('audit-table')).toContainText(ADMIN);

  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login$/);
  // The session is gone: console pages send us back to the login page.
  await page.goto('/test');
  await expect(page).toHaveURL(/\/login\?next=%2Ftest$/);
});

test('a wrong password is refused with a message and no session', async ({ page }) => {
  await submitSignIn(page, ADMIN, 'not the password at all');
  await expect(page.getByTestId('login-error')).toHaveText('The email or password is incorrect.');
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/test');
  await expect(page).toHaveURL(/\/login/);
});

test('support users see no admin-only sections or controls', async ({ page }) => {
  await submitSignIn(page, SUPPORT);
  await expect(page).toHaveURL(/\/test$/);
  await expect(page.getByTestId('role-badge')).toHaveText('support');
  const nav = page.getByRole('navigation', { name: 'Sections' });
  for (const section of ALL_SECTIONS) {
    const link = nav.getByRole('link', { name: section.label, exact: true });
    if (ADMIN_ONLY.includes(section.label)) {
      await expect(link).toHaveCount(0);
    } else {
      await expect(link).toBeVisible();
    }
  }
  // Typing the address of an admin-only page shows a refusal, not the page.
  for (const slug of ['keys', 'sync', 'audit']) {
    await page.goto(`/test/${slug}`);
    await expect(page.getByTestId('forbidden')).toBeVisible();
    await expect(page.getByTestId('audit-table')).toHaveCount(0);
  }
  await page.screenshot({ path: 'screenshots/support-forbidden.png', fullPage: true });
});

test('the theme switch works once the page has hydrated, and survives a reload', async ({ page }) => {
  await submitSignIn(page, ADMIN);
  await expect(page).toHaveURL(/\/test$/);
  await waitForHydration(page);
  const html = page.locator('html');
  const toggle = page.getByTestId('theme-toggle');
  const before = await toggle.getAttribute('aria-pressed');
  await toggle.click();
  const expected = before === 'true' ? 'light' : 'dark';
  await expect(html).toHaveAttribute('data-theme', expected);
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', expected);
  await page.screenshot({ path: `screenshots/overview-${expected}.png`, fullPage: true });
});

test('unknown addresses show the 404 page', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  // Its islands (none, signed out) have hydrated, and its link is a plain page load.
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Go to the console' }).click();
  await expect(page).toHaveURL(/\/login/);
});

test.describe('times', () => {
  // A zone with a half-hour offset and no daylight saving time, so the expected label is fixed.
  test.use({ timezoneId: 'Asia/Kolkata' });

  test('times render in UTC, switch to the viewer\'s time zone, and the choice survives a reload', async ({ page }) => {
    await submitSignIn(page, ADMIN);
    await expect(page).toHaveURL(/\/test$/);
    await waitForHydration(page);
    const lastSync = page.getByTestId('connection-test').locator('time').first();
    await expect(lastSync).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    const iso = await lastSync.getAttribute('datetime');
    expect(iso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d/);

    const toggle = page.getByTestId('time-zone-toggle');
    await expect(toggle).toHaveAttribute('aria-pressed', 'false');
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');
    await expect(lastSync).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC\+5:30$/);
    // The same instant: 5:30 later on the wall clock.
    const shown = (await lastSync.textContent()) ?? '';
    const local = Date.parse(`${shown.slice(0, 10)}T${shown.slice(11, 16)}:00Z`) - 330 * 60_000;
    expect(Math.floor(Date.parse(iso ?? '') / 60_000) * 60_000).toBe(local);
    await page.screenshot({ path: 'screenshots/overview-local-time.png', fullPage: true });

    await page.reload();
    await waitForHydration(page);
    await expect(page.getByTestId('time-zone-toggle')).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByTestId('connection-test').locator('time').first()).toHaveText(/UTC\+5:30$/);
    await page.getByTestId('time-zone-toggle').click();
    await expect(page.getByTestId('connection-test').locator('time').first()).toHaveText(/ UTC$/);
  });
});
