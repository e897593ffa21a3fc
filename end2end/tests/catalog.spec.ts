import { expect, test, type Locator, type Page, PASSWORD, ADMIN, SUPPORT, waitForHydration, signIn } from './fixtures';

async function openCatalog(page: Page, query = '') {
  await page.goto(`/test/catalog${query}`);
  await waitForHydration(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Catalog');
}

function product(page: Page, name: string): Locator {
  return page.getByTestId('product').filter({ has: page.getByTestId('product-name').getByText(name, { exact: true }) });
}

async function expand(page: Page, name: string) {
  const card = product(page, name);
  const toggle = card.getByTestId('product-toggle');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') {
    await toggle.click();
  }
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await expect(card.getByTestId('price-table')).toBeVisible();
  return card;
}

function priceRow(card: Locator, text: string | RegExp): Locator {
  return card.getByTestId('price').filter({ has: card.page().getByTestId('price-amount').getByText(text) });
}

test('search and the active filter live in the URL and survive a reload', async ({ page }) => {
  await signIn(page, ADMIN);
  await openCatalog(page);
  await expect(product(page, 'Starter')).toBeVisible();
  await expect(product(page, 'Team')).toBeVisible();
  await page.screenshot({ path: 'screenshots/test-catalog.png', fullPage: true });

  await page.getByTestId('catalog-search').fill('starter');
  await expect(page).toHaveURL(/[?&]q=starter/);
  await expect(product(page, 'Starter')).toBeVisible();
  await expect(product(page, 'Team')).toHaveCount(0);

  await page.getByTestId('catalog-active').selectOption('false');
  await expect(page).toHaveURL(/active=false/);
  // The demo products are all active.
  await expect(product(page, 'Starter')).toHaveCount(0);
  await expect(page.getByTestId('catalog-empty')).toHaveText('No products match these filters.');

  await page.reload();
  await waitForHydration(page);
  await expect(page.getByTestId('catalog-search')).toHaveValue('starter');
  await expect(page.getByTestId('catalog-active')).toHaveValue('false');
  await expect(page.getByTestId('catalog-empty')).toBeVisible();

  await page.getByTestId('catalog-active').selectOption('true');
  await expect(product(page, 'Starter')).toBeVisible();
  // Expanding a product is part of the URL too.
  const card = await expand(page, 'Starter');
  await expect(page).toHaveURL(/product=prod_/);
  await expect(priceRow(card, '$9.00 / month')).toBeVisible();
  await expect(priceRow(card, '$90.00 / year')).toBeVisible();
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByTestId('catalog-search')).toHaveValue('starter');
  await expect(page.getByTestId('catalog-active')).toHaveValue('true');
  await expect(product(page, 'Starter').getByTestId('price-table')).toBeVisible();
  await expect(product(page, 'Starter').getByTestId('price-table')).toContainText('starter_monthly');
});

