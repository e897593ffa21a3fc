//! Copying the catalog from test to live (issue #14), as Stripe's Dashboard does: a typed plan
//! of what would be created or updated in live ([`CopyPlan`]), then its execution row by row
//! with a per-object report ([`CopyReport`]).
//!
//! Live copies are matched to their test originals by the source id recorded in their metadata
//! ([`SOURCE_KEY`] = `prod_…` / `price_…` of the test object) and, for objects made by hand in
//! both modes, by the price's lookup key. Creates carry idempotency keys derived from the source
//! id and what is sent, so a retried or double-submitted copy creates nothing twice at Stripe
//! either. Stripe never changes a price's amount, currency or interval, and sets its tax
//! behaviour once: such a difference replaces the live price (a new one takes the lookup key,
//! the old one is archived), like the catalog page's "change the amount".
//!
//! The types cross to the browser; the planner and the executor run on the server only.

use serde::{Deserialize, Serialize};

/// The metadata key on a live object that names the test object it was copied from.
pub const SOURCE_KEY: &str = "insforge_copied_from";

/// What happens to one object in live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// A new live object.
    Create,
    /// The live copy's changeable fields are set to the test object's.
    Update,
    /// A new live price replaces the live copy (amount, currency, interval or tax behaviour
    /// differ, which Stripe cannot change); the old one is archived.
    Replace,
    /// The live copy already matches.
    Unchanged,
    /// Not copied (an archived test price never copied, or a price shape the copy does not
    /// handle); the row's note says why.
    NotCopied,
}

impl Change {
    /// Words for the preview table.
    pub fn label(self) -> &'static str {
        match self {
            Change::Create => "Create",
            Change::Update => "Update",
            Change::Replace => "Replace",
            Change::Unchanged => "Unchanged",
            Change::NotCopied => "Not copied",
        }
    }

    /// Whether executing the row writes to live.
    pub fn writes(self) -> bool {
        matches!(self, Change::Create | Change::Update | Change::Replace)
    }
}

/// How a live object was found to be the copy of a test object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchedBy {
    /// Its metadata names the test object ([`SOURCE_KEY`]).
    SourceId,
    /// It has the same lookup key (or, for a product, one of its prices has).
    LookupKey,
}

/// One field, before (in live) and after (from test); `None` is "not set".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// `name`, `amount`, `metadata.tier`, …
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A price of a product in the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricePlan {
    /// `price_…` in test.
    pub source_id: String,
    /// `$12.00 / month`.
    pub label: String,
    /// The live copy, when there is one.
    pub live_id: Option<String>,
    pub matched_by: Option<MatchedBy>,
    pub change: Change,
    /// For a create, every value sent; for an update or a replacement, what differs.
    pub fields: Vec<FieldChange>,
    /// What the row does beyond its fields (a replacement's steps), or why it will fail.
    pub note: Option<String>,
}

/// A product in the plan, with its prices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductPlan {
    /// `prod_…` in test.
    pub source_id: String,
    pub name: String,
    pub live_id: Option<String>,
    pub matched_by: Option<MatchedBy>,
    pub change: Change,
    pub fields: Vec<FieldChange>,
    pub prices: Vec<PricePlan>,
}

/// What copying the chosen products would do in live.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyPlan {
    pub products: Vec<ProductPlan>,
    /// A digest of the plan: the copy is refused if the catalogs changed since the preview.
    pub fingerprint: String,
}

impl CopyPlan {
    /// Every row's change, products and prices.
    pub fn changes(&self) -> impl Iterator<Item = Change> + '_ {
        self.products.iter().flat_map(|p| std::iter::once(p.change).chain(p.prices.iter().map(|q| q.change)))
    }

    /// How many rows have this change.
    pub fn count(&self, change: Change) -> usize {
        self.changes().filter(|c| *c == change).count()
    }

    /// Whether executing the plan would write anything.
    pub fn has_work(&self) -> bool {
        self.changes().any(Change::writes)
    }
}

/// How one row of an executed copy ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Created, updated or replaced in live.
    Done,
    /// Nothing to do.
    Unchanged,
    /// Stripe (or the backend) refused it; the message is theirs.
    Refused,
    /// Not attempted: its product failed, or the row is not copied.
    Skipped,
}

/// Product or price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectKind {
    Product,
    Price,
}

/// One object of an executed copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    pub kind: ObjectKind,
    /// The test object.
    pub source_id: String,
    /// The test product the row belongs to (itself for a product).
    pub product_source_id: String,
    pub label: String,
    pub change: Change,
    /// The live object written (or left alone).
    pub live_id: Option<String>,
    pub outcome: Outcome,
    /// Stripe's refusal, why it was skipped, or what went wrong after it was done.
    pub message: Option<String>,
}

/// The result of a copy, in the plan's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyReport {
    pub rows: Vec<ReportRow>,
}

impl CopyReport {
    /// How many rows ended so.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.rows.iter().filter(|r| r.outcome == outcome).count()
    }
}

/// A test product to choose on the copy page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductChoice {
    pub id: String,
    pub name: String,
    pub active: bool,
    /// Its prices in test.
    pub prices: usize,
}

/// What the copy page starts from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopySource {
    /// Whether each environment has a Stripe key: without a live one there is nowhere to copy to.
    pub test_connected: bool,
    pub live_connected: bool,
    /// The test catalog's products, by name.
    pub products: Vec<ProductChoice>,
}

/// What the admin types to confirm a copy.
pub const CONFIRMATION: &str = "live";

/// Whether the typed confirmation is the environment's name.
pub fn confirmed(typed: &str) -> bool {
    typed.trim() == CONFIRMATION
}

