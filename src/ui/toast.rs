//! Toasts: short result messages ("Product created", "Stripe refused: …") in one polite live
//! region, so screen readers announce them and nothing shifts the page layout.

use leptos::prelude::*;

/// Toasts shown at once; older ones give way.
const MAX_VISIBLE: usize = 3;

/// How a toast looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Toast {
    id: u64,
    kind: ToastKind,
    message: String,
}

/// The console's toasts; get it with [`use_toasts`].
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

impl Toasts {
    /// Shows a success message (dismissed after a few seconds).
    pub fn success(&self, message: impl Into<String>) {
        self.push(ToastKind::Success, message.into());
    }

    /// Shows an error message (stays until dismissed).
    pub fn error(&self, message: impl Into<String>) {
        self.push(ToastKind::Error, message.into());
    }

    fn push(&self, kind: ToastKind, message: String) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.items.update(|items| admit(items, Toast { id, kind, message }));
        if kind == ToastKind::Success {
            let items = self.items;
            set_timeout(move || items.update(|items| items.retain(|t| t.id != id)), std::time::Duration::from_secs(6));
        }
    }

    fn dismiss(&self, id: u64) {
        self.items.update(|items| items.retain(|t| t.id != id));
    }
}

/// Adds a toast to those shown. The same message twice (a double click, a retried action) shows
/// once, as the newest, never as two identical toasts; a burst of results must not bury the
/// page either, so only the newest few stay.
fn admit(items: &mut Vec<Toast>, toast: Toast) {
    items.retain(|t| t.kind != toast.kind || t.message != toast.message);
    items.push(toast);
    let excess = items.len().saturating_sub(MAX_VISIBLE);
    items.drain(..excess);
}

/// Creates the toasts for the pages below (called once, by the layout).
pub fn provide_toasts() -> Toasts {
    let toasts = Toasts { items: RwSignal::new(Vec::new()), next_id: StoredValue::new(0) };
    provide_context(toasts);
    toasts
}

/// The console's toasts.
pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

/// Where the toasts appear (bottom right).
#[component]
pub fn ToastRegion(toasts: Toasts) -> impl IntoView {
    view! {
        <div class="toasts" role="status" aria-live="polite" data-testid="toasts">
            <For each=move || toasts.items.get() key=|t| t.id let:toast>
                <div
                    class="toast"
                    class:toast-error=toast.kind == ToastKind::Error
                    data-testid=if toast.kind == ToastKind::Error { "toast-error" } else { "toast-success" }
                >
                    <span>{toast.message.clone()}</span>
                    <button
                        type="button"
                        class="toast-close"
                        aria-label="Dismiss"
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toast(id: u64, kind: ToastKind, message: &str) -> Toast {
        Toast { id, kind, message: message.to_owned() }
    }

    #[test]
    fn the_same_message_shows_once_and_only_the_newest_few_stay() {
        let mut items = Vec::new();
        admit(&mut items, toast(0, ToastKind::Error, "Stripe refused"));
        admit(&mut items, toast(1, ToastKind::Success, "Saved"));
        admit(&mut items, toast(2, ToastKind::Error, "Stripe refused"));
        assert_eq!(items.iter().map(|t| t.id).collect::<Vec<_>>(), [1, 2]);
        // The same words as a success and as an error are two outcomes.
        admit(&mut items, toast(3, ToastKind::Success, "Stripe refused"));
        admit(&mut items, toast(4, ToastKind::Success, "Deleted"));
        assert_eq!(items.iter().map(|t| t.id).collect::<Vec<_>>(), [2, 3, 4]);
    }
}
