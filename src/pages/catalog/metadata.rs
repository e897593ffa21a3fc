//! The metadata editor: key/value rows added and removed; and what to send to Stripe, which
//! merges metadata on update and deletes a key given an empty value.

use crate::backend::Metadata;
use leptos::prelude::*;

/// One row of the editor.
#[derive(Clone, Copy)]
pub(super) struct MetaRow {
    id: u64,
    key: RwSignal<String>,
    value: RwSignal<String>,
}

/// The rows of a metadata editor.
#[derive(Clone, Copy)]
pub(super) struct MetaRows {
    rows: RwSignal<Vec<MetaRow>>,
    next: StoredValue<u64>,
}

impl MetaRows {
    /// Rows with the pairs of `metadata`.
    pub fn new(metadata: &Metadata) -> Self {
        let rows: Vec<MetaRow> = metadata
            .iter()
            .enumerate()
            .map(|(i, (k, v))| MetaRow { id: i as u64, key: RwSignal::new(k.clone()), value: RwSignal::new(v.clone()) })
            .collect();
        let next = rows.len() as u64;
        MetaRows { rows: RwSignal::new(rows), next: StoredValue::new(next) }
    }

    fn add(&self) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.rows.update(|rows| {
            rows.push(MetaRow { id, key: RwSignal::new(String::new()), value: RwSignal::new(String::new()) })
        });
    }

    fn remove(&self, id: u64) {
        self.rows.update(|rows| rows.retain(|r| r.id != id));
    }

    /// The typed pairs, keys trimmed, rows without a key left out.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.rows
            .get_untracked()
            .iter()
            .map(|r| (r.key.get_untracked().trim().to_owned(), r.value.get_untracked()))
            .filter(|(k, _)| !k.is_empty())
            .collect()
    }
}

/// Stripe's limits, and no key twice.
pub(super) fn check(pairs: &[(String, String)]) -> Result<(), String> {
    if pairs.len() > 50 {
        return Err("Stripe allows at most 50 metadata keys.".into());
    }
    for (i, (k, v)) in pairs.iter().enumerate() {
        if k.chars().count() > 40 {
            return Err(format!("Metadata key “{k}” is longer than 40 characters."));
        }
        if k.contains('[') || k.contains(']') {
            return Err(format!("Metadata key “{k}” cannot contain square brackets."));
        }
        if v.chars().count() > 500 {
            return Err(format!("The value of “{k}” is longer than 500 characters."));
        }
        if pairs[..i].iter().any(|(other, _)| other == k) {
            return Err(format!("Metadata key “{k}” appears twice."));
        }
    }
    Ok(())
}

/// Metadata of a new object: the pairs with a value; `None` when there are none.
pub(super) fn for_create(pairs: &[(String, String)]) -> Option<Metadata> {
    let m: Metadata = pairs.iter().filter(|(_, v)| !v.is_empty()).cloned().collect();
    (!m.is_empty()).then_some(m)
}

/// Metadata changes of an update: new and changed pairs, and removed keys (or keys whose value
/// was emptied) with an empty value, which makes Stripe delete them. `None` when nothing changed.
pub(super) fn changes(original: &Metadata, pairs: &[(String, String)]) -> Option<Metadata> {
    let mut out = Metadata::new();
    for (k, v) in pairs {
        if original.get(k) != Some(v) && !(v.is_empty() && !original.contains_key(k)) {
            out.insert(k.clone(), v.clone());
        }
    }
    for k in original.keys() {
        if !pairs.iter().any(|(p, _)| p == k) {
            out.insert(k.clone(), String::new());
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The editor: a row per pair, each with its key, value and a remove button.
#[component]
pub(super) fn MetadataEditor(rows: MetaRows) -> impl IntoView {
    view! {
        <fieldset class="catalog-metadata" data-testid="metadata-editor">
            <legend>"Metadata"</legend>
            <p class="field-hint">"Key/value pairs stored with the object in Stripe. Removing a row deletes the key."</p>
            <For each=move || rows.rows.get() key=|r| r.id let:row>
                <div class="catalog-metadata-row" data-testid="metadata-row">
                    <label class="field">
                        <span>"Key"</span>
                        <input
                            type="text"
                            autocomplete="off"
                            data-testid="metadata-key"
                            value=row.key.get_untracked()
                            prop:value=move || row.key.get()
                            on:input=move |ev| row.key.set(event_target_value(&ev))
                        />
                    </label>
                    <label class="field">
                        <span>"Value"</span>
                        <input
                            type="text"
                            autocomplete="off"
                            data-testid="metadata-value"
                            value=row.value.get_untracked()
                            prop:value=move || row.value.get()
                            on:input=move |ev| row.value.set(event_target_value(&ev))
                        />
                    </label>
                    <button
                        type="button"
                        class="button-secondary catalog-metadata-remove"
                        aria-label=move || format!("Remove metadata key {}", row.key.get())
                        on:click=move |_| rows.remove(row.id)
                    >
                        "Remove"
                    </button>
                </div>
            </For>
            <button type="button" class="button-secondary" data-testid="metadata-add" on:click=move |_| rows.add()>
                "Add metadata"
            </button>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn creates_send_only_pairs_with_values() {
        assert_eq!(for_create(&pairs(&[("a", "1"), ("b", "")])), Some(Metadata::from([("a".into(), "1".into())])));
        assert_eq!(for_create(&pairs(&[("b", "")])), None);
    }

    #[test]
    fn updates_send_changes_and_empty_values_for_removed_keys() {
        let original =
            Metadata::from([("keep".into(), "1".into()), ("gone".into(), "x".into()), ("edit".into(), "a".into())]);
        let changed = changes(&original, &pairs(&[("keep", "1"), ("edit", "b"), ("new", "n"), ("blank", "")])).unwrap();
        assert_eq!(
            changed,
            Metadata::from([("edit".into(), "b".into()), ("new".into(), "n".into()), ("gone".into(), "".into())])
        );
        assert_eq!(changes(&original, &pairs(&[("keep", "1"), ("gone", "x"), ("edit", "a")])), None);
        // Emptying a value deletes the key too.
        assert_eq!(changes(&original, &pairs(&[("keep", ""), ("gone", "x"), ("edit", "a")])).unwrap()["keep"], "");
    }

    #[test]
    fn checks_limits_and_duplicates() {
        assert!(check(&pairs(&[("a", "1"), ("b", "2")])).is_ok());
        assert!(check(&pairs(&[("a", "1"), ("a", "2")])).unwrap_err().contains("twice"));
        assert!(check(&pairs(&[(&"k".repeat(41), "1")])).is_err());
    }
}