#[cfg(feature = "ssr")]
pub use self::ssr::*;

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::auth::CurrentUser;
    use crate::backend::ssr::{BackendError, PaymentsBackend};
    use crate::backend::{Metadata, PriceChanges, PriceDraft, ProductChanges, ProductDraft, RecurringDraft};
    use crate::environment::Environment;
    use crate::server::ids::token_digest;
    use payments_model::{Catalog, Price, Product, TaxBehavior};
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    /// Why a copy cannot be planned, in words for the admin.
    #[derive(Debug, thiserror::Error)]
    pub enum CopyError {
        /// Bad input (no product chosen, unknown product, missing confirmation, stale preview).
        #[error("{0}")]
        Invalid(String),
        /// An environment has no Stripe key.
        #[error("{0}")]
        NotConnected(String),
        /// A catalog could not be read.
        #[error(transparent)]
        Backend(#[from] BackendError),
    }

    /// A planned copy: what the browser sees, and the writes behind it.
    #[derive(Debug)]
    pub struct Planned {
        pub plan: CopyPlan,
        work: Vec<ProductWork>,
    }

    #[derive(Debug)]
    struct ProductWork {
        source_id: String,
        label: String,
        change: Change,
        op: ProductOp,
        prices: Vec<PriceWork>,
    }

    #[derive(Debug)]
    enum ProductOp {
        Create(ProductDraft),
        Update { live_id: String, changes: ProductChanges },
        Keep { live_id: String },
    }

    #[derive(Debug)]
    struct PriceWork {
        source_id: String,
        label: String,
        change: Change,
        op: PriceOp,
        /// For the preview.
        fields: Vec<FieldChange>,
        note: Option<String>,
    }

    #[derive(Debug)]
    enum PriceOp {
        /// `stripe_product_id` is filled in once the live product is known.
        Create(PriceDraft),
        Update {
            live_id: String,
            changes: PriceChanges,
        },
        /// Take `take_key` off the old price, create the new one, archive the old one.
        Replace {
            old_id: String,
            draft: PriceDraft,
            take_key: Option<String>,
            archive_old: bool,
        },
        Keep {
            live_id: String,
        },
        Skip {
            live_id: Option<String>,
            why: String,
        },
    }

    impl PriceOp {
        /// Stripe's lookup keys are unique: releases run before the writes that take a key.
        fn phase(&self) -> u8 {
            match self {
                PriceOp::Update { .. } | PriceOp::Keep { .. } | PriceOp::Skip { .. } => 0,
                PriceOp::Replace { .. } => 1,
                PriceOp::Create(_) => 2,
            }
        }
    }

    /// `$12.00 / month`, `€9.00`, `$29.00 every 3 months`.
    pub fn price_label(price: &Price) -> String {
        let amount = match (price.unit_amount, &price.unit_amount_decimal) {
            (Some(a), _) => crate::model::format::money(a, &price.currency),
            (None, Some(d)) => format!("{d} (minor units) {}", price.currency.to_uppercase()),
            (None, None) => "—".to_owned(),
        };
        match (price.recurring_interval.as_ref(), price.recurring_interval_count.unwrap_or(1)) {
            (Some(i), 1) => format!("{amount} / {i}"),
            (Some(i), n) => format!("{amount} every {n} {i}s"),
            (None, _) => amount,
        }
    }

    fn source_of(metadata: &Metadata) -> Option<&str> {
        metadata.get(SOURCE_KEY).map(String::as_str)
    }

    /// The live metadata a copy of `source` should have: the test object's, plus its source id.
    fn desired_metadata(test: &Metadata, source: &str) -> Metadata {
        let mut m = test.clone();
        m.insert(SOURCE_KEY.to_owned(), source.to_owned());
        m
    }

    /// The metadata update turning `live` into `desired` (Stripe merges; an empty value deletes),
    /// and its rows for the preview.
    fn metadata_changes(live: &Metadata, desired: &Metadata) -> (Option<Metadata>, Vec<FieldChange>) {
        let mut update = Metadata::new();
        let mut fields = Vec::new();
        for (k, v) in desired {
            if live.get(k) != Some(v) {
                update.insert(k.clone(), v.clone());
                fields.push(FieldChange {
                    field: format!("metadata.{k}"),
                    from: live.get(k).cloned(),
                    to: Some(v.clone()),
                });
            }
        }
        for (k, v) in live {
            if !desired.contains_key(k) {
                update.insert(k.clone(), String::new());
                fields.push(FieldChange { field: format!("metadata.{k}"), from: Some(v.clone()), to: None });
            }
        }
        ((!update.is_empty()).then_some(update), fields)
    }

    fn set(field: &str, to: Option<String>) -> FieldChange {
        FieldChange { field: field.to_owned(), from: None, to }
    }

    fn diff<T: PartialEq + ToString>(field: &str, from: T, to: T) -> Option<FieldChange> {
        (from != to).then(|| FieldChange {
            field: field.to_owned(),
            from: Some(from.to_string()),
            to: Some(to.to_string()),
        })
    }

    fn opt_diff(field: &str, from: Option<&str>, to: Option<&str>) -> Option<FieldChange> {
        (from != to).then(|| FieldChange {
            field: field.to_owned(),
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        })
    }

    fn interval(price: &Price) -> Option<String> {
        price.recurring_interval.as_ref().map(|i| match price.recurring_interval_count.unwrap_or(1) {
            1 => i.to_string(),
            n => format!("{n} {i}s"),
        })
    }

    /// Whether the copy can create this price: a fixed amount per unit.
    fn copyable(price: &Price) -> bool {
        price.unit_amount.is_some() && price.billing_scheme != Some(payments_model::BillingScheme::Tiered)
    }

    /// The live price a test price's copy would be created as (product id filled in later).
    fn price_draft(t: &Price) -> PriceDraft {
        PriceDraft {
            stripe_product_id: String::new(),
            currency: t.currency.clone(),
            unit_amount: t.unit_amount.unwrap_or_default(),
            lookup_key: t.lookup_key.clone(),
            active: Some(t.active),
            recurring: t.recurring_interval.clone().map(|interval| RecurringDraft {
                interval: interval.into(),
                interval_count: t.recurring_interval_count,
            }),
            tax_behavior: t.tax_behavior.clone(),
            metadata: Some(desired_metadata(&t.metadata, &t.stripe_price_id)),
            idempotency_key: None,
        }
    }

    /// What cannot change on a live price: a difference means a replacement.
    fn fixed_fields(l: &Price, t: &Price) -> Vec<FieldChange> {
        let money = |p: &Price| price_label(p);
        let mut fields = Vec::new();
        if l.unit_amount != t.unit_amount || l.currency != t.currency || interval(l) != interval(t) {
            fields.extend(diff("amount", money(l), money(t)));
        }
        // Stripe sets the tax behaviour once: from `unspecified` it can still be updated.
        if *l.tax() != TaxBehavior::Unspecified && l.tax() != t.tax() {
            fields.extend(diff("tax behaviour", l.tax(), t.tax()));
        }
        fields
    }

    /// Indexes of the live catalog.
    struct Live<'a> {
        products: BTreeMap<&'a str, &'a Product>,
        products_by_source: BTreeMap<&'a str, Vec<&'a Product>>,
        prices_by_source: BTreeMap<&'a str, Vec<&'a Price>>,
        prices_by_key: BTreeMap<&'a str, &'a Price>,
    }

    impl<'a> Live<'a> {
        fn new(live: &'a Catalog) -> Self {
            let mut index = Live {
                products: BTreeMap::new(),
                products_by_source: BTreeMap::new(),
                prices_by_source: BTreeMap::new(),
                prices_by_key: BTreeMap::new(),
            };
            for p in &live.products {
                index.products.insert(&p.stripe_product_id, p);
                if let Some(source) = source_of(&p.metadata) {
                    index.products_by_source.entry(source).or_default().push(p);
                }
            }
            for p in &live.prices {
                if let Some(source) = source_of(&p.metadata) {
                    index.prices_by_source.entry(source).or_default().push(p);
                }
                if let Some(key) = &p.lookup_key {
                    index.prices_by_key.insert(key, p);
                }
            }
            index
        }

        /// The live copy of a test price: by recorded source id (an active one with the same
        /// amount first, as a replaced copy keeps its source id), else by lookup key, if that
        /// live price was not copied from another test price.
        fn price_for(&self, t: &Price, claimed: &BTreeSet<String>) -> Option<(&'a Price, MatchedBy)> {
            let free = |p: &&&Price| !claimed.contains(&p.stripe_price_id);
            if let Some(candidates) = self.prices_by_source.get(t.stripe_price_id.as_str()) {
                let best = candidates
                    .iter()
                    .filter(free)
                    .max_by_key(|l| (l.active, fixed_fields(l, t).is_empty(), l.synced_at.as_str()));
                if let Some(l) = best {
                    return Some((l, MatchedBy::SourceId));
                }
            }
            let key = t.lookup_key.as_deref()?;
            let holder = self.prices_by_key.get(key)?;
            (source_of(&holder.metadata).is_none() && !claimed.contains(&holder.stripe_price_id))
                .then_some((*holder, MatchedBy::LookupKey))
        }

        /// The live copy of a test product: by recorded source id, else the product of a live
        /// price matched by lookup key (if that product was not copied from another test product).
        fn product_for(
            &self,
            t: &Product,
            matched_prices: &[Option<(&'a Price, MatchedBy)>],
        ) -> Option<(&'a Product, MatchedBy)> {
            if let Some(candidates) = self.products_by_source.get(t.stripe_product_id.as_str()) {
                if let Some(p) = candidates.iter().max_by_key(|p| p.active) {
                    return Some((p, MatchedBy::SourceId));
                }
            }
            matched_prices.iter().flatten().filter(|(_, by)| *by == MatchedBy::LookupKey).find_map(|(l, _)| {
                let product = self.products.get(l.stripe_product_id.as_deref()?)?;
                source_of(&product.metadata).is_none().then_some((*product, MatchedBy::LookupKey))
            })
        }
    }

    /// Plans copying the chosen test products (ids) with their prices to live.
    pub fn plan(test: &Catalog, live: &Catalog, chosen: &[String]) -> Result<Planned, CopyError> {
        if chosen.is_empty() {
            return Err(CopyError::Invalid("Choose at least one product to copy.".into()));
        }
        let chosen: BTreeSet<&str> = chosen.iter().map(String::as_str).collect();
        if let Some(unknown) = chosen.iter().find(|id| !test.products.iter().any(|p| p.stripe_product_id == **id)) {
            return Err(CopyError::Invalid(format!("The test catalog has no product {unknown}.")));
        }
        let index = Live::new(live);
        let mut claimed = BTreeSet::new();
        let mut work = Vec::new();
        for t in test.products.iter().filter(|p| chosen.contains(p.stripe_product_id.as_str())) {
            let prices: Vec<&Price> =
                test.prices.iter().filter(|p| p.stripe_product_id.as_deref() == Some(&t.stripe_product_id)).collect();
            let matches: Vec<_> = prices
                .iter()
                .map(|p| {
                    let m = index.price_for(p, &claimed);
                    if let Some((l, _)) = m {
                        claimed.insert(l.stripe_price_id.clone());
                    }
                    m
                })
                .collect();
            let product = index.product_for(t, &matches);
            let (op, change, fields) = product_op(t, product.map(|(p, _)| p));
            let price_work =
                prices.iter().zip(&matches).map(|(p, m)| price_work(p, m.map(|(l, _)| l))).collect::<Vec<_>>();
            work.push((
                ProductWork {
                    source_id: t.stripe_product_id.clone(),
                    label: t.name.clone(),
                    change,
                    op,
                    prices: price_work,
                },
                product,
                fields,
                matches,
            ));
        }
        let notes = key_conflicts(&index, work.iter().map(|(w, ..)| w));
        let products = work
            .iter()
            .map(|(w, product, fields, matches)| ProductPlan {
                source_id: w.source_id.clone(),
                name: w.label.clone(),
                live_id: product.map(|(p, _)| p.stripe_product_id.clone()),
                matched_by: product.map(|(_, by)| by),
                change: w.change,
                fields: fields.clone(),
                prices: w
                    .prices
                    .iter()
                    .zip(matches)
                    .map(|(p, m)| {
                        let (fields, mut note) = (p.fields.clone(), p.note.clone());
                        if let Some(conflict) = notes.get(p.source_id.as_str()) {
                            note = Some(
                                [note, Some(conflict.clone())].into_iter().flatten().collect::<Vec<_>>().join(" "),
                            );
                        }
                        PricePlan {
                            source_id: p.source_id.clone(),
                            label: p.label.clone(),
                            live_id: m.map(|(l, _)| l.stripe_price_id.clone()),
                            matched_by: m.map(|(_, by)| by),
                            change: p.change,
                            fields,
                            note,
                        }
                    })
                    .collect(),
            })
            .collect::<Vec<_>>();
        let fingerprint = token_digest(&serde_json::to_string(&products).unwrap_or_default())[..32].to_owned();
        Ok(Planned { plan: CopyPlan { products, fingerprint }, work: work.into_iter().map(|(w, ..)| w).collect() })
    }

    fn product_op(t: &Product, live: Option<&Product>) -> (ProductOp, Change, Vec<FieldChange>) {
        let desired = desired_metadata(&t.metadata, &t.stripe_product_id);
        let Some(l) = live else {
            let mut fields = vec![set("name", Some(t.name.clone()))];
            fields.extend(t.description.clone().map(|d| set("description", Some(d))));
            fields.push(set("active", Some(t.active.to_string())));
            fields.extend(desired.iter().map(|(k, v)| set(&format!("metadata.{k}"), Some(v.clone()))));
            let draft = ProductDraft {
                name: t.name.clone(),
                description: t.description.clone(),
                active: Some(t.active),
                metadata: Some(desired),
                idempotency_key: None,
            };
            return (ProductOp::Create(draft), Change::Create, fields);
        };
        let mut fields = Vec::new();
        let mut changes = ProductChanges::default();
        if let Some(f) = diff("name", &l.name, &t.name) {
            changes.name = Some(t.name.clone());
            fields.push(f);
        }
        if let Some(f) = opt_diff("description", l.description.as_deref(), t.description.as_deref()) {
            changes.description = Some(t.description.clone());
            fields.push(f);
        }
        if let Some(f) = diff("active", l.active, t.active) {
            changes.active = Some(t.active);
            fields.push(f);
        }
        let (metadata, meta_fields) = metadata_changes(&l.metadata, &desired);
        changes.metadata = metadata;
        fields.extend(meta_fields);
        let live_id = l.stripe_product_id.clone();
        if fields.is_empty() {
            (ProductOp::Keep { live_id }, Change::Unchanged, fields)
        } else {
            (ProductOp::Update { live_id, changes }, Change::Update, fields)
        }
    }

    fn price_work(t: &Price, live: Option<&Price>) -> PriceWork {
        let (change, op, fields) = price_op(t, live);
        let note = match &op {
            PriceOp::Replace { old_id, take_key, archive_old, .. } => {
                let mut steps = vec![
                    "Stripe cannot change a price's amount, currency or interval, nor its tax behaviour once set: a new live price is created".to_owned(),
                ];
                if let Some(k) = take_key {
                    steps.push(format!("the lookup key “{k}” moves to it from {old_id}"));
                }
                if *archive_old {
                    steps.push(format!("{old_id} is archived (existing subscriptions keep it)"));
                }
                Some(format!("{}.", steps.join(", ")))
            }
            PriceOp::Skip { why, .. } => Some(why.clone()),
            _ => None,
        };
        PriceWork { source_id: t.stripe_price_id.clone(), label: price_label(t), change, op, fields, note }
    }

    fn price_op(t: &Price, live: Option<&Price>) -> (Change, PriceOp, Vec<FieldChange>) {
        let not_copied = |live_id: Option<String>, why: &str| {
            (Change::NotCopied, PriceOp::Skip { live_id, why: why.to_owned() }, Vec::new())
        };
        const FIXED_ONLY: &str = "Only prices with a fixed amount per unit can be copied.";
        let Some(l) = live else {
            if !t.active {
                return not_copied(None, "Archived in test and never copied: not created in live.");
            }
            if !copyable(t) {
                return not_copied(None, FIXED_ONLY);
            }
            let draft = price_draft(t);
            let fields = created_fields(&draft);
            return (Change::Create, PriceOp::Create(draft), fields);
        };
        let live_id = l.stripe_price_id.clone();
        // An archived test price only archives its copy: a replacement would be pointless.
        let fixed = fixed_fields(l, t);
        if t.active && !fixed.is_empty() {
            if !copyable(t) {
                return not_copied(Some(live_id), FIXED_ONLY);
            }
            let take_key = l.lookup_key.clone().filter(|k| t.lookup_key.as_ref() == Some(k));
            let op = PriceOp::Replace { old_id: live_id, draft: price_draft(t), take_key, archive_old: l.active };
            return (Change::Replace, op, fixed);
        }
        let mut changes = PriceChanges::default();
        let mut fields = Vec::new();
        if let Some(f) = diff("active", l.active, t.active) {
            changes.active = Some(t.active);
            fields.push(f);
        }
        if let Some(f) = opt_diff("lookup key", l.lookup_key.as_deref(), t.lookup_key.as_deref()) {
            changes.lookup_key = Some(t.lookup_key.clone());
            fields.push(f);
        }
        if let Some(f) = diff("tax behaviour", l.tax(), t.tax()) {
            changes.tax_behavior = t.tax_behavior.clone();
            fields.push(f);
        }
        let (metadata, meta_fields) = metadata_changes(&l.metadata, &desired_metadata(&t.metadata, &t.stripe_price_id));
        changes.metadata = metadata;
        fields.extend(meta_fields);
        if fields.is_empty() {
            (Change::Unchanged, PriceOp::Keep { live_id }, fields)
        } else {
            (Change::Update, PriceOp::Update { live_id, changes }, fields)
        }
    }

    fn created_fields(d: &PriceDraft) -> Vec<FieldChange> {
        let mut fields = vec![
            set("amount", Some(crate::model::format::money(d.unit_amount, &d.currency))),
            set("currency", Some(d.currency.clone())),
            set(
                "interval",
                Some(match &d.recurring {
                    Some(r) => match r.interval_count.unwrap_or(1) {
                        1 => format!("every {}", r.interval),
                        n => format!("every {n} {}s", r.interval),
                    },
                    None => "one-time".to_owned(),
                }),
            ),
        ];
        fields.extend(d.lookup_key.clone().map(|k| set("lookup key", Some(k))));
        let tax = d.tax_behavior.as_ref().unwrap_or(&TaxBehavior::Unspecified);
        fields.push(set("tax behaviour", Some(tax.to_string())));
        fields.push(set("active", Some(d.active.unwrap_or(true).to_string())));
        for (k, v) in d.metadata.iter().flatten() {
            fields.push(set(&format!("metadata.{k}"), Some(v.clone())));
        }
        fields
    }

    /// Lookup keys a write would take from a live price that keeps holding them: Stripe refuses
    /// those, so the preview says so (the row is still attempted, and reported).
    fn key_conflicts<'w>(index: &Live<'_>, work: impl Iterator<Item = &'w ProductWork>) -> BTreeMap<String, String> {
        let work: Vec<&ProductWork> = work.collect();
        let mut released = BTreeSet::new();
        for p in work.iter().flat_map(|w| &w.prices) {
            match &p.op {
                PriceOp::Update { live_id, changes } if changes.lookup_key.is_some() => {
                    released.insert(live_id.clone());
                }
                PriceOp::Replace { old_id, take_key: Some(_), .. } => {
                    released.insert(old_id.clone());
                }
                _ => {}
            }
        }
        let mut notes = BTreeMap::new();
        for p in work.iter().flat_map(|w| &w.prices) {
            let (wanted, own) = match &p.op {
                PriceOp::Create(d) => (d.lookup_key.as_deref(), None),
                PriceOp::Replace { draft, old_id, take_key, .. } => {
                    (draft.lookup_key.as_deref().filter(|_| take_key.is_none()), Some(old_id.as_str()))
                }
                PriceOp::Update { live_id, changes } => {
                    (changes.lookup_key.as_ref().and_then(|k| k.as_deref()), Some(live_id.as_str()))
                }
                _ => (None, None),
            };
            let Some(key) = wanted else { continue };
            if let Some(holder) = index.prices_by_key.get(key) {
                if Some(holder.stripe_price_id.as_str()) != own && !released.contains(&holder.stripe_price_id) {
                    notes.insert(
                        p.source_id.clone(),
                        format!(
                            "The lookup key “{key}” belongs to live price {}{}: Stripe refuses it until it is removed there.",
                            holder.stripe_price_id,
                            source_of(&holder.metadata).map(|s| format!(" (copied from {s})")).unwrap_or_default()
                        ),
                    );
                }
            }
        }
        notes
    }

    /// The idempotency key of a create: the source id with a digest of what is sent, so the same
    /// copy retried (or submitted twice) creates one object, while a changed one is a new request.
    fn idempotency_key(source_id: &str, body: &impl Serialize) -> String {
        let digest = token_digest(&serde_json::to_string(body).unwrap_or_default());
        format!("catalog-copy-{source_id}-{}", &digest[..24])
    }

    /// A backend refusal in words for the report row (server failures are logged, not shown).
    fn refusal(e: BackendError) -> String {
        match e {
            BackendError::Api { status, message, .. } if status < 500 => message,
            BackendError::Unsupported(what) => format!("The payments backend does not offer {what}."),
            other => {
                tracing::error!(error = %other, "catalog copy: the payments backend failed");
                "The payments backend could not be reached; nothing was written for this row.".to_owned()
            }
        }
    }

    /// Both catalogs, checked to be connected.
    pub async fn catalogs(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
    ) -> Result<(Catalog, Catalog), CopyError> {
        let (test_connected, live_connected) = connected(backend, user).await?;
        if !test_connected {
            return Err(CopyError::NotConnected("The test environment has no Stripe key: nothing to copy.".into()));
        }
        if !live_connected {
            return Err(CopyError::NotConnected(
                "The live environment has no Stripe key: set one on the Keys page first.".into(),
            ));
        }
        Ok((backend.catalog(user, Environment::Test).await?, backend.catalog(user, Environment::Live).await?))
    }

    /// Whether test and live have a Stripe key.
    async fn connected(backend: &Arc<dyn PaymentsBackend>, user: &CurrentUser) -> Result<(bool, bool), CopyError> {
        let status = backend.status(user).await?;
        let has_key = |env| status.iter().any(|c| c.environment == env && c.masked_key.is_some());
        Ok((has_key(Environment::Test), has_key(Environment::Live)))
    }

    /// What the copy page starts from: which environments are connected, and the test products.
    pub async fn source(backend: &Arc<dyn PaymentsBackend>, user: &CurrentUser) -> Result<CopySource, CopyError> {
        let (test_connected, live_connected) = connected(backend, user).await?;
        let products = if test_connected {
            let test = backend.catalog(user, Environment::Test).await?;
            test.products
                .iter()
                .map(|p| ProductChoice {
                    id: p.stripe_product_id.clone(),
                    name: p.name.clone(),
                    active: p.active,
                    prices: test
                        .prices
                        .iter()
                        .filter(|q| q.stripe_product_id.as_deref() == Some(&p.stripe_product_id))
                        .count(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(CopySource { test_connected, live_connected, products })
    }

    /// The preview: what copying the chosen products would do.
    pub async fn preview(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        chosen: &[String],
    ) -> Result<CopyPlan, CopyError> {
        let (test, live) = catalogs(backend, user).await?;
        Ok(plan(&test, &live, chosen)?.plan)
    }

    /// Plans again and executes, if the admin typed the confirmation and the plan is the one
    /// previewed (`fingerprint`); otherwise nothing is written.
    pub async fn copy(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        chosen: &[String],
        confirmation: &str,
        fingerprint: &str,
    ) -> Result<CopyReport, CopyError> {
        if !confirmed(confirmation) {
            return Err(CopyError::Invalid(format!("This writes to live: type {CONFIRMATION} to confirm.")));
        }
        let (test, live) = catalogs(backend, user).await?;
        let planned = plan(&test, &live, chosen)?;
        if planned.plan.fingerprint != fingerprint.trim() {
            return Err(CopyError::Invalid(
                "The test or live catalog changed since the preview: review the new preview before copying.".into(),
            ));
        }
        Ok(execute(backend, user, planned).await)
    }

    /// Executes a plan: the products first, then the prices in three phases (updates, which may
    /// release lookup keys; replacements; creates). A refused row stops nothing but its own
    /// product's prices, which are skipped.
    pub async fn execute(backend: &Arc<dyn PaymentsBackend>, user: &CurrentUser, planned: Planned) -> CopyReport {
        let live = Environment::Live;
        let mut rows: Vec<ReportRow> = Vec::new();
        // Per product: its live id, or why it failed; and where its report row is.
        let mut products: Vec<Result<String, String>> = Vec::new();
        for w in &planned.work {
            let row = |outcome, live_id: Option<String>, message| ReportRow {
                kind: ObjectKind::Product,
                source_id: w.source_id.clone(),
                product_source_id: w.source_id.clone(),
                label: w.label.clone(),
                change: w.change,
                live_id,
                outcome,
                message,
            };
            let result = match &w.op {
                ProductOp::Create(draft) => {
                    let mut draft = draft.clone();
                    draft.idempotency_key = Some(idempotency_key(&w.source_id, &draft));
                    backend.create_product(user, live, &draft).await.map(|p| p.stripe_product_id)
                }
                ProductOp::Update { live_id, changes } => {
                    backend.update_product(user, live, live_id, changes).await.map(|p| p.stripe_product_id)
                }
                ProductOp::Keep { live_id } => Ok(live_id.clone()),
            };
            match result {
                Ok(id) => {
                    let outcome = if w.change.writes() { Outcome::Done } else { Outcome::Unchanged };
                    rows.push(row(outcome, Some(id.clone()), None));
                    products.push(Ok(id));
                }
                Err(e) => {
                    let message = refusal(e);
                    rows.push(row(Outcome::Refused, None, Some(message.clone())));
                    products.push(Err(message));
                }
            }
        }
        let mut price_rows: BTreeMap<(usize, usize), ReportRow> = BTreeMap::new();
        for phase in 0..3 {
            for (i, w) in planned.work.iter().enumerate() {
                for (j, p) in w.prices.iter().enumerate().filter(|(_, p)| p.op.phase() == phase) {
                    let row = price_row(backend, user, w, &products[i], p).await;
                    price_rows.insert((i, j), row);
                }
            }
        }
        // The report in the plan's order: each product, then its prices.
        let mut ordered = Vec::with_capacity(rows.len() + price_rows.len());
        for (i, product_row) in rows.into_iter().enumerate() {
            ordered.push(product_row);
            ordered.extend(price_rows.range((i, 0)..(i + 1, 0)).map(|(_, r)| r.clone()));
        }
        CopyReport { rows: ordered }
    }

    async fn price_row(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        product: &ProductWork,
        product_result: &Result<String, String>,
        w: &PriceWork,
    ) -> ReportRow {
        let live = Environment::Live;
        let row = |outcome, live_id: Option<String>, message: Option<String>| ReportRow {
            kind: ObjectKind::Price,
            source_id: w.source_id.clone(),
            product_source_id: product.source_id.clone(),
            label: w.label.clone(),
            change: w.change,
            live_id,
            outcome,
            message,
        };
        let product_id = match product_result {
            Ok(id) => id.clone(),
            Err(_) => {
                return row(Outcome::Skipped, None, Some("Not attempted: its product was not copied.".into()));
            }
        };
        let draft_for = |d: &PriceDraft| {
            let mut d = d.clone();
            d.stripe_product_id = product_id.clone();
            d.idempotency_key = None;
            let key = idempotency_key(&w.source_id, &d);
            d.idempotency_key = Some(key);
            d
        };
        match &w.op {
            PriceOp::Create(d) => match backend.create_price(user, live, &draft_for(d)).await {
                Ok(p) => row(Outcome::Done, Some(p.stripe_price_id), None),
                Err(e) => row(Outcome::Refused, None, Some(refusal(e))),
            },
            PriceOp::Update { live_id, changes } => match backend.update_price(user, live, live_id, changes).await {
                Ok(_) => row(Outcome::Done, Some(live_id.clone()), None),
                Err(e) => row(Outcome::Refused, Some(live_id.clone()), Some(refusal(e))),
            },
            PriceOp::Keep { live_id } => row(Outcome::Unchanged, Some(live_id.clone()), None),
            PriceOp::Skip { live_id, why } => row(Outcome::Skipped, live_id.clone(), Some(why.clone())),
            PriceOp::Replace { old_id, draft, take_key, archive_old } => {
                let draft = draft_for(draft);
                match replace(backend, user, old_id, &draft, take_key.as_deref(), *archive_old).await {
                    Ok((new_id, problem)) => row(Outcome::Done, Some(new_id), problem),
                    Err(message) => row(Outcome::Refused, Some(old_id.clone()), Some(message)),
                }
            }
        }
    }

    /// The replacement saga (as the catalog page's "change the amount"): free the lookup key,
    /// create the new price (putting the key back if that fails), archive the old price. The new
    /// price's id, and what went wrong after it was created.
    async fn replace(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        old_id: &str,
        draft: &PriceDraft,
        take_key: Option<&str>,
        archive_old: bool,
    ) -> Result<(String, Option<String>), String> {
        let live = Environment::Live;
        if let Some(key) = take_key {
            let clear = PriceChanges { lookup_key: Some(None), ..Default::default() };
            backend.update_price(user, live, old_id, &clear).await.map_err(|e| {
                format!("Nothing was changed: the lookup key “{key}” could not be taken off {old_id}: {}", refusal(e))
            })?;
        }
        let new_price = match backend.create_price(user, live, draft).await {
            Ok(p) => p,
            Err(e) => {
                let mut message = format!("The new price was not created: {}", refusal(e));
                if let Some(key) = take_key {
                    let restore = PriceChanges { lookup_key: Some(Some(key.to_owned())), ..Default::default() };
                    match backend.update_price(user, live, old_id, &restore).await {
                        Ok(_) => message.push_str(&format!(" The lookup key “{key}” stays on {old_id}.")),
                        Err(e) => message.push_str(&format!(
                            " The lookup key “{key}” was taken off {old_id} and could not be put back ({}): set it again there.",
                            refusal(e)
                        )),
                    }
                }
                return Err(message);
            }
        };
        let mut problem = None;
        if archive_old {
            if let Err(e) = backend.archive_price(user, live, old_id).await {
                problem = Some(format!(
                    "The new price was created, but the old price {old_id} could not be archived: {}",
                    refusal(e)
                ));
            }
        }
        Ok((new_price.stripe_price_id, problem))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use serde_json::json;

        fn product(id: &str, name: &str, metadata: serde_json::Value) -> Product {
            serde_json::from_value(json!({
                "environment": "test", "stripeProductId": id, "name": name, "description": null, "active": true,
                "defaultPriceId": null, "metadata": metadata, "syncedAt": "2026-12-05T00:00:00.000Z"
            }))
            .unwrap()
        }

        fn price(id: &str, product: &str, amount: i64, key: Option<&str>, metadata: serde_json::Value) -> Price {
            serde_json::from_value(json!({
                "environment": "test", "stripePriceId": id, "stripeProductId": product, "active": true,
                "currency": "usd", "unitAmount": amount, "unitAmountDecimal": amount.to_string(), "type": "recurring",
                "lookupKey": key, "billingScheme": "per_unit", "taxBehavior": "exclusive", "recurringInterval": "month",
                "recurringIntervalCount": 1, "metadata": metadata, "syncedAt": "2026-12-05T00:00:00.000Z"
            }))
            .unwrap()
        }

        fn catalog(products: Vec<Product>, prices: Vec<Price>) -> Catalog {
            Catalog { products, prices }
        }

        fn test_catalog() -> Catalog {
            catalog(
                vec![product("prod_t1", "Pro", json!({"tier": "pro"}))],
                vec![price("price_t1", "prod_t1", 1200, Some("pro_monthly"), json!({}))],
            )
        }

        fn chosen() -> Vec<String> {
            vec!["prod_t1".into()]
        }

        #[test]
        fn an_empty_live_catalog_gets_everything_created_with_the_source_ids() {
            let planned = plan(&test_catalog(), &catalog(vec![], vec![]), &chosen()).unwrap();
            let p = &planned.plan.products[0];
            assert_eq!((p.change, p.live_id.as_deref()), (Change::Create, None));
            assert!(p
                .fields
                .iter()
                .any(|f| f.field == "metadata.insforge_copied_from" && f.to.as_deref() == Some("prod_t1")));
            let q = &p.prices[0];
            assert_eq!(q.change, Change::Create);
            let get = |f: &str| q.fields.iter().find(|x| x.field == f).and_then(|x| x.to.clone());
            assert_eq!(get("amount").as_deref(), Some("$12.00"));
            assert_eq!(get("interval").as_deref(), Some("every month"));
            assert_eq!(get("lookup key").as_deref(), Some("pro_monthly"));
            assert_eq!(get("tax behaviour").as_deref(), Some("exclusive"));
            match &planned.work[0].prices[0].op {
                PriceOp::Create(d) => assert_eq!(d.metadata.as_ref().unwrap()[SOURCE_KEY], "price_t1"),
                other => panic!("{other:?}"),
            }
            assert!(planned.plan.has_work());
        }

        #[test]
        fn copies_found_by_source_id_are_unchanged_and_a_rename_is_an_update() {
            let live = catalog(
                vec![product("prod_l1", "Pro", json!({"tier": "pro", SOURCE_KEY: "prod_t1"}))],
                vec![price("price_l1", "prod_l1", 1200, Some("pro_monthly"), json!({SOURCE_KEY: "price_t1"}))],
            );
            let same = plan(&test_catalog(), &live, &chosen()).unwrap().plan;
            assert!(!same.has_work(), "{same:?}");
            assert_eq!(same.products[0].matched_by, Some(MatchedBy::SourceId));
            assert_eq!(same.products[0].prices[0].live_id.as_deref(), Some("price_l1"));

            let mut test = test_catalog();
            test.products[0].name = "Pro Plus".into();
            let renamed = plan(&test, &live, &chosen()).unwrap().plan;
            assert_eq!(renamed.products[0].change, Change::Update);
            assert_eq!(
                renamed.products[0].fields,
                vec![FieldChange { field: "name".into(), from: Some("Pro".into()), to: Some("Pro Plus".into()) }]
            );
            assert_ne!(renamed.fingerprint, same.fingerprint);
        }

        #[test]
        fn a_hand_made_live_price_with_the_key_and_another_amount_is_replaced() {
            let live = catalog(
                vec![product("prod_l9", "Pro (live)", json!({}))],
                vec![price("price_l9", "prod_l9", 1000, Some("pro_monthly"), json!({}))],
            );
            let planned = plan(&test_catalog(), &live, &chosen()).unwrap();
            let p = &planned.plan.products[0];
            assert_eq!((p.change, p.matched_by), (Change::Update, Some(MatchedBy::LookupKey)));
            assert!(p.fields.iter().any(|f| f.field == "name" && f.from.as_deref() == Some("Pro (live)")));
            let q = &p.prices[0];
            assert_eq!((q.change, q.matched_by), (Change::Replace, Some(MatchedBy::LookupKey)));
            assert!(q.note.as_deref().unwrap().contains("moves to it from price_l9"), "{q:?}");
            match &planned.work[0].prices[0].op {
                PriceOp::Replace { take_key, archive_old, .. } => {
                    assert_eq!((take_key.as_deref(), *archive_old), (Some("pro_monthly"), true))
                }
                other => panic!("{other:?}"),
            }
        }

        #[test]
        fn a_key_held_by_another_copy_is_flagged_and_released_keys_are_not() {
            let live = catalog(
                vec![product("prod_l2", "Old", json!({SOURCE_KEY: "prod_t2"}))],
                vec![price("price_l2", "prod_l2", 500, Some("pro_monthly"), json!({SOURCE_KEY: "price_t2"}))],
            );
            let planned = plan(&test_catalog(), &live, &chosen()).unwrap();
            let q = &planned.plan.products[0].prices[0];
            assert_eq!(q.change, Change::Create);
            assert!(q.note.as_deref().unwrap().contains("belongs to live price price_l2 (copied from price_t2)"));

            // Copying its source too, whose key was taken off in test, releases the key first.
            let mut test = test_catalog();
            test.products.push(product("prod_t2", "Old", json!({})));
            test.prices.push(price("price_t2", "prod_t2", 500, None, json!({})));
            let both = plan(&test, &live, &["prod_t1".into(), "prod_t2".into()]).unwrap();
            let pro = both.plan.products.iter().find(|p| p.source_id == "prod_t1").unwrap();
            assert_eq!(pro.prices[0].note, None);
            let old = both.plan.products.iter().find(|p| p.source_id == "prod_t2").unwrap();
            assert_eq!(old.prices[0].change, Change::Update);
            assert_eq!(old.prices[0].fields[0].field, "lookup key");
            assert!(both.work.iter().flat_map(|w| &w.prices).any(|p| p.op.phase() == 0 && p.change == Change::Update));
        }

        #[test]
        fn archived_test_prices_are_not_created_and_bad_choices_are_refused() {
            let mut test = test_catalog();
            test.prices[0].active = false;
            let planned = plan(&test, &catalog(vec![], vec![]), &chosen()).unwrap().plan;
            assert_eq!(planned.products[0].prices[0].change, Change::NotCopied);
            assert!(plan(&test, &catalog(vec![], vec![]), &[]).is_err());
            let unknown = plan(&test, &catalog(vec![], vec![]), &["prod_nope".into()]).unwrap_err();
            assert!(unknown.to_string().contains("prod_nope"));
        }

        #[test]
        fn the_confirmation_is_the_word_live() {
            assert!(confirmed(" live "));
            assert!(!confirmed("Live") && !confirmed("") && !confirmed("test"));
        }
    }
}
