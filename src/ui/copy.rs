//! A button that copies a text to the clipboard.

use leptos::prelude::*;

/// Copies `value` on click and says "Copied" for a moment. A handler in the WASM, not an inline
/// `onclick`: the Content-Security-Policy runs no inline script (see
/// `server::http::content_security_policy`). Without a clipboard (plain HTTP to another host is
/// not a secure context) it does nothing. Where nothing hydrates
/// (`crate::ui::islands::server_only`) it is a button the page's `crate::ui::enhance::PageForms`
/// island copies from (`data-copy`).
#[component]
pub fn CopyButton(
    /// The text copied.
    #[prop(into)]
    value: String,
    /// The button's class.
    #[prop(into)]
    class: String,
    /// The accessible name, when "Copy" alone would not say what is copied.
    #[prop(optional, into)]
    label: Option<String>,
    /// `data-testid`, for the tests.
    #[prop(optional, into)]
    testid: Option<String>,
) -> impl IntoView {
    if crate::ui::islands::server_only() {
        return view! {
            <button type="button" class=class title="Copy to clipboard" aria-label=label data-testid=testid data-copy=value>
                "Copy"
            </button>
        }
        .into_any();
    }
    let copied = RwSignal::new(false);
    let text = value;
    let copy = move |_: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            let clipboard = window().navigator().clipboard();
            if !wasm_bindgen::JsValue::is_undefined(&clipboard) {
                let _ = clipboard.write_text(&text);
                copied.set(true);
                set_timeout(move || copied.set(false), std::time::Duration::from_millis(1500));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&text, copied);
    };
    view! {
        <button
            type="button"
            class=class
            title="Copy to clipboard"
            aria-label=label
            data-testid=testid
            on:click=copy
        >
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
    .into_any()
}
