//! The catalog as other pages show it.

use crate::environment::Environment;
use std::collections::BTreeMap;

/// Labels of the catalog's products (`Pro`) and prices (`Pro · $29.00 / month`), for the
/// subscription items of the support pages; best-effort (an unreachable catalog gives none).
pub async fn labels(
    backend: &std::sync::Arc<dyn crate::backend::ssr::PaymentsBackend>,
    user: &crate::auth::CurrentUser,
    env: Environment,
) -> BTreeMap<String, String> {
    let Ok(catalog) = backend.catalog(user, env).await else { return BTreeMap::new() };
    let mut labels: BTreeMap<String, String> =
        catalog.products.iter().map(|p| (p.stripe_product_id.clone(), p.name.clone())).collect();
    for price in &catalog.prices {
        let product = price.stripe_product_id.as_ref().and_then(|p| labels.get(p)).cloned().unwrap_or_default();
        let amount = price.unit_amount.map(|a| crate::model::format::money(a, &price.currency)).unwrap_or_default();
        let every = match (price.recurring_interval.as_deref(), price.recurring_interval_count) {
            (Some(i), Some(n)) if n > 1 => format!(" / {n} {i}s"),
            (Some(i), _) => format!(" / {i}"),
            _ => String::new(),
        };
        let label = [product, format!("{amount}{every}")].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();
        labels.insert(price.stripe_price_id.clone(), label.join(" · "));
    }
    labels
}
