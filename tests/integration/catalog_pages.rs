//! The catalog page's server functions over real HTTP, against the demo Stripe sandbox: reads
//! for everyone, writes for admins, Stripe's refusal to delete a product with prices, and
//! "change the amount" in one step.

use crate::support;

use payments_console::auth::Role;
use serde_json::{json, Value};
use support::TestApp;

/// Calls a JSON-encoded catalog server function; the status and the decoded body.
async fn call(app: &TestApp, client: &reqwest::Client, endpoint: &str, body: Value) -> (u16, Value) {
    let res = client.post(app.url(&format!("/api/console/{endpoint}"))).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Loads an environment's catalog (a URL-encoded server function, like the page's reads).
async fn load(app: &TestApp, client: &reqwest::Client, env: &str) -> (u16, Value) {
    let res = client.post(app.url("/api/console/catalog")).form(&[("env", env)]).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The test catalog once the demo seed has been synced into the mirror.
async fn catalog(app: &TestApp, client: &reqwest::Client) -> Value {
    for _ in 0..100 {
        let (status, view) = load(app, client, "test").await;
        assert_eq!(status, 200, "{view}");
        if !view["catalog"]["products"].as_array().unwrap().is_empty() {
            return view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the demo catalog never appeared");
}

/// Creates a product named `name` as the page's form does (form `n` of `form_key`); its id.
async fn add_product(app: &TestApp, client: &reqwest::Client, form_key: &str, n: u32, name: &str) -> String {
    let body = json!({"env": "test", "draft": {"name": name}, "form_key": format!("{form_key}-{n}")});
    let (status, product) = call(app, client, "catalog-add-product", body).await;
    assert_eq!(status, 200, "{product}");
    product["stripeProductId"].as_str().unwrap().to_string()
}

/// Adds a one-time USD price of `amount` cents to a product (form `n` of `form_key`).
async fn add_price(
    app: &TestApp,
    client: &reqwest::Client,
    form_key: &str,
    n: u32,
    product: &str,
    amount: i64,
) -> Value {
    let draft = json!({"stripeProductId": product, "currency": "usd", "unitAmount": amount});
    let body = json!({"env": "test", "draft": draft, "form_key": format!("{form_key}-{n}")});
    let (status, price) = call(app, client, "catalog-add-price", body).await;
    assert_eq!(status, 200, "{price}");
    price
}

/// "Change the amount" of `price` to `amount`, moving its lookup key and archiving it, as the
/// page's form does.
async fn change_amount(
    app: &TestApp,
    client: &reqwest::Client,
    product: &str,
    price: &str,
    amount: i64,
    form_key: Value,
) -> (u16, Value) {
    let body = json!({"env": "test", "product_id": product, "price_id": price, "unit_amount": amount,
                      "move_lookup_key": true, "archive_old": true, "form_key": form_key});
    call(app, client, "catalog-change-amount", body).await
}

fn price<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["catalog"]["prices"].as_array().unwrap().iter().find(|p| p["stripePriceId"] == id).expect("price listed")
}

#[tokio::test]
async fn support_reads_the_catalog_but_cannot_write() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let view = catalog(&app, &support).await;
    assert_eq!(view["connected"], true);
    assert!(view["form_key"].as_str().is_some_and(|k| k.len() == 16));
    let names: Vec<&str> =
        view["catalog"]["products"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Starter") && names.contains(&"Pro"), "{names:?}");

    let (status, _) = call(
        &app,
        &support,
        "catalog-add-product",
        json!({"env": "test", "draft": {"name": "Nope"}, "form_key": null}),
    )
    .await;
    assert_eq!(status, 403);
    let some_price = view["catalog"]["prices"][0]["stripePriceId"].as_str().unwrap();
    let (status, _) = call(&app, &support, "catalog-archive-price", json!({"env": "test", "id": some_price})).await;
    assert_eq!(status, 403);
    assert_eq!(load(&app, &app.client(), "test").await.0, 401);

    // Live has no key: an empty catalog that says so.
    let (status, live) = load(&app, &support, "live").await;
    assert_eq!(status, 200);
    assert_eq!(live["connected"], false);
    assert!(live["catalog"]["products"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn an_admin_prices_a_product_changes_the_amount_and_is_refused_the_delete() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let view = catalog(&app, &admin).await;
    let form_key = view["form_key"].as_str().unwrap().to_string();

    // A double submit of the same form creates one product.
    let body = json!({"env": "test", "draft": {"name": "Widget", "metadata": {"team": "growth"}}, "form_key": format!("{form_key}-1")});
    let (status, first) = call(&app, &admin, "catalog-add-product", body.clone()).await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = call(&app, &admin, "catalog-add-product", body).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(first["stripeProductId"], second["stripeProductId"]);
    let product_id = first["stripeProductId"].as_str().unwrap().to_string();

    let draft = json!({
        "stripeProductId": product_id, "currency": "usd", "unitAmount": 1200, "lookupKey": "widget_monthly",
        "recurring": {"interval": "month", "intervalCount": 1}, "taxBehavior": "exclusive", "metadata": {"tier": "a"}
    });
    let (status, old) = call(
        &app,
        &admin,
        "catalog-add-price",
        json!({"env": "test", "draft": draft, "form_key": format!("{form_key}-2")}),
    )
    .await;
    assert_eq!(status, 200, "{old}");
    let old_id = old["stripePriceId"].as_str().unwrap().to_string();

    // Change the amount: same recurrence, tax behaviour and metadata; the key moves; the old
    // price is archived.
    let (status, change) =
        change_amount(&app, &admin, &product_id, &old_id, 1500, json!(format!("{form_key}-3"))).await;
    assert_eq!(status, 200, "{change}");
    assert_eq!(change["moved_key"], "widget_monthly");
    assert_eq!(change["archived_old"], true);
    assert_eq!(change["problems"], json!([]));
    let new = &change["new_price"];
    assert_eq!(new["unitAmount"], 1500);
    assert_eq!(new["currency"], "usd");
    assert_eq!(new["recurringInterval"], "month");
    assert_eq!(new["taxBehavior"], "exclusive");
    assert_eq!(new["metadata"]["tier"], "a");
    assert_eq!(new["lookupKey"], "widget_monthly");
    let view = catalog(&app, &admin).await;
    let old_now = price(&view, &old_id);
    assert_eq!(old_now["active"], false);
    assert_eq!(old_now["lookupKey"], Value::Null);

    // The same amount again is refused before anything changes.
    let new_id = new["stripePriceId"].as_str().unwrap().to_string();
    let (status, err) = change_amount(&app, &admin, &product_id, &new_id, 1500, json!(null)).await;
    assert_eq!(status, 400, "{err}");

    // Stripe refuses to delete a product with prices, with its own words; deactivating works.
    let (status, err) = call(&app, &admin, "catalog-delete-product", json!({"env": "test", "id": product_id})).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("cannot be deleted because it has one or more user-created prices"), "{err}");
    let (status, edited) = call(
        &app,
        &admin,
        "catalog-edit-product",
        json!({"env": "test", "id": product_id, "changes": {"active": false, "metadata": {"team": ""}}}),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["active"], false);
    assert!(edited["metadata"].get("team").is_none(), "an empty value deletes the key: {edited}");

    // A product without prices can be deleted.
    let (_, bare) = call(
        &app,
        &admin,
        "catalog-add-product",
        json!({"env": "test", "draft": {"name": "Temporary"}, "form_key": null}),
    )
    .await;
    let (status, deleted) =
        call(&app, &admin, "catalog-delete-product", json!({"env": "test", "id": bare["stripeProductId"]})).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["deleted"], true);
}

/// The badge of a product's card in the catalog page as the server renders it.
fn product_badge(html: &str, product_id: &str) -> String {
    let card = html.split(&format!("data-product-id=\"{product_id}\"")).nth(1).expect("the product's card");
    let badge = card.split("data-testid=\"status-badge\"").nth(1).expect("its badge");
    badge.split('>').nth(1).and_then(|t| t.split('<').next()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_product_whose_prices_are_all_archived_is_not_shown_as_for_sale() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let view = catalog(&app, &admin).await;
    let form_key = view["form_key"].as_str().unwrap().to_string();
    let product_id = add_product(&app, &admin, &form_key, 1, "Gadget").await;
    let price = add_price(&app, &admin, &form_key, 2, &product_id, 900).await;
    let page = || async { admin.get(app.url("/test/catalog")).send().await.unwrap().text().await.unwrap() };
    assert_eq!(product_badge(&page().await, &product_id), "Active");

    // Its only price archived: active, but nothing can buy it (issue #15, defect 3).
    let (status, _) =
        call(&app, &admin, "catalog-archive-price", json!({"env": "test", "id": price["stripePriceId"]})).await;
    assert_eq!(status, 200);
    assert_eq!(product_badge(&page().await, &product_id), "Not for sale");
}

/// The expanded card of a product in the catalog page as the server renders it (up to the next
/// card).
fn product_card(html: &str, product_id: &str) -> String {
    let card = html.split(&format!("data-product-id=\"{product_id}\"")).nth(1).expect("the product's card");
    card.split("data-testid=\"product\"").next().unwrap_or(card).to_string()
}

/// A product with prices cannot be deleted (Stripe refuses): the card says so instead of offering
/// a delete that can only fail, once it is inactive; while it is active, its delete dialog offers
/// to deactivate it (issue #15, defect 2). A product without prices keeps its delete button.
#[tokio::test]
async fn a_product_with_prices_is_not_offered_a_delete_that_stripe_refuses() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let view = catalog(&app, &admin).await;
    let form_key = view["form_key"].as_str().unwrap().to_string();
    let priced = add_product(&app, &admin, &form_key, 1, "Priced").await;
    add_price(&app, &admin, &form_key, 2, &priced, 900).await;
    let bare = add_product(&app, &admin, &form_key, 3, "Bare").await;
    let card = |id: String| {
        let admin = admin.clone();
        let url = app.url(&format!("/test/catalog?product={id}"));
        async move { product_card(&admin.get(url).send().await.unwrap().text().await.unwrap(), &id) }
    };

    // Active with prices: the button is there; its dialog offers "Deactivate product".
    let active = card(priced.clone()).await;
    assert!(active.contains("data-testid=\"delete-product\""), "{active}");
    assert!(active.contains("data-delete-plan=\"deactivate\""), "{active}");
    // Without prices: a real delete.
    let plain = card(bare.clone()).await;
    assert!(plain.contains("data-delete-plan=\"delete\""), "{plain}");

    // Inactive with prices: nothing left to offer, and the card says why.
    let (status, _) =
        call(&app, &admin, "catalog-edit-product", json!({"env": "test", "id": priced, "changes": {"active": false}}))
            .await;
    assert_eq!(status, 200);
    let inactive = card(priced.clone()).await;
    assert!(!inactive.contains("data-testid=\"delete-product\""), "{inactive}");
    assert!(inactive.contains("data-testid=\"delete-impossible\""), "{inactive}");
    assert!(inactive.contains("Stripe does not delete a product that has prices"), "{inactive}");
}

/// Posts one of the catalog page's row forms, URL-encoded as the page's island sends them.
async fn post_form(app: &TestApp, client: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let res = client.post(app.url(&format!("/api/console/{endpoint}"))).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The `<form>` of the page around the element with this test id (its opening tag, fields and
/// button), for the row forms' checks.
fn form_around<'a>(html: &'a str, testid: &str) -> &'a str {
    let at = html.find(&format!("data-testid=\"{testid}\"")).unwrap_or_else(|| panic!("no {testid} in {html}"));
    let start = html[..at].rfind("<form").expect("a form around it");
    let end = at + html[at..].find("</form>").expect("its end");
    &html[start..end]
}

/// The catalog is the server's HTML (issue #13): filters applied by the page's island in place,
/// row controls as forms it sends, and an editor only where the address opens one, as an island of
/// its own whose props carry what it edits; support staff get neither. The row forms' functions
/// do what the page says they do.
#[tokio::test]
async fn the_catalog_is_the_servers_html_and_its_editors_are_opened_by_the_address() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let view = catalog(&app, &admin).await;
    let form_key = view["form_key"].as_str().unwrap().to_string();
    let product = add_product(&app, &admin, &form_key, 1, "Widget").await;
    let price = add_price(&app, &admin, &form_key, 2, &product, 700).await;
    let price_id = price["stripePriceId"].as_str().unwrap().to_string();

    let page = app.page(&admin, &format!("/test/catalog?q=widg&product={product}")).await;
    assert!(!page.contains("split_hydrate"), "nothing to preload: {page}");
    assert!(page.contains(r#"<leptos-island data-component="PageForms"#), "{page}");
    assert!(!page.contains("CatalogEditorIsland"), "no editor is open: {page}");
    // The search filters on the server, and its form is applied in place.
    assert!(page.contains(r#"data-instant"#) && page.contains(r#"value="widg""#), "{page}");
    assert!(page.contains("Widget") && !page.contains(">Starter<"), "{page}");
    // The editors are links that keep the filters.
    for (testid, edit) in [
        ("new-product", format!("?q=widg&amp;product={product}&amp;edit=new-product")),
        ("edit-product", format!("?q=widg&amp;product={product}&amp;edit=product")),
        ("add-price", format!("?q=widg&amp;product={product}&amp;edit=new-price")),
        ("edit-price", format!("?q=widg&amp;product={product}&amp;edit=price&amp;price={price_id}")),
        ("change-amount", format!("?q=widg&amp;product={product}&amp;edit=amount&amp;price={price_id}")),
    ] {
        let link = format!(r#"href="/test/catalog{edit}" data-testid="{testid}""#);
        assert!(page.contains(&link), "{link} in {page}");
    }
    // The row controls are forms, enabled by the island, asking first where they must.
    let archive = form_around(&page, "archive-price");
    for part in [
        r#"action="/api/console/catalog-archive-price-form""#,
        r#"data-confirm="Archive $7.00?""#,
        "data-destructive",
        &format!(r#"name="id" value="{price_id}""#),
        "data-needs-js",
    ] {
        assert!(archive.contains(part), "{part} in {archive}");
    }
    let delete = form_around(&page, "delete-product");
    assert!(delete.contains(r#"action="/api/console/catalog-product-active-form""#), "{delete}");
    assert!(delete.contains(r#"data-delete-plan="deactivate""#) && delete.contains(r#"value="false""#), "{delete}");

    // Each editor, opened by the address, with what it edits in its props.
    for (edit, dialog, carries) in [
        ("edit=new-product".to_string(), "product-form", "NewProduct"),
        (format!("product={product}&edit=product"), "product-form", "Widget"),
        (format!("product={product}&edit=new-price"), "price-form", "New price for Widget"),
        (format!("product={product}&edit=price&price={price_id}"), "price-edit-form", price_id.as_str()),
        (format!("product={product}&edit=amount&price={price_id}"), "change-amount-form", "Change the amount"),
    ] {
        let html = app.page(&admin, &format!("/test/catalog?{edit}")).await;
        let island = html.find(r#"<leptos-island data-component="CatalogEditorIsland""#).map(|at| &html[at..]);
        let island = island.unwrap_or_else(|| panic!("{edit}: no editor in {html}"));
        assert!(island.contains(&format!(r#"data-testid="{dialog}""#)), "{edit}: {island}");
        assert!(island.contains(carries), "{edit}: {carries} in {island}");
        // Its buttons wait for the island, and Cancel is a link back.
        assert!(
            island.contains(r#"<a href="/test/catalog"#) && island.contains(r#"class="button-secondary">Cancel</a>"#)
        );
        assert!(island.contains(" disabled "), "{edit}: {island}");
    }
    // What the address names is gone: a notice, no editor.
    let gone = app.page(&admin, "/test/catalog?edit=price&price=price_missing").await;
    assert!(gone.contains(r#"data-testid="editor-gone""#) && !gone.contains("CatalogEditorIsland"), "{gone}");
    // Support staff get no editor and no control.
    let read = app.page(&support, &format!("/test/catalog?product={product}&edit=product")).await;
    for absent in
        ["CatalogEditorIsland", "data-testid=\"new-product\"", "data-testid=\"archive-price\"", "data-enhance"]
    {
        assert!(!read.contains(absent), "support gets no {absent}: {read}");
    }
    for endpoint in ["catalog-archive-price-form", "catalog-restore-price-form", "catalog-delete-product-form"] {
        let id = if endpoint.contains("price") { price_id.as_str() } else { product.as_str() };
        let (status, _) = post_form(&app, &support, endpoint, &[("env", "test"), ("id", id)]).await;
        assert_eq!(status, 403, "{endpoint}");
    }

    // The row forms as the island sends them.
    let card = || {
        let (admin, url) = (admin.clone(), app.url(&format!("/test/catalog?product={product}")));
        async move { admin.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let (status, body) =
        post_form(&app, &admin, "catalog-archive-price-form", &[("env", "test"), ("id", &price_id)]).await;
    assert_eq!(status, 200, "{body}");
    let html = card().await;
    assert!(
        html.contains(r#"data-testid="restore-price""#) && !html.contains(r#"data-testid="archive-price""#),
        "{html}"
    );
    let (status, body) =
        post_form(&app, &admin, "catalog-restore-price-form", &[("env", "test"), ("id", &price_id)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(card().await.contains(r#"data-testid="archive-price""#));
    let form = [("env", "test"), ("id", product.as_str()), ("active", "false")];
    let (status, body) = post_form(&app, &admin, "catalog-product-active-form", &form).await;
    assert_eq!((status, body["active"].clone()), (200, json!(false)), "{body}");
    let html = card().await;
    assert!(
        html.contains(r#"data-testid="activate-product""#) && html.contains(r#"data-testid="delete-impossible""#),
        "{html}"
    );
    // Stripe refuses to delete a product with prices; one without is deleted.
    let (status, err) =
        post_form(&app, &admin, "catalog-delete-product-form", &[("env", "test"), ("id", &product)]).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("has one or more user-created prices"), "{err}");
    let bare = add_product(&app, &admin, &form_key, 3, "Bare").await;
    let (status, body) =
        post_form(&app, &admin, "catalog-delete-product-form", &[("env", "test"), ("id", &bare)]).await;
    assert_eq!(status, 200, "{body}");
    assert!(!app.page(&admin, "/test/catalog").await.contains(&bare));
}

// ---- Copying the catalog to live (issue #14) ----

/// Sets demo mode's live key (its second sandbox accepts any `sk_live_` key).
async fn connect_live(app: &TestApp, admin: &reqwest::Client) {
    let res = admin
        .post(app.url("/api/console/keys-set"))
        .form(&[("environment", "live"), ("key", "sk_live_sandbox")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// Products and prices Stripe holds in live mode.
async fn live_objects(app: &TestApp) -> (Vec<Value>, Vec<Value>) {
    let products = app.live_sandbox_get("/v1/products?limit=100").await["data"].as_array().unwrap().clone();
    let prices = app.live_sandbox_get("/v1/prices?limit=100").await["data"].as_array().unwrap().clone();
    (products, prices)
}

async fn preview(app: &TestApp, client: &reqwest::Client, products: &[&str]) -> (u16, Value) {
    call(app, client, "catalog-copy-preview", json!({"products": products})).await
}

async fn run_copy(
    app: &TestApp,
    client: &reqwest::Client,
    products: &[&str],
    confirm: &str,
    plan: &Value,
) -> (u16, Value) {
    let body = json!({"products": products, "confirm": confirm, "fingerprint": plan["fingerprint"]});
    call(app, client, "catalog-copy-run", body).await
}

/// Every row of a plan (products and prices) with its change.
fn plan_changes(plan: &Value) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for p in plan["products"].as_array().unwrap() {
        rows.push((p["source_id"].as_str().unwrap().to_owned(), p["change"].as_str().unwrap().to_owned()));
        for q in p["prices"].as_array().unwrap() {
            rows.push((q["source_id"].as_str().unwrap().to_owned(), q["change"].as_str().unwrap().to_owned()));
        }
    }
    rows
}

fn report_row<'a>(report: &'a Value, source: &str) -> &'a Value {
    report["rows"].as_array().unwrap().iter().find(|r| r["source_id"] == source).expect("a report row")
}

#[tokio::test]
async fn the_catalog_is_copied_to_live_once_updated_on_change_and_refusals_stay_on_their_row() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let view = catalog(&app, &admin).await;
    let test_products: Vec<String> = view["catalog"]["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stripeProductId"].as_str().unwrap().to_owned())
        .collect();
    let all: Vec<&str> = test_products.iter().map(String::as_str).collect();

    // Without a live key the page says so and links to Keys; the server functions refuse.
    let page = app.page(&admin, "/test/catalog/copy").await;
    assert!(page.contains("data-testid=\"copy-no-live-key\"") && page.contains("href=\"/live/keys\""), "{page}");
    let (status, err) = preview(&app, &admin, &all).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("live environment has no Stripe key"), "{err}");

    connect_live(&app, &admin).await;
    let (status, source) = call(&app, &admin, "catalog-copy-source", json!({})).await;
    assert_eq!(status, 200, "{source}");
    assert_eq!((source["test_connected"].as_bool(), source["live_connected"].as_bool()), (Some(true), Some(true)));
    assert_eq!(source["products"].as_array().unwrap().len(), test_products.len());
    assert!(app.page(&admin, "/test/catalog").await.contains("data-testid=\"copy-to-live\""));
    assert!(!app.page(&admin, "/live/catalog").await.contains("copy-to-live"), "offered in test mode only");
    let page = app.page(&admin, "/test/catalog/copy").await;
    assert!(page.contains("data-testid=\"copy-all\"") && page.contains("Credits pack"), "{page}");

    // The preview: everything is created, with its amounts, intervals and lookup keys.
    let (status, plan) = preview(&app, &admin, &all).await;
    assert_eq!(status, 200, "{plan}");
    let changes = plan_changes(&plan);
    assert_eq!(changes.len(), 5 + 8, "{plan}");
    assert!(changes.iter().all(|(_, c)| c == "Create"), "{changes:?}");
    let pro = plan["products"].as_array().unwrap().iter().find(|p| p["name"] == "Pro").unwrap().clone();
    let monthly = pro["prices"].as_array().unwrap().iter().find(|q| q["label"] == "$29.00 / month").unwrap();
    let fields: Vec<String> = monthly["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}={}", f["field"].as_str().unwrap(), f["to"].as_str().unwrap_or("")))
        .collect();
    for expected in ["amount=$29.00", "currency=usd", "interval=every month", "lookup key=pro_monthly"] {
        assert!(fields.iter().any(|f| f == expected), "{expected} in {fields:?}");
    }

    // Without the typed confirmation nothing is written.
    let (status, err) = run_copy(&app, &admin, &all, "yes", &plan).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("type live to confirm"), "{err}");
    assert!(live_objects(&app).await.0.is_empty());
    // Nor with a preview of other catalogs.
    let stale = json!({"fingerprint": "0000"});
    let (status, err) = run_copy(&app, &admin, &all, "live", &stale).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("changed since the preview"), "{err}");

    // The copy: every object created in live, each recording its test id.
    let (status, report) = run_copy(&app, &admin, &all, "live", &plan).await;
    assert_eq!(status, 200, "{report}");
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 13);
    assert!(rows.iter().all(|r| r["outcome"] == "Done" && r["live_id"].is_string()), "{report}");
    let (products, prices) = live_objects(&app).await;
    assert_eq!((products.len(), prices.len()), (5, 8));
    let live_pro = products.iter().find(|p| p["name"] == "Pro").unwrap();
    assert_eq!(live_pro["metadata"]["insforge_copied_from"], pro["source_id"]);
    assert_eq!(live_pro["metadata"]["catalog"], "demo");
    let live_monthly = prices.iter().find(|p| p["lookup_key"] == "pro_monthly").unwrap();
    assert_eq!(live_monthly["unit_amount"], 2900);
    assert_eq!(live_monthly["recurring"]["interval"], "month");
    assert_eq!(live_monthly["product"], live_pro["id"]);
    assert_eq!(live_monthly["metadata"]["insforge_copied_from"], monthly["source_id"]);
    // Each live write is in the audit log, once (the engine audits its catalog writes).
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'payments.catalog.product.create' AND environment = 'live'",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(audited, 5);

    // Copying again: everything is unchanged, and a re-run creates nothing.
    let (_, again) = preview(&app, &admin, &all).await;
    assert!(plan_changes(&again).iter().all(|(_, c)| c == "Unchanged"), "{again}");
    let (status, rerun) = run_copy(&app, &admin, &all, "live", &again).await;
    assert_eq!(status, 200, "{rerun}");
    assert!(rerun["rows"].as_array().unwrap().iter().all(|r| r["outcome"] == "Unchanged"), "{rerun}");
    let (products, prices) = live_objects(&app).await;
    assert_eq!((products.len(), prices.len()), (5, 8));

    // A renamed test product is an update, old → new.
    let pro_id = pro["source_id"].as_str().unwrap();
    let (status, _) = call(
        &app,
        &admin,
        "catalog-edit-product",
        json!({"env": "test", "id": pro_id, "changes": {"name": "Pro Plus"}}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, renamed) = preview(&app, &admin, &[pro_id]).await;
    let row = &renamed["products"][0];
    assert_eq!(row["change"], "Update", "{renamed}");
    assert_eq!(row["fields"], json!([{"field": "name", "from": "Pro", "to": "Pro Plus"}]));
    assert_eq!(row["live_id"], live_pro["id"]);

    // A refusal: the lookup key a new test price wants is still held by another live copy. The
    // rename in the same run succeeds, the new product is created, its price is refused.
    let old_monthly = monthly["source_id"].as_str().unwrap();
    let (status, edited) = call(
        &app,
        &admin,
        "catalog-edit-price",
        json!({"env": "test", "id": old_monthly, "changes": {"lookupKey": null}}),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["lookupKey"], Value::Null, "the edit form's removal of a lookup key");
    let form_key = view["form_key"].as_str().unwrap();
    let gizmo = add_product(&app, &admin, form_key, 90, "Gizmo").await;
    let draft = json!({"stripeProductId": gizmo, "currency": "usd", "unitAmount": 3100, "lookupKey": "pro_monthly",
        "recurring": {"interval": "month"}});
    let (status, gizmo_price) = call(
        &app,
        &admin,
        "catalog-add-price",
        json!({"env": "test", "draft": draft, "form_key": format!("{form_key}-91")}),
    )
    .await;
    assert_eq!(status, 200, "{gizmo_price}");
    let gizmo_price = gizmo_price["stripePriceId"].as_str().unwrap();
    // Pro is not chosen, so its monthly copy keeps the key; Starter's new description is.
    let starter = view["catalog"]["products"].as_array().unwrap().iter().find(|p| p["name"] == "Starter").unwrap();
    let starter_id = starter["stripeProductId"].as_str().unwrap();
    let (status, _) = call(
        &app,
        &admin,
        "catalog-edit-product",
        json!({"env": "test", "id": starter_id, "changes": {"description": "For one person"}}),
    )
    .await;
    assert_eq!(status, 200);
    let chosen = [starter_id, gizmo.as_str()];
    let (_, plan) = preview(&app, &admin, &chosen).await;
    let gizmo_row = plan["products"].as_array().unwrap().iter().find(|p| p["source_id"] == gizmo).unwrap();
    assert_eq!(gizmo_row["change"], "Create");
    assert!(gizmo_row["prices"][0]["note"].as_str().unwrap().contains("belongs to live price"), "{plan}");
    let (status, report) = run_copy(&app, &admin, &chosen, "live", &plan).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report_row(&report, starter_id)["outcome"], "Done", "{report}");
    assert_eq!(report_row(&report, &gizmo)["outcome"], "Done", "{report}");
    let refused = report_row(&report, gizmo_price);
    assert_eq!(refused["outcome"], "Refused", "{report}");
    assert!(refused["message"].as_str().unwrap().contains("already uses that lookup key"), "{report}");
    let (products, prices) = live_objects(&app).await;
    assert_eq!((products.len(), prices.len()), (6, 8));
    assert!(products.iter().any(|p| p["description"] == "For one person"));

    // Copying Pro too releases the key first (its monthly copy loses it), so Gizmo's price
    // goes through: nothing is created twice.
    let chosen = [pro_id, gizmo.as_str()];
    let (_, plan) = preview(&app, &admin, &chosen).await;
    let (status, report) = run_copy(&app, &admin, &chosen, "live", &plan).await;
    assert_eq!(status, 200, "{report}");
    assert!(report["rows"].as_array().unwrap().iter().all(|r| r["outcome"] != "Refused"), "{report}");
    assert_eq!(report_row(&report, gizmo_price)["outcome"], "Done", "{report}");
    assert_eq!(report_row(&report, &gizmo)["outcome"], "Unchanged", "{report}");
    let (products, prices) = live_objects(&app).await;
    assert_eq!((products.len(), prices.len()), (6, 9));
    assert!(products.iter().any(|p| p["name"] == "Pro Plus"));
    let holder = prices.iter().find(|p| p["lookup_key"] == "pro_monthly").unwrap();
    assert_eq!(holder["metadata"]["insforge_copied_from"], gizmo_price);
}

#[tokio::test]
async fn support_may_not_copy_the_catalog_to_live() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    for (endpoint, body) in [
        ("catalog-copy-source", json!({})),
        ("catalog-copy-preview", json!({"products": ["prod_x"]})),
        ("catalog-copy-run", json!({"products": ["prod_x"], "confirm": "live", "fingerprint": "x"})),
    ] {
        let (status, _) = call(&app, &support, endpoint, body).await;
        assert_eq!(status, 403, "{endpoint}");
    }
    let res = support.get(app.url("/test/catalog/copy")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    // Nor is the button offered to them.
    let page = app.page(&support, "/test/catalog").await;
    assert!(!page.contains("copy-to-live"));
}

#[tokio::test]
async fn a_hand_made_live_price_with_another_amount_is_replaced_and_keeps_its_lookup_key() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let view = catalog(&app, &admin).await;
    connect_live(&app, &admin).await;
    // Live mode already has Pro, made by hand: its monthly price has the key and an old amount.
    let (status, hand_made) = call(
        &app,
        &admin,
        "catalog-add-product",
        json!({"env": "live", "draft": {"name": "Pro (old)"}, "form_key": null}),
    )
    .await;
    assert_eq!(status, 200, "{hand_made}");
    let draft = json!({"stripeProductId": hand_made["stripeProductId"], "currency": "usd", "unitAmount": 2500,
        "lookupKey": "pro_monthly", "recurring": {"interval": "month"}});
    let (status, old_price) =
        call(&app, &admin, "catalog-add-price", json!({"env": "live", "draft": draft, "form_key": null})).await;
    assert_eq!(status, 200, "{old_price}");
    let old_id = old_price["stripePriceId"].as_str().unwrap();

    let pro = view["catalog"]["products"].as_array().unwrap().iter().find(|p| p["name"] == "Pro").unwrap();
    let pro_id = pro["stripeProductId"].as_str().unwrap();
    let (_, plan) = preview(&app, &admin, &[pro_id]).await;
    let row = &plan["products"][0];
    assert_eq!(
        (&row["change"], &row["matched_by"], &row["live_id"]),
        (&json!("Update"), &json!("LookupKey"), &hand_made["stripeProductId"])
    );
    assert!(
        row["fields"].as_array().unwrap().contains(&json!({"field": "name", "from": "Pro (old)", "to": "Pro"})),
        "{row}"
    );
    let monthly = row["prices"].as_array().unwrap().iter().find(|q| q["live_id"] == old_id).expect("matched by key");
    assert_eq!(monthly["change"], "Replace", "{plan}");
    assert_eq!(monthly["fields"], json!([{"field": "amount", "from": "$25.00 / month", "to": "$29.00 / month"}]));
    assert!(monthly["note"].as_str().unwrap().contains(&format!("moves to it from {old_id}")), "{monthly}");

    let (status, report) = run_copy(&app, &admin, &[pro_id], "live", &plan).await;
    assert_eq!(status, 200, "{report}");
    assert!(report["rows"].as_array().unwrap().iter().all(|r| r["outcome"] == "Done"), "{report}");
    let (products, prices) = live_objects(&app).await;
    assert_eq!(products.len(), 1, "the hand-made product is the copy: {products:?}");
    let new_monthly = prices.iter().find(|p| p["lookup_key"] == "pro_monthly").unwrap();
    assert_eq!((new_monthly["unit_amount"].as_i64(), new_monthly["active"].as_bool()), (Some(2900), Some(true)));
    assert_ne!(new_monthly["id"], old_id);
    let old = prices.iter().find(|p| p["id"] == old_id).unwrap();
    assert_eq!((old["active"].as_bool(), &old["lookup_key"]), (Some(false), &Value::Null));
    // And the next preview has nothing left to do.
    let (_, again) = preview(&app, &admin, &[pro_id]).await;
    assert!(plan_changes(&again).iter().all(|(_, c)| c == "Unchanged"), "{again}");
}

/// "Change the amount" when Stripe refuses the new price: the lookup key, taken off the old
/// price to make room, is put back, and nothing else changes.
#[tokio::test]
async fn a_refused_new_price_puts_the_lookup_key_back_on_the_old_price() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let view = catalog(&app, &admin).await;
    let form_key = view["form_key"].as_str().unwrap().to_string();
    let product_id = add_product(&app, &admin, &form_key, 1, "Sprocket").await;
    let draft = json!({"stripeProductId": product_id, "currency": "usd", "unitAmount": 700, "lookupKey": "sprocket"});
    let body = json!({"env": "test", "draft": draft, "form_key": format!("{form_key}-2")});
    let (status, old) = call(&app, &admin, "catalog-add-price", body).await;
    assert_eq!(status, 200, "{old}");
    let old_id = old["stripePriceId"].as_str().unwrap().to_string();

    // Stripe refuses the new price: its idempotency key (the console's form key with a digest
    // of the request, prefixed by the engine) was already used for another request, which Stripe
    // answers with a 400 `idempotency_error` that no client retries.
    let other = add_product(&app, &admin, &form_key, 4, "Elsewhere").await;
    let digest = payments_console::server::ids::token_digest(&json!([old_id, 900, true, true, "sprocket"]).to_string());
    let key = format!("insforge:test:price:console-{form_key}-3-{}", &digest[..16]);
    let sandbox = app.state.settings.demo_sandbox_url.clone().expect("demo sandbox");
    let squatter = reqwest::Client::new()
        .post(format!("{sandbox}/v1/prices"))
        .bearer_auth("sk_test_sandbox")
        .header("Idempotency-Key", &key)
        .form(&[("product", other.as_str()), ("currency", "usd"), ("unit_amount", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(squatter.status(), 200);
    let (status, err) = change_amount(&app, &admin, &product_id, &old_id, 900, json!(format!("{form_key}-3"))).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("The new price was not created"), "{err}");
    assert!(err.to_string().contains("stays on the old price"), "{err}");

    let view = catalog(&app, &admin).await;
    let old_now = price(&view, &old_id);
    assert_eq!((&old_now["lookupKey"], &old_now["active"]), (&json!("sprocket"), &json!(true)), "{old_now}");
    let on_product =
        view["catalog"]["prices"].as_array().unwrap().iter().filter(|p| p["stripeProductId"] == product_id);
    assert_eq!(on_product.count(), 1, "no new price: {view}");
}

/// "Change the amount" whose last step fails (Stripe keeps refusing to archive the old price):
/// the new price exists, so the answer is a success that names the problem, with a success
/// status (an error status on it made the page's client read a success as a failure).
#[tokio::test]
async fn an_amount_change_whose_old_price_stays_active_succeeds_and_says_why() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let view = catalog(&app, &admin).await;
    let old = view["catalog"]["prices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["active"] == true && p["unitAmount"].as_i64().is_some() && p["billingScheme"] != "tiered")
        .expect("the demo catalog has a fixed-amount price")
        .clone();
    let (old_id, product) = (old["stripePriceId"].as_str().unwrap(), old["stripeProductId"].as_str().unwrap());
    let sandbox = app.state.settings.demo_sandbox_url.clone().expect("demo sandbox");
    let fault = json!({"path_prefix": format!("/v1/prices/{old_id}"), "method": "POST", "status": 500, "count": 50});
    let res = reqwest::Client::new().post(format!("{sandbox}/_sandbox/faults")).json(&fault).send().await.unwrap();
    assert!(res.status().is_success());

    let body = json!({"env": "test", "product_id": product, "price_id": old_id,
                      "unit_amount": old["unitAmount"].as_i64().unwrap() + 100,
                      "move_lookup_key": false, "archive_old": true, "form_key": null});
    let (status, change) = call(&app, &admin, "catalog-change-amount", body).await;
    assert_eq!(status, 200, "{change}");
    assert_eq!(change["archived_old"], false, "{change}");
    let problems = change["problems"].as_array().unwrap();
    assert!(problems.len() == 1 && problems[0].as_str().unwrap().contains("could not be archived"), "{change}");
    let new_id = change["new_price"]["stripePriceId"].as_str().unwrap();
    assert!(price(&catalog(&app, &admin).await, new_id)["active"] == true);
}

/// The value of the hidden field `name` in a page's HTML.
fn hidden_value(html: &str, name: &str) -> String {
    let at = html.find(&format!(r#"name="{name}""#)).unwrap_or_else(|| panic!("no field {name}: {html}"));
    let tag = &html[html[..at].rfind('<').unwrap()..at + html[at..].find('>').unwrap()];
    let value = &tag[tag.find(r#"value=""#).unwrap_or_else(|| panic!("{tag}")) + 7..];
    value[..value.find('"').unwrap()].to_owned()
}

/// Copying the catalog is the server's HTML (issue #13): the choice is a GET form whose address
/// the server previews, and the copy a form posting URL-encoded fields to a server function that
/// answers the report in the page's words, which the page's template shows
/// (`crate::pages::catalog_copy`).
#[tokio::test]
async fn the_copy_page_previews_its_address_and_copies_through_its_form() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    connect_live(&app, &admin).await;
    let (_, source) = call(&app, &admin, "catalog-copy-source", json!({})).await;
    let products: Vec<(String, String)> = source["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_owned(), p["name"].as_str().unwrap().to_owned()))
        .collect();
    let pro = &products.iter().find(|(_, name)| name == "Pro").expect("the demo's Pro").0;

    // No choice in the address: the form only, nothing previewed.
    let page = app.page(&admin, "/test/catalog/copy").await;
    assert!(
        page.contains(r#"data-testid="copy-choose-form""#) && !page.contains(r#"data-testid="copy-plan""#),
        "{page}"
    );
    assert!(!page.contains("PagesIsland") && page.contains(r#"data-component="PageForms"#), "{page}");
    // Preview asked for with nothing chosen: said so.
    let page = app.page(&admin, "/test/catalog/copy?preview=1").await;
    assert!(page.contains("Choose at least one product to copy."), "{page}");

    // One product: its box ticked, its plan, and the form that copies exactly it.
    let page = app.page(&admin, &format!("/test/catalog/copy?preview=1&product={pro}")).await;
    let ticked = |page: &str| {
        page.split("<input")
            .map(|tag| &tag[..tag.find('>').unwrap_or(tag.len())])
            .filter(|tag| tag.contains(r#"data-testid="copy-product""#) && tag.contains("checked"))
            .count()
    };
    assert_eq!(ticked(&page), 1, "{page}");
    assert!(page.contains(r#"data-testid="copy-plan""#) && page.contains("to create"), "{page}");
    assert!(page.contains(r#"action="/api/console/catalog-copy-run-form""#), "{page}");
    assert_eq!(hidden_value(&page, "products[0]"), *pro);
    assert!(!page.contains("products[1]"), "{page}");
    let run = &page[page.find(r#"data-testid="copy-run""#).unwrap()..];
    assert!(run[..run.find('>').unwrap()].contains("disabled"), "copied only once `live` is typed: {run}");
    assert!(page.contains(r#"<template id="copy-report">"#), "{page}");
    // Every product with `all`.
    let page = app.page(&admin, "/test/catalog/copy?all=1").await;
    assert_eq!(ticked(&page), products.len(), "{page}");
    assert!(!hidden_value(&page, &format!("products[{}]", products.len() - 1)).is_empty(), "{page}");

    // The form's post: refused without `live`, and for support staff; then the report.
    let page = app.page(&admin, &format!("/test/catalog/copy?product={pro}")).await;
    let fingerprint = hidden_value(&page, "fingerprint");
    let post = |client: &reqwest::Client, confirm: &'static str| {
        client
            .post(app.url("/api/console/catalog-copy-run-form"))
            .header("accept", "application/json")
            .form(&[("products[0]", pro.as_str()), ("confirm", confirm), ("fingerprint", fingerprint.as_str())])
            .send()
    };
    assert_eq!(post(&admin, "test").await.unwrap().status(), 400);
    assert_eq!(post(&support, "live").await.unwrap().status(), 403);
    let res = post(&admin, "live").await.unwrap();
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert!(report["summary"].as_str().unwrap().ends_with("0 refused, 0 skipped, 0 unchanged."), "{report}");
    let rows = report["rows"].as_array().unwrap();
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r["outcome"] == "Done" && r["outcome_class"] == "ok-text"),
        "{report}"
    );
    assert!(rows.iter().any(|r| r["object"] == "Product Pro" && r["source_id"] == pro.as_str()), "{report}");
    assert!(rows.iter().all(|r| r["live_id"].as_str().is_some_and(|id| !id.is_empty())), "{report}");
    // Read again, the same address finds live in step.
    let page = app.page(&admin, &format!("/test/catalog/copy?product={pro}")).await;
    assert!(page.contains(r#"data-testid="copy-nothing""#), "{page}");
}
