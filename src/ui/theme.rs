//! Light/dark theme switch. The choice is kept in `localStorage` and applied before first paint
//! by the inline script in the shell; this button needs the WASM, so it also shows that the
//! page has hydrated.

use super::time::TimeZoneToggle;
use leptos::prelude::*;

/// The header's display switches: the time zone of the times shown, then the theme (both kept in
/// `localStorage`). The header places this component. An island: it works on pages that
/// hydrate only their islands (`crate::app`).
#[island]
pub fn ThemeToggle() -> impl IntoView {
    let (dark, set_dark) = signal(false);
    // Read the current theme once hydrated (the server cannot know it).
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let is_dark = document()
                .document_element()
                .and_then(|el| el.get_attribute("data-theme"))
                .map(|t| t == "dark")
                .unwrap_or_else(|| {
                    window().match_media("(prefers-color-scheme: dark)").ok().flatten().is_some_and(|m| m.matches())
                });
            set_dark.set(is_dark);
        }
    });
    let toggle = move |_| {
        let next = !dark.get_untracked();
        set_dark.set(next);
        #[cfg(feature = "hydrate")]
        {
            let theme = if next { "dark" } else { "light" };
            if let Some(el) = document().document_element() {
                let _ = el.set_attribute("data-theme", theme);
            }
            if let Ok(Some(storage)) = window().local_storage() {
                let _ = storage.set_item("pc-theme", theme);
            }
        }
    };
    view! {
        <TimeZoneToggle />
        <button
            type="button"
            class="icon-button"
            data-testid="theme-toggle"
            aria-pressed=move || dark.get().to_string()
            title=move || if dark.get() { "Switch to light theme" } else { "Switch to dark theme" }
            on:click=toggle
        >
            {move || if dark.get() { "☀ Light" } else { "☾ Dark" }}
        </button>
    }
}
