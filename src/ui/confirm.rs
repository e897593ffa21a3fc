//! Confirmation of destructive or live-mode actions. Every destructive action asks first and
//! says what will happen; in live mode every write also asks the user to type `live`, so a
//! change to real customers' billing is never one misplaced click away.

use super::layout::use_env;
use crate::environment::Environment;
use leptos::prelude::*;

/// A modal confirmation. Open it by setting `open` to `true`; `on_confirm` runs when the user
/// confirms (after typing the environment name in live mode), then the dialog closes.
///
/// `destructive` styles the confirm button as dangerous.
#[component]
pub fn ConfirmDialog(
    /// Whether the dialog is shown.
    open: RwSignal<bool>,
    /// Heading, e.g. "Remove the test key?".
    #[prop(into)]
    title: Signal<String>,
    /// What will happen, in plain words.
    #[prop(into)]
    message: Signal<String>,
    /// Label of the confirm button, e.g. "Remove key".
    #[prop(into)]
    confirm_label: Signal<String>,
    /// Called on confirmation.
    on_confirm: Callback<()>,
    #[prop(optional)] destructive: bool,
) -> impl IntoView {
    let env = use_env();
    let typed = RwSignal::new(String::new());
    let live = move || env.get() == Environment::Live;
    let can_confirm = move || !live() || typed.get().trim() == "live";
    let close = move || {
        open.set(false);
        typed.set(String::new());
    };
    let confirm = move || {
        if can_confirm() {
            close();
            on_confirm.run(());
        }
    };
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |_| close()>
                <div
                    class="modal"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="confirm-title"
                    data-testid="confirm-dialog"
                    on:click=|ev| ev.stop_propagation()
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            close();
                        }
                    }
                >
                    <h2 id="confirm-title">{move || title.get()}</h2>
                    <p>{move || message.get()}</p>
                    <Show when=live>
                        <label class="field">
                            <span>"This is live mode. Type " <strong>"live"</strong> " to confirm."</span>
                            <input
                                type="text"
                                autocomplete="off"
                                data-testid="confirm-env"
                                prop:value=move || typed.get()
                                on:input=move |ev| typed.set(event_target_value(&ev))
                                on:keydown=move |ev| {
                                    if ev.key() == "Enter" {
                                        ev.prevent_default();
                                        confirm();
                                    }
                                }
                            />
                        </label>
                    </Show>
                    <div class="modal-actions">
                        <button type="button" class="button-secondary" on:click=move |_| close()>
                            "Cancel"
                        </button>
                        <button
                            type="button"
                            class=if destructive { "button-danger" } else { "button-primary" }
                            data-testid="confirm-ok"
                            autofocus=true
                            disabled=move || !can_confirm()
                            on:click=move |_| confirm()
                        >
                            {move || confirm_label.get()}
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
