import { expect, test, type Page, PASSWORD, ADMIN, SUPPORT, waitForHydration, signIn, submitSignIn } from './fixtures';

// Users, your own password and API keys in the browser (issue #14).

test.describe.configure({ timeout: 120_000 });

test('an admin adds a user with a one-time password, who then sets their own', async ({ page, browser }) => {
  await signIn(page, ADMIN);
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/test\/users$/);
  await waitForHydration(page);
  const email = `agent-${Date.now()}@example.com`;
  const form = page.getByTestId('add-user-form');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Role').selectOption('support');
  await form.getByRole('button', { name: 'Add user' }).click();
  const once = await page.getByTestId('one-time-password-value').textContent();
  expect(once).toMatch(/^[0-9a-f]{24}$/);
  const row = page.locator(`[data-testid="user-row"][data-email="${email}"]`);
  await expect(row).toContainText('support');
  await expect(row).toContainText('never');
  await page.screenshot({ path: 'screenshots/test-users.png', fullPage: true });

  // The new user signs in with it and is sent to the Account page to choose their own first.
  const context = await browser.newContext();
  const newcomer = await context.newPage();
  await newcomer.goto('/login');
  await waitForHydration(newcomer);
  await newcomer.getByLabel('Email').fill(email);
  await newcomer.getByLabel('Password').fill(once ?? '');
  await newcomer.getByRole('button', { name: 'Sign in' }).click();
  await expect(newcomer).toHaveURL(/\/test\/account$/);
  await waitForHydration(newcomer);
  await expect(newcomer.getByTestId('password-required')).toBeVisible();
  const password = newcomer.getByTestId('password-form');
  await password.getByLabel('Current password').fill(once ?? '');
  await password.getByLabel('New password').fill('my own long passphrase');
  await password.getByRole('button', { name: 'Change password' }).click();
  await expect(newcomer.getByTestId('password-changed')).toBeVisible();
  await newcomer.screenshot({ path: 'screenshots/test-account.png', fullPage: true });
  await newcomer.getByRole('link', { name: 'Continue to the console →' }).click();
  await expect(newcomer).toHaveURL(/\/test$/);
  await expect(newcomer.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(newcomer.getByTestId('password-required')).toHaveCount(0);
  await context.close();

  // Promoted, then removed after a confirmation: gone from the list.
  await page.reload();
  await waitForHydration(page);
  await expect(row).not.toContainText('never'); // they have signed in
  await row.getByTestId('user-role').click();
  // The role's badge, not the button's "Make admin", and once the page has been read again.
  await expect(row.locator('.role-badge')).toHaveText('admin');
  await expect(page.getByTestId('toast-success')).toContainText(`${email} is now admin`);
  await row.getByTestId('user-remove').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText(`Remove ${email}?`);
  await page.getByTestId('confirm-ok').click();
  await expect(row).toHaveCount(0);

  // Support staff are refused the page.
  const support = await browser.newContext();
  const helper = await support.newPage();
  await signIn(helper, SUPPORT);
  await helper.goto('/test/users');
  await expect(helper.getByTestId('forbidden')).toBeVisible();
  await support.close();
});

test('an admin creates an API key, sees it once, and revokes it', async ({ page, playwright }) => {
  await signIn(page, ADMIN);
  await page.goto('/test/api-keys');
  await waitForHydration(page);
  const name = `ci-bot-${Date.now()}`;
  await page.getByTestId('create-key-form').getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.getByTestId('new-api-key-value').textContent()) ?? '';
  expect(key).toMatch(/^ik_[0-9a-f]{64}$/);
  const row = page.getByTestId('api-key-row').filter({ hasText: name });
  await expect(row).toContainText(`${key.slice(0, 11)}…`);
  await expect(row).toContainText('active');
  await page.screenshot({ path: 'screenshots/test-api-keys.png', fullPage: true });

  // It works against the payments API, until it is revoked (asked without the page's session).
  const api = await playwright.request.newContext({ baseURL: process.env.BASE_URL });
  const status = () => api.get('/api/payments/status', { headers: { 'x-api-key': key } });
  expect((await status()).status()).toBe(200);
  await row.getByTestId('api-key-revoke').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText(`Revoke “${name}”?`);
  await page.getByTestId('confirm-ok').click();
  await expect(row).toContainText('revoked');
  expect((await status()).status()).toBe(401);
  await api.dispose();
  // Shown once: a reload lists the key by its prefix only.
  await page.reload();
  await expect(page.getByTestId('new-api-key')).toHaveCount(0);
  expect(await page.content()).not.toContain(key);
});