test('an admin creates, edits and prices a product, changes an amount, and deletes products', async ({ page }) => {
  test.setTimeout(90_000);
  const stamp = Date.now().toString(36);
  const name = `Gizmo ${stamp}`;
  const renamed = `Gizmo Deluxe ${stamp}`;
  const key = `gizmo_${stamp}`;
  await signIn(page, ADMIN);
  await openCatalog(page);

  // Create: the form opens with the focus on its first field and closes with Escape.
  await page.getByTestId('new-product').click();
  let form = page.getByTestId('product-form');
  await expect(form.getByLabel(/^Name/)).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(form).toHaveCount(0);
  await page.getByTestId('new-product').click();
  form = page.getByTestId('product-form');
  await form.getByTestId('save-product').click();
  await expect(form).toContainText('Enter a name.');
  await form.getByLabel(/^Name/).fill(name);
  await form.getByLabel('Description').fill('A very small machine');
  await form.getByTestId('metadata-add').click();
  await form.getByTestId('metadata-key').fill('team');
  await form.getByTestId('metadata-value').fill('growth');
  await form.getByTestId('save-product').click();
  await expect(form).toHaveCount(0);
  await expect(page.getByTestId('toast-success').filter({ hasText: `Product “${name}” created.` })).toBeVisible();
  // The new product is expanded, with no prices yet.
  await expect(page).toHaveURL(/product=prod_/);
  let card = product(page, name);
  await expect(card.getByTestId('price-table')).toContainText('No prices yet.');
  await expect(card.getByTestId('product-metadata')).toContainText('growth');

  // Edit.
  await card.getByTestId('edit-product').click();
  form = page.getByTestId('product-form');
  await expect(form.getByLabel(/^Name/)).toHaveValue(name);
  await form.getByLabel(/^Name/).fill(renamed);
  await form.getByLabel('Description').fill('A slightly larger machine');
  await form.getByTestId('metadata-value').fill('platform');
  await form.getByTestId('save-product').click();
  await expect(form).toHaveCount(0);
  card = product(page, renamed);
  await expect(card.getByTestId('product-description')).toHaveText('A slightly larger machine');
  await expect(card.getByTestId('product-metadata')).toContainText('platform');

  // A one-time price; the amount is checked against the currency as it is typed.
  await card.getByTestId('add-price').click();
  form = page.getByTestId('price-form');
  await form.getByLabel('Amount').fill('12.345');
  await expect(form.getByTestId('amount-error')).toHaveText('USD has 2 decimal places at most.');
  await form.getByLabel('Amount').fill('12.5');
  await expect(form.getByTestId('amount-error')).toHaveText('');
  await expect(form.getByTestId('price-preview')).toHaveText('Customers pay $12.50 once.');
  await form.getByTestId('save-price').click();
  await expect(form).toHaveCount(0);
  const oneTime = priceRow(card, '$12.50');
  await expect(oneTime).toBeVisible();
  await expect(oneTime.getByTestId('price-type')).toHaveText('One-time');
  await expect(oneTime.getByTestId('price-status')).toHaveText('Active');

  // A recurring price with a lookup key.
  await card.getByTestId('add-price').click();
  form = page.getByTestId('price-form');
  await form.getByLabel('Amount').fill('29');
  await form.getByLabel('Recurring').check();
  await form.getByLabel('Bill every').fill('3');
  await form.getByLabel(/^Interval/).selectOption('month');
  await expect(form.getByTestId('price-preview')).toHaveText('Customers pay $29.00 every 3 months.');
  await form.getByLabel('Bill every').fill('1');
  await expect(form.getByTestId('price-preview')).toHaveText('Customers pay $29.00 / month.');
  await form.getByLabel('Lookup key (optional)').fill(key);
  await page.screenshot({ path: 'screenshots/test-catalog-price-form.png', fullPage: true });
  await form.getByTestId('save-price').click();
  await expect(form).toHaveCount(0);
  const monthly = priceRow(card, '$29.00 / month');
  await expect(monthly.getByTestId('price-type')).toHaveText('Recurring');
  await expect(monthly.getByTestId('price-lookup-key')).toHaveText(key);
  const oldPriceId = await monthly.getAttribute('data-price-id');
  expect(oldPriceId).toMatch(/^price_/);

  // Edit the lookup key.
  await monthly.getByTestId('edit-price').click();
  form = page.getByTestId('price-edit-form');
  await form.getByLabel('Lookup key').fill(`${key}_v2`);
  await form.getByTestId('save-price').click();
  await expect(form).toHaveCount(0);
  const old = card.locator(`[data-price-id="${oldPriceId}"]`);
  await expect(old.getByTestId('price-lookup-key')).toHaveText(`${key}_v2`);

  // Change the amount: a new price takes the lookup key, the old one is archived.
  await old.getByTestId('change-amount').click();
  form = page.getByTestId('change-amount-form');
  await expect(form.getByTestId('move-lookup-key')).toBeChecked();
  await expect(form.getByTestId('archive-old')).toBeChecked();
  await form.getByLabel('New amount (USD)').fill('35');
  await expect(form.getByTestId('price-preview')).toHaveText('New price: $35.00 / month.');
  await form.getByTestId('save-amount').click();
  await expect(form).toHaveCount(0);
  await expect(page.getByTestId('toast-success').filter({ hasText: 'New price $35.00 / month created' })).toContainText(
    'old price archived',
  );
  const replacement = priceRow(card, '$35.00 / month');
  await expect(replacement.getByTestId('price-status')).toHaveText('Active');
  await expect(replacement.getByTestId('price-lookup-key')).toHaveText(`${key}_v2`);
  await expect(old.getByTestId('price-status')).toHaveText('Archived');
  await expect(old.getByTestId('price-lookup-key')).toHaveText('—');
  await page.screenshot({ path: 'screenshots/test-catalog-product.png', fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: 'screenshots/test-catalog-product-dark.png', fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });

  // Archiving asks first; an archived price can be restored.
  const confirm = page.getByTestId('confirm-dialog');
  await oneTime.getByTestId('archive-price').click();
  await expect(confirm).toContainText('can no longer be used for new purchases');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(oneTime.getByTestId('price-status')).toHaveText('Active');
  await oneTime.getByTestId('archive-price').click();
  await confirm.getByTestId('confirm-ok').click();
  await expect(oneTime.getByTestId('price-status')).toHaveText('Archived');
  await oneTime.getByTestId('restore-price').click();
  await expect(oneTime.getByTestId('price-status')).toHaveText('Active');

  // Stripe refuses to delete a product with prices: the delete dialog says so and offers to
  // deactivate it instead, in the dialog itself; the outcome is one message, not a panel and
  // toasts (issue #15, defect 2).
  await expect(card.getByTestId('delete-product')).toHaveAttribute('data-delete-plan', 'deactivate');
  await card.getByTestId('delete-product').click();
  await expect(confirm).toContainText('Stripe does not delete a product that has prices');
  await expect(confirm.getByTestId('confirm-ok')).toHaveText('Deactivate product');
  await page.screenshot({ path: 'screenshots/test-catalog-delete-confirm.png', fullPage: true });
  await confirm.getByTestId('confirm-ok').click();
  await expect(confirm).toHaveCount(0);
  const deactivated = page.getByTestId('toast-success').filter({ hasText: `Product “${renamed}” deactivated.` });
  await expect(deactivated).toHaveCount(1);
  await expect(page.getByTestId('toast-error')).toHaveCount(0);
  await expect(card.getByTestId('status-badge').first()).toHaveText('Inactive');
  await expect(card.getByTestId('delete-refused')).toHaveCount(0);
  // Inactive with prices: nothing left to offer, and the card says why.
  await expect(card.getByTestId('delete-product')).toHaveCount(0);
  await expect(card.getByTestId('delete-impossible')).toContainText('Stripe does not delete a product that has prices');
  await page.screenshot({ path: 'screenshots/test-catalog-delete-impossible.png', fullPage: true });

  // A product without prices can be deleted.
  const temporary = `Gizmo Temp ${stamp}`;
  await page.getByTestId('new-product').click();
  form = page.getByTestId('product-form');
  await form.getByLabel(/^Name/).fill(temporary);
  await form.getByTestId('save-product').click();
  await expect(form).toHaveCount(0);
  await expect(product(page, temporary)).toBeVisible();
  await expect(product(page, temporary).getByTestId('delete-product')).toHaveAttribute('data-delete-plan', 'delete');
  await product(page, temporary).getByTestId('delete-product').click();
  await expect(confirm).not.toContainText('Stripe does not delete');
  await expect(confirm.getByTestId('confirm-ok')).toHaveText('Delete product');
  await confirm.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('toast-success').filter({ hasText: `Product “${temporary}” deleted.` })).toBeVisible();
  await expect(product(page, temporary)).toHaveCount(0);

  // The archived and deactivated state survives a reload, and the inactive filter finds it.
  await openCatalog(page, '?active=false');
  await expect(product(page, renamed)).toBeVisible();
  await expect(product(page, 'Starter')).toHaveCount(0);
});

