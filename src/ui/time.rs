//! Times as the console shows them: one format everywhere (`2026-11-25 10:00 UTC`, see
//! [`iso_short`]) inside `<time datetime="…">`, so the text is right without JavaScript. After
//! hydration the viewer may switch every time on the page to their own time zone; the choice is
//! kept in `localStorage`, like the theme.
//!
//! The server always renders UTC and so does the hydrating pass (a different text would not match
//! the server's HTML); a stored "local" choice applies once each time has hydrated.

use crate::model::format::iso_short;
use leptos::prelude::*;

/// Which time zone times are shown in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimeZoneChoice {
    /// `2026-11-25 10:00 UTC`: what the server renders, and the default.
    #[default]
    Utc,
    /// The browser's time zone: `2026-11-25 11:00 UTC+1`.
    Local,
}

impl TimeZoneChoice {
    /// The `localStorage` key of the choice.
    pub const STORAGE_KEY: &'static str = "pc-time-zone";

    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeZoneChoice::Utc => "utc",
            TimeZoneChoice::Local => "local",
        }
    }

    /// A stored value; anything else is UTC.
    pub fn parse(stored: Option<&str>) -> Self {
        if stored == Some("local") {
            TimeZoneChoice::Local
        } else {
            TimeZoneChoice::Utc
        }
    }

    /// The other choice.
    pub fn other(self) -> Self {
        match self {
            TimeZoneChoice::Utc => TimeZoneChoice::Local,
            TimeZoneChoice::Local => TimeZoneChoice::Utc,
        }
    }
}

/// The viewer's choice, shared by every time on the page: reference-counted rather than owned by
/// a component, so it outlives the page that first read it. Read from `localStorage` once.
#[cfg(feature = "hydrate")]
fn choice() -> ArcRwSignal<TimeZoneChoice> {
    thread_local! {
        static CHOICE: ArcRwSignal<TimeZoneChoice> = ArcRwSignal::new(TimeZoneChoice::parse(
            window().local_storage().ok().flatten().and_then(|s| s.get_item(TimeZoneChoice::STORAGE_KEY).ok().flatten()).as_deref(),
        ));
    }
    CHOICE.with(Clone::clone)
}

/// An ISO timestamp in the browser's time zone (its offset at that instant, so daylight saving
/// time is right for old dates too).
#[cfg(feature = "hydrate")]
fn local_short(iso: &str) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(iso));
    if date.get_time().is_nan() {
        return iso_short(iso);
    }
    // `getTimezoneOffset` counts minutes west of UTC.
    crate::model::format::iso_short_at_offset(iso, -(date.get_timezone_offset() as i64))
}

/// Shows every time on the page in the chosen zone. Pages hydrate only their islands
/// (`crate::app`), so no [`Time`] outside one hydrates (they are server-rendered HTML): the
/// toggle, an island, rewrites their `<time datetime>` elements itself.
#[cfg(feature = "hydrate")]
fn show_static_times(choice: TimeZoneChoice) {
    use wasm_bindgen::JsCast;
    let Ok(times) = document().query_selector_all("time[datetime]") else {
        return;
    };
    for i in 0..times.length() {
        let Some(time) = times.item(i).and_then(|node| node.dyn_into::<web_sys::Element>().ok()) else {
            continue;
        };
        if let Some(iso) = time.get_attribute("datetime") {
            let text = match choice {
                TimeZoneChoice::Utc => iso_short(&iso),
                TimeZoneChoice::Local => local_short(&iso),
            };
            time.set_text_content(Some(&text));
        }
    }
}

/// A timestamp from the API (`2026-11-25T10:00:01.000Z`), shown as `2026-11-25 10:00 UTC` in a
/// `<time datetime>` element, which the header's toggle rewrites in the viewer's time zone if they
/// chose it ([`show_static_times`]): no page hydrates a `Time`.
#[component]
pub fn Time(
    /// The ISO timestamp.
    #[prop(into)]
    iso: String,
) -> impl IntoView {
    let text = iso_short(&iso);
    view! { <time datetime=iso>{text}</time> }
}

/// [`Time`] for an optional timestamp: `none` (e.g. "never", "—") when there is none.
#[component]
pub fn TimeOr(
    /// The ISO timestamp, if any.
    iso: Option<String>,
    /// What to show without one.
    none: &'static str,
) -> impl IntoView {
    match iso {
        Some(iso) => view! { <Time iso /> }.into_any(),
        None => none.into_any(),
    }
}

/// Switches every time on the page between UTC and the viewer's time zone, and remembers it.
#[component]
pub fn TimeZoneToggle() -> impl IntoView {
    // UTC until hydrated, like the times themselves.
    let shown = RwSignal::new(TimeZoneChoice::Utc);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let stored = choice().get();
        shown.set(stored);
        if stored == TimeZoneChoice::Local {
            show_static_times(stored);
        }
    });
    let toggle = move |_| {
        let next = shown.get_untracked().other();
        shown.set(next);
        #[cfg(feature = "hydrate")]
        {
            choice().set(next);
            show_static_times(next);
            if let Ok(Some(storage)) = window().local_storage() {
                let _ = storage.set_item(TimeZoneChoice::STORAGE_KEY, next.as_str());
            }
        }
    };
    view! {
        <button
            type="button"
            class="icon-button"
            data-testid="time-zone-toggle"
            aria-pressed=move || (shown.get() == TimeZoneChoice::Local).to_string()
            title=move || match shown.get() {
                TimeZoneChoice::Utc => "Times are in UTC: show them in your time zone",
                TimeZoneChoice::Local => "Times are in your time zone: show them in UTC",
            }
            on:click=toggle
        >
            {move || match shown.get() {
                TimeZoneChoice::Utc => "Times: UTC",
                TimeZoneChoice::Local => "Times: local",
            }}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::TimeZoneChoice;

    #[test]
    fn the_stored_choice_reads_back_and_defaults_to_utc() {
        for choice in [TimeZoneChoice::Utc, TimeZoneChoice::Local] {
            assert_eq!(TimeZoneChoice::parse(Some(choice.as_str())), choice);
            assert_eq!(choice.other().other(), choice);
        }
        assert_eq!(TimeZoneChoice::parse(None), TimeZoneChoice::Utc);
        assert_eq!(TimeZoneChoice::parse(Some("mars")), TimeZoneChoice::Utc);
    }
}