test('a deactivated user is signed out, cannot sign in, and can again once reactivated', async ({ page, browser }) => {
  await signIn(page, ADMIN);
  await page.goto('/test/users');
  await waitForHydration(page);
  const email = `leaver-${Date.now()}@example.com`;
  const form = page.getByTestId('add-user-form');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Add user' }).click();
  const row = page.locator(`[data-testid="user-row"][data-email="${email}"]`);
  await expect(row).toContainText('active');

  const context = await browser.newContext();
  const leaver = await context.newPage();
  await signIn(leaver, email);

  await row.getByTestId('user-deactivate').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText(`Deactivate ${email}?`);
  await page.getByTestId('confirm-ok').click();
  await expect(row.getByTestId('user-deactivated')).toBeVisible();
  await page.screenshot({ path: 'screenshots/test-users-deactivated.png', fullPage: true });

  // Their open session has ended, and the right password now says why it does not work.
  await leaver.goto('/test/customers');
  await expect(leaver).toHaveURL(/\/login/);
  await submitSignIn(leaver, email);
  await expect(leaver.getByRole('alert')).toContainText('deactivated');

  await row.getByTestId('user-reactivate').click();
  await expect(row.getByTestId('user-deactivated')).toHaveCount(0);
  await signIn(leaver, email);
  await context.close();
});

test("the users' forms check, refuse in place, and show a reset password once", async ({ page, browser }) => {
  await signIn(page, ADMIN);
  await page.goto('/test/users');
  await waitForHydration(page);
  const form = page.getByTestId('add-user-form');
  const sent: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST') sent.push(new URL(request.url()).pathname);
  });
  // Checked in the browser first: nothing is sent without an email.
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(form.getByTestId('users-error')).toHaveText("Enter the new user's email address.");
  await expect(form.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  expect(sent).toEqual([]);

  // The server's refusal stays beside what was typed.
  await form.getByLabel('Email').fill(ADMIN);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(form.getByTestId('users-error')).toContainText('already exists');
  await expect(page.getByTestId('toast-error')).toContainText('The user was not added');
  await expect(form.getByLabel('Email')).toHaveValue(ADMIN);

  // A user with their own password: no password to show, and the list read in place.
  const email = `reset-${Date.now()}@example.com`;
  await form.getByLabel('Email').fill(email);
  await form.getByRole('button', { name: 'Add user' }).click();
  const row = page.locator(`[data-testid="user-row"][data-email="${email}"]`);
  await expect(row).toContainText('active');
  await expect(page.getByTestId('toast-success')).toContainText('User added.');
  await expect(page.getByTestId('one-time-password')).toHaveCount(0);
  await expect(page.getByTestId('add-user-form').getByLabel('Email')).toHaveValue('');

  // Resetting asks first, then shows the new password once, focused, with its Copy button.
  await row.getByTestId('user-reset').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText(`Reset the password of ${email}?`);
  await page.getByTestId('confirm-ok').click();
  const shown = page.getByTestId('one-time-password');
  await expect(shown).toBeFocused();
  await expect(shown).toContainText(`One-time password for ${email}:`);
  const once = (await page.getByTestId('one-time-password-value').textContent()) ?? '';
  expect(once).toMatch(/^[0-9a-f]{24}$/);
  await expect(shown.getByRole('button', { name: 'Copy' })).toHaveAttribute('data-copy', once);

  // The old password no longer works; the new one does, and asks for their own first.
  const context = await browser.newContext();
  const user = await context.newPage();
  await submitSignIn(user, email, PASSWORD);
  await expect(user.getByRole('alert')).toBeVisible();
  await expect(user).toHaveURL(/\/login/);
  await submitSignIn(user, email, once);
  await expect(user).toHaveURL(/\/test\/account$/);
  await waitForHydration(user);
  // Their own form checks and refuses in place too.
  const password = user.getByTestId('password-form');
  await password.getByLabel('Current password').fill('not the password');
  await password.getByLabel('New password').fill('another long passphrase');
  await password.getByRole('button', { name: 'Change password' }).click();
  await expect(password.getByTestId('password-error')).toHaveText('The current password is not correct.');
  await expect(user.getByTestId('password-changed')).toHaveCount(0);
  await context.close();

  // Read again, the page holds no copy of it.
  await page.reload();
  expect(await page.content()).not.toContain(once);
});