test('support users see the catalog read-only', async ({ page }) => {
  await signIn(page, SUPPORT);
  await openCatalog(page);
  await expect(product(page, 'Pro')).toBeVisible();
  const card = await expand(page, 'Pro');
  await expect(priceRow(card, '$29.00 / month')).toBeVisible();
  await expect(priceRow(card, '$290.00 / year')).toBeVisible();
  await expect(page.getByTestId('new-product')).toHaveCount(0);
  await expect(card.getByTestId('edit-product')).toHaveCount(0);
  await expect(card.getByTestId('delete-product')).toHaveCount(0);
  await expect(card.getByTestId('add-price')).toHaveCount(0);
  await expect(card.getByTestId('edit-price')).toHaveCount(0);
  await expect(card.getByTestId('change-amount')).toHaveCount(0);
  await expect(card.getByTestId('archive-price')).toHaveCount(0);
  await page.screenshot({ path: 'screenshots/support-catalog.png', fullPage: true });
});

test('the live catalog without a key says so and links to Keys', async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto('/live/catalog');
  await waitForHydration(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Catalog');
  const empty = page.getByTestId('catalog-not-connected');
  await expect(empty).toContainText('Live has no Stripe key.');
  await expect(empty.getByRole('link', { name: 'Set a key →' })).toHaveAttribute('href', '/live/keys');
  await expect(page.getByTestId('new-product')).toHaveCount(0);
  await page.screenshot({ path: 'screenshots/live-catalog.png', fullPage: true });
});
