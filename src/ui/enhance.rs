//! Server-rendered forms brought to life by one small island (issue #13).
//!
//! A page whose body is the server's HTML (`crate::ui::islands::ServerOnly`) renders its
//! controls as plain forms that post to a server function ([`EnhancedForm`]) and one
//! [`PageForms`] island from the main module, which listens on the page (event delegation) and:
//!
//! - asks first where the form says so (`data-confirm…`), with the same dialog
//!   `crate::ui::confirm::ConfirmDialog` shows, typed `live` included in live mode;
//! - sends the form with `fetch` and, once the server function has succeeded, reads the page
//!   again with the outcome as a toast (`data-done`), so everything the change touched is shown
//!   as the server now has it; a refusal is shown as a toast and the form stays as filled in;
//! - checks what the browser can before asking (`data-required`, `data-prefix` on a field, with
//!   their messages) and writes what is wrong, or the server's refusal, into the form's
//!   `data-form-errors` element when it has one, marking the field `aria-invalid`;
//! - enables the buttons that must not work without it (`data-needs-js`: a secret in a form must
//!   never leave as a plain form post, and a change must be confirmed), and says what is going
//!   on in a submit button's `data-pending-label` while the form is out;
//! - leaves empty filters out of a GET form's new address (`data-drop-empty`); applies a
//!   `data-instant` GET form as it is typed in (after a pause) or chosen from, and follows a
//!   `data-in-place` link, by changing the address and reading the page in place, so the list
//!   changes under the search box, which keeps its focus and what is being typed; back and
//!   forward read the page in place too;
//! - copies a `data-copy` button's text to the clipboard;
//! - ticks every box of a form with its `data-check-all` box (and that box once all are ticked),
//!   removes what a GET form's `data-invalidates` names once its choice changes (a preview of
//!   another choice), and enables a form's submit button only while its `data-unlocks` field
//!   holds that word (typing `live` before copying to live);
//! - for a form whose answer must be shown once, a password or key the server keeps no copy of
//!   (`data-reveal`, [`Reveal`]), reads the page in place instead of again: it replaces the
//!   `<main>` element's content with the server's new HTML and fills the form's [`Reveal`] from
//!   the answer, which a page read again would have lost; an answer with a `problem` says it as
//!   an error toast in place of the form's `data-done`;
//! - while a form with `data-watch` is out, reads the element it names again from the server
//!   every 300 ms (a sync's progress, while the request waits for the sync to end), marking it
//!   `data-sending` meanwhile (which shows its `data-while-sending` parts); a page whose watched
//!   element (`data-watched`) holds something `data-running` follows it the same way until it has
//!   ended, then reads the page in place; one holding `data-unwatchable` is not read again.
//!
//! So such a page downloads nothing beyond the main module and hydrates one marker, where an
//! editing island downloaded its page's code and hydrated the whole body (`README.md`, "What the
//! browser downloads").

use leptos::prelude::*;

/// A form posting to a server function (`action`, e.g. `ConfigureManagedWebhook::url()`) that
/// [`PageForms`] sends in place. Its fields are the function's arguments by name.
#[component]
pub fn EnhancedForm(
    /// The server function's URL.
    #[prop(into)]
    action: String,
    /// The toast once it has succeeded.
    #[prop(into)]
    done: String,
    /// What failed, before the server's reason ("The endpoint was not configured").
    #[prop(into)]
    failed: String,
    /// The confirmation asked first, if any: a [`Confirmation`], or an `Option` of one where it
    /// depends on the form (a change asked about only in live mode).
    #[prop(optional, into)]
    confirm: MaybeConfirmation,
    #[prop(optional, into)] testid: Option<String>,
    /// The id of the [`Reveal`] that shows the server function's answer once, in place.
    #[prop(optional)]
    reveal: Option<&'static str>,
    /// The id of an element of the page that [`PageForms`] reads again from the server every
    /// 300 ms while the form is out (a sync's progress).
    #[prop(optional)]
    watch: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let env = crate::ui::layout::use_env().get_untracked();
    let live = env == crate::environment::Environment::Live;
    let (title, message, label, destructive) = match confirm.0 {
        Some(c) => (Some(c.title), Some(c.message), Some(c.label), c.destructive.then_some("")),
        None => (None, None, None, None),
    };
    view! {
        <form
            method="post"
            action=action
            novalidate=true
            data-testid=testid
            data-enhance=""
            data-done=done
            data-failed=failed
            data-confirm=title
            data-confirm-message=message
            data-confirm-label=label
            data-destructive=destructive
            data-live=live.then_some("")
            data-reveal=reveal
            data-watch=watch
        >
            {children()}
        </form>
    }
}

/// The confirmation an [`EnhancedForm`] asks for before it is sent.
#[derive(Clone, Debug, Default)]
pub struct Confirmation {
    /// The dialog's heading, e.g. "Remove the test key?".
    pub title: String,
    /// What will happen, in plain words.
    pub message: String,
    /// The confirm button's label.
    pub label: String,
    /// Styles the confirm button as dangerous.
    pub destructive: bool,
}

/// What an [`EnhancedForm`] asks before it is sent: nothing (the default) or a [`Confirmation`].
#[derive(Clone, Debug, Default)]
pub struct MaybeConfirmation(pub Option<Confirmation>);

impl From<Confirmation> for MaybeConfirmation {
    fn from(confirm: Confirmation) -> Self {
        MaybeConfirmation(Some(confirm))
    }
}

impl From<Option<Confirmation>> for MaybeConfirmation {
    fn from(confirm: Option<Confirmation>) -> Self {
        MaybeConfirmation(confirm)
    }
}

/// Where an [`EnhancedForm`] with `reveal=id` shows its answer once: a `<template>`, so that the
/// page holds nothing of it until then; [`PageForms`] puts a copy in its place, filled in, and
/// focuses it. The children's `data-reveal-field` elements get the text of that field of the
/// server function's JSON answer (`"password"`, `"row.name"`; a `null` field none), a
/// `data-reveal-copy` button copies one, and a `data-reveal-class` element gets that field as a
/// class, and `data-reveal-attrs="name=field …"` sets those attributes; an element with
/// `data-reveal-each` is repeated for each item of that list, its own fields read from the item.
/// If the answer lacks a field (`null`: nothing to show), nothing is shown.
#[component]
pub fn Reveal(
    id: &'static str,
    #[prop(into)] testid: String,
    /// The class of the element shown: a notice unless said otherwise.
    #[prop(default = "notice")]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <template id=id>
            <div class=class role="status" tabindex="-1" data-testid=testid data-revealed=id>
                {children()}
            </div>
        </template>
    }
}

/// Where [`PageForms`] says what is wrong with the [`EnhancedForm`] around it: the browser's
/// check, under the test id `client`, or the server's refusal, under `server` (one slot, so a
/// new message replaces the last). `id`: what a field's `aria-describedby` names.
#[component]
pub fn FormErrors(
    #[prop(optional)] id: Option<&'static str>,
    #[prop(optional)] class: Option<&'static str>,
    /// The test id of the browser's message; a form the browser checks nothing of has none.
    #[prop(optional)]
    client: Option<&'static str>,
    /// The test id of the server's refusal.
    server: &'static str,
) -> impl IntoView {
    view! { <div id=id class=class aria-live="polite" data-form-errors="" data-client-testid=client data-server-testid=server></div> }
}

/// The island that makes the page's [`EnhancedForm`]s, `data-drop-empty` filters and `data-copy`
/// buttons work (see the module's notes). Renders a hidden marker only.
#[island]
pub fn PageForms() -> impl IntoView {
    let marker = NodeRef::<leptos::html::Span>::new();
    #[cfg(feature = "hydrate")]
    marker.on_load(|_| browser::listen());
    view! { <span hidden node_ref=marker></span> }
}

#[cfg(feature = "hydrate")]
pub(crate) use browser::go_with_toasts;

/// The browser's side of [`PageForms`].
#[cfg(feature = "hydrate")]
mod browser {
    use crate::error::AppError;
    use std::cell::Cell;
    use std::rc::Rc;
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{Element, Event, HtmlButtonElement, HtmlElement, HtmlFormElement, HtmlInputElement, KeyboardEvent};

    /// The session-storage key under which the outcome of a change waits for the page read again.
    const FLASH_KEY: &str = "pc-flash";
    /// The same for what went wrong though the change was made (a JSON list of messages).
    const FLASH_ERRORS_KEY: &str = "pc-flash-errors";

    thread_local! {
        /// The last pause of typing in a `data-instant` form: only the last one applies it.
        static TYPED: Cell<u32> = const { Cell::new(0) };
        /// The last in-place read of the page: an answer to an earlier one is dropped.
        static READS: Cell<u32> = const { Cell::new(0) };
    }

    /// Leaves for `href` with `done` waiting there as a toast, and each of `problems` as an error
    /// toast (an island's change whose page is another address: the catalog's editors).
    pub(crate) fn go_with_toasts(href: &str, done: Option<&str>, problems: &[String]) {
        let window = leptos::prelude::window();
        if let Some(storage) = window.session_storage().ok().flatten() {
            if let Some(done) = done {
                let _ = storage.set_item(FLASH_KEY, done);
            }
            if !problems.is_empty() {
                let _ = storage.set_item(FLASH_ERRORS_KEY, &serde_json::to_string(problems).unwrap_or_default());
            }
        }
        let _ = window.location().assign(href);
    }

    /// Listens on the document, enables what needs this island, and shows the outcome of the
    /// change that read the page again.
    pub(super) fn listen() {
        let document = leptos::prelude::document();
        let on_submit = Closure::<dyn Fn(Event)>::new(on_submit);
        let on_click = Closure::<dyn Fn(Event)>::new(on_click);
        let _ = document.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        let _ = document.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        let on_input = Closure::<dyn Fn(Event)>::new(on_input);
        let _ = document.add_event_listener_with_callback("input", on_input.as_ref().unchecked_ref());
        let on_change = Closure::<dyn Fn(Event)>::new(on_change);
        let _ = document.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
        on_change.forget();
        let on_popstate = Closure::<dyn Fn(Event)>::new(on_popstate);
        let _ = leptos::prelude::window()
            .add_event_listener_with_callback("popstate", on_popstate.as_ref().unchecked_ref());
        on_popstate.forget();
        // They serve the page as long as it lives.
        on_submit.forget();
        on_click.forget();
        on_input.forget();
        enable_buttons();
        // What was typed before the island came (or kept by the browser) counts too.
        if let Ok(fields) = document.query_selector_all("input[data-unlocks]") {
            for i in 0..fields.length() {
                if let Some(field) = fields.item(i).and_then(|f| f.dyn_into::<Element>().ok()) {
                    unlock(&field);
                }
            }
        }
        // Something the server said is running when the page was rendered is followed until it ends.
        if let Ok(watched) = document.query_selector_all("[data-watched]") {
            for i in 0..watched.length() {
                let Some(el) = watched.item(i).and_then(|e| e.dyn_into::<Element>().ok()) else { continue };
                if el.query_selector("[data-running]").ok().flatten().is_some() {
                    leptos::task::spawn_local(watch(el.id(), None));
                }
            }
        }
        let storage = leptos::prelude::window().session_storage().ok().flatten();
        if let Some(message) = storage.as_ref().and_then(|s| s.get_item(FLASH_KEY).ok().flatten()) {
            let _ = storage.as_ref().map(|s| s.remove_item(FLASH_KEY));
            toast(&message, false);
        }
        if let Some(problems) = storage.as_ref().and_then(|s| s.get_item(FLASH_ERRORS_KEY).ok().flatten()) {
            let _ = storage.as_ref().map(|s| s.remove_item(FLASH_ERRORS_KEY));
            for problem in serde_json::from_str::<Vec<String>>(&problems).unwrap_or_default() {
                toast(&problem, true);
            }
        }
    }

    /// Enables the buttons that work only with this island (`data-needs-js`).
    fn enable_buttons() {
        if let Ok(buttons) = leptos::prelude::document().query_selector_all("[data-needs-js]") {
            for i in 0..buttons.length() {
                if let Some(b) = buttons.item(i).and_then(|b| b.dyn_into::<HtmlButtonElement>().ok()) {
                    b.set_disabled(false);
                }
            }
        }
    }

    fn on_submit(ev: Event) {
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<HtmlFormElement>().ok()) else { return };
        if form.has_attribute("data-instant") {
            ev.prevent_default();
            apply_in_place(&form, false);
        } else if form.has_attribute("data-drop-empty") {
            ev.prevent_default();
            go_filtered(&form);
        } else if form.has_attribute("data-enhance") {
            ev.prevent_default();
            if busy(&form) {
                return;
            }
            if let Err((field, message)) = check(&form) {
                // A form without a place for it still says what is wrong.
                if !show_error(&form, Some(&field), &message, "data-client-testid") {
                    toast(&message, true);
                }
                return;
            }
            match form.get_attribute("data-confirm") {
                Some(title) => ask(form, title),
                None => send(form),
            }
        }
    }

    /// Typing again clears what the form said was wrong; a `data-unlocks` field enables the
    /// form's submit button only while it holds that word.
    fn on_input(ev: Event) {
        let Some(field) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        if let Some(form) = field.closest("form[data-instant]").ok().flatten() {
            if field.tag_name() == "INPUT" {
                typed(form);
            }
            return;
        }
        let Some(form) = field.closest("form[data-enhance]").ok().flatten() else { return };
        clear_errors(&form);
        unlock(&field);
    }

    /// Enables the submit button of a `data-unlocks` field's form only while the field holds
    /// that word.
    fn unlock(field: &Element) {
        let (Some(word), Some(input)) = (field.get_attribute("data-unlocks"), field.dyn_ref::<HtmlInputElement>())
        else {
            return;
        };
        let form = field.closest("form").ok().flatten().and_then(|f| f.dyn_into::<HtmlFormElement>().ok());
        if let Some(button) = form.as_ref().and_then(submit_button) {
            button.set_disabled(input.value().trim() != word);
        }
    }

    /// A box of a form with a `data-check-all` box: that box ticks or clears them all, and is
    /// ticked once they all are. Any change to a form's choice removes what its
    /// `data-invalidates` names (what was shown for the choice before).
    fn on_change(ev: Event) {
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        // A choice in a `data-instant` form applies it at once (typing applies it on a pause).
        if target.tag_name() == "SELECT" {
            if let Some(form) = target.closest("form[data-instant]").ok().flatten() {
                if let Ok(form) = form.dyn_into::<HtmlFormElement>() {
                    apply_in_place(&form, false);
                }
            }
            return;
        }
        let Some(field) = target.dyn_into::<HtmlInputElement>().ok() else { return };
        let Some(form) = field.closest("form").ok().flatten() else { return };
        if let Some(id) = form.get_attribute("data-invalidates") {
            if let Some(stale) = leptos::prelude::document().get_element_by_id(&id) {
                stale.remove();
            }
        }
        let Some(all) = form.query_selector("input[data-check-all]").ok().flatten() else { return };
        let Some(all) = all.dyn_into::<HtmlInputElement>().ok() else { return };
        let name = all.get_attribute("data-check-all").unwrap_or_default();
        let Ok(boxes) = form.query_selector_all(&format!("input[type=checkbox][name={name}]")) else { return };
        let boxes: Vec<HtmlInputElement> =
            (0..boxes.length()).filter_map(|i| boxes.item(i).and_then(|b| b.dyn_into().ok())).collect();
        if field == all {
            for b in &boxes {
                b.set_checked(all.checked());
            }
        } else {
            all.set_checked(!boxes.is_empty() && boxes.iter().all(HtmlInputElement::checked));
        }
    }

    /// What the browser can tell about the form's fields before anything is sent: the first
    /// field that is empty though `data-required`, or does not start with its `data-prefix`,
    /// with the form's message for it.
    fn check(form: &HtmlFormElement) -> Result<(), (Element, String)> {
        let Ok(fields) = form.query_selector_all("input[data-required], input[data-prefix]") else { return Ok(()) };
        for i in 0..fields.length() {
            let Some(field) = fields.item(i).and_then(|f| f.dyn_into::<HtmlInputElement>().ok()) else { continue };
            let value = field.value();
            let value = value.trim();
            if value.is_empty() {
                if let Some(message) = field.get_attribute("data-required") {
                    return Err((field.into(), message));
                }
            } else if let Some(prefix) = field.get_attribute("data-prefix") {
                if !value.starts_with(&prefix) {
                    let message = field.get_attribute("data-prefix-message").unwrap_or_default();
                    return Err((field.into(), message));
                }
            }
        }
        Ok(())
    }

    /// Writes `message` into the form's `data-form-errors` element (with the test id its
    /// `testid_attr` names) and marks `field`, or the form's checked fields, invalid; false if
    /// the form has no such element.
    fn show_error(form: &HtmlFormElement, field: Option<&Element>, message: &str, testid_attr: &str) -> bool {
        let Some(slot) = form.query_selector("[data-form-errors]").ok().flatten() else { return false };
        let Ok(p) = leptos::prelude::document().create_element("p") else { return false };
        p.set_class_name("field-error");
        if let Some(testid) = slot.get_attribute(testid_attr) {
            let _ = p.set_attribute("data-testid", &testid);
        }
        p.set_text_content(Some(message));
        slot.replace_children_with_node_1(&p);
        let invalid = match field {
            Some(field) => vec![field.clone()],
            None => checked_fields(form),
        };
        for field in invalid {
            let _ = field.set_attribute("aria-invalid", "true");
        }
        true
    }

    fn checked_fields(form: &HtmlFormElement) -> Vec<Element> {
        let Ok(fields) = form.query_selector_all("input[data-required], input[data-prefix]") else { return Vec::new() };
        (0..fields.length()).filter_map(|i| fields.item(i).and_then(|f| f.dyn_into::<Element>().ok())).collect()
    }

    fn clear_errors(form: &Element) {
        if let Some(slot) = form.query_selector("[data-form-errors]").ok().flatten() {
            slot.set_inner_html("");
        }
        if let Ok(fields) = form.query_selector_all("[aria-invalid]") {
            for i in 0..fields.length() {
                if let Some(field) = fields.item(i).and_then(|f| f.dyn_into::<Element>().ok()) {
                    let _ = field.set_attribute("aria-invalid", "false");
                }
            }
        }
    }

    fn on_click(ev: Event) {
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        if let Some(close) = target.closest(".toast-close").ok().flatten() {
            if let Some(t) = close.closest(".toast").ok().flatten() {
                t.remove();
            }
        } else if let Some(button) = target.closest("button[data-copy]").ok().flatten() {
            copy(&button);
        } else if let Some(link) = target.closest("a[data-in-place]").ok().flatten() {
            // A click that would open another tab or window is the browser's.
            let plain = ev
                .dyn_ref::<web_sys::MouseEvent>()
                .is_some_and(|m| m.button() == 0 && !(m.ctrl_key() || m.meta_key() || m.shift_key() || m.alt_key()));
            let Some(href) = link.get_attribute("href").filter(|_| plain) else { return };
            ev.prevent_default();
            let _ = leptos::prelude::window().history().map(|h| h.push_state_with_url(&JsValue::NULL, "", Some(&href)));
            leptos::task::spawn_local(refresh(false));
        }
    }

    /// Back or forward to an address this page changed in place: read it in place.
    fn on_popstate(_: Event) {
        let document = leptos::prelude::document();
        if document.query_selector("form[data-instant], a[data-in-place]").ok().flatten().is_some() {
            // The address's own filters, not what the search box holds now.
            leptos::task::spawn_local(refresh(false));
        }
    }

    /// Typing in a `data-instant` form: it is applied once typing pauses for 250 ms.
    fn typed(form: Element) {
        let Ok(form) = form.dyn_into::<HtmlFormElement>() else { return };
        let mine = TYPED.with(|t| {
            t.set(t.get().wrapping_add(1));
            t.get()
        });
        leptos::task::spawn_local(async move {
            sleep(250).await;
            if TYPED.with(Cell::get) == mine {
                // Each pause replaces the address rather than adding one per word to the history.
                apply_in_place(&form, true);
            }
        });
    }

    /// The `data-instant` form's address (as [`go_filtered`] would go to), taken in place of this
    /// one (`replace`) or after it, and the page read in place.
    fn apply_in_place(form: &HtmlFormElement, replace: bool) {
        let window = leptos::prelude::window();
        let path = window.location().pathname().unwrap_or_default();
        let href = format!("{path}{}", filtered_query(form));
        let here = format!("{path}{}", window.location().search().unwrap_or_default());
        if href == here {
            return;
        }
        let Ok(history) = window.history() else { return };
        let _ = if replace {
            history.replace_state_with_url(&JsValue::NULL, "", Some(&href))
        } else {
            history.push_state_with_url(&JsValue::NULL, "", Some(&href))
        };
        leptos::task::spawn_local(refresh(true));
    }

    /// Reads the page of the address it now has in place, unless a later read has started; the
    /// field being typed in keeps its focus and caret, and with `typing` what has been typed since
    /// the address was taken; an element with an id that had the focus gets it back. If the page
    /// cannot be read it is loaded.
    async fn refresh(typing: bool) {
        let mine = READS.with(|r| {
            r.set(r.get().wrapping_add(1));
            r.get()
        });
        // The list being replaced is dimmed meanwhile (`style/main.css`).
        let main = leptos::prelude::document().get_element_by_id("main");
        if let Some(main) = &main {
            let _ = main.set_attribute("aria-busy", "true");
        }
        let read = read_page().await;
        if READS.with(Cell::get) != mine {
            return;
        }
        if let Some(main) = &main {
            let _ = main.remove_attribute("aria-busy");
        }
        let Ok(page) = read else {
            let _ = leptos::prelude::window().location().reload();
            return;
        };
        let document = leptos::prelude::document();
        let focused = document.active_element();
        let field = focused.as_ref().and_then(|f| f.dyn_ref::<HtmlInputElement>().cloned());
        let typed = field.as_ref().and_then(|f| {
            let name = f.get_attribute("name")?;
            f.closest("form[data-instant]").ok().flatten()?;
            let value = typing.then(|| f.value());
            Some((name, value, f.selection_start().ok().flatten(), f.selection_end().ok().flatten()))
        });
        let focused_id = focused.map(|f| f.id()).filter(|id| !id.is_empty());
        if swap_main(&page).is_err() {
            return;
        }
        if let Some((name, value, start, end)) = typed {
            let selector = format!("form[data-instant] input[name=\"{name}\"]");
            if let Some(input) =
                document.query_selector(&selector).ok().flatten().and_then(|i| i.dyn_into::<HtmlInputElement>().ok())
            {
                if let Some(value) = value {
                    input.set_value(&value);
                }
                let _ = input.focus();
                let _ = input.set_selection_range(start.unwrap_or(0), end.unwrap_or(0));
            }
        } else if let Some(el) = focused_id.and_then(|id| document.get_element_by_id(&id)) {
            if let Some(el) = el.dyn_ref::<HtmlElement>() {
                let _ = el.focus();
            }
        }
    }

    /// The form's submit button, disabled while its request is out.
    fn submit_button(form: &HtmlFormElement) -> Option<HtmlButtonElement> {
        form.query_selector("button[type=submit]").ok().flatten().and_then(|b| b.dyn_into().ok())
    }

    fn busy(form: &HtmlFormElement) -> bool {
        submit_button(form).is_some_and(|b| b.disabled())
    }

    /// A GET form's new address without its empty fields (`?status=failed`, not
    /// `?status=failed&type=`).
    fn go_filtered(form: &HtmlFormElement) {
        let path = leptos::prelude::window().location().pathname().unwrap_or_default();
        let _ = leptos::prelude::window().location().set_href(&format!("{path}{}", filtered_query(form)));
    }

    /// A GET form's query without its empty fields.
    fn filtered_query(form: &HtmlFormElement) -> String {
        let mut pairs = Vec::new();
        if let Ok(fields) = form.query_selector_all("input[name], select[name]") {
            for i in 0..fields.length() {
                let Some(field) = fields.item(i).and_then(|f| f.dyn_into::<Element>().ok()) else { continue };
                let name = field.get_attribute("name").unwrap_or_default();
                let value = js_sys::Reflect::get(&field, &JsValue::from_str("value"))
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default();
                let value = value.trim().to_owned();
                if !value.is_empty() {
                    pairs.push((name, value));
                }
            }
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        crate::model::format::query_string(&pairs)
    }

    /// The confirmation dialog, built as `ConfirmDialog` renders it; `send`s the form once
    /// confirmed (in live mode, once `live` is typed).
    fn ask(form: HtmlFormElement, title: String) {
        // Creating elements of these names cannot fail; if it ever did, the form is not sent.
        let _ = dialog(form, title);
    }

    fn dialog(form: HtmlFormElement, title: String) -> Option<()> {
        let document = leptos::prelude::document();
        let live = form.has_attribute("data-live");
        let el = |tag: &str, class: &str| {
            let e = document.create_element(tag).ok()?;
            if !class.is_empty() {
                e.set_class_name(class);
            }
            Some(e)
        };
        let backdrop = el("div", "modal-backdrop")?;
        let modal = el("div", "modal")?;
        for (k, v) in [
            ("role", "dialog"),
            ("aria-modal", "true"),
            ("aria-labelledby", "confirm-title"),
            ("data-testid", "confirm-dialog"),
        ] {
            let _ = modal.set_attribute(k, v);
        }
        let heading = el("h2", "")?;
        heading.set_id("confirm-title");
        heading.set_text_content(Some(&title));
        let message = el("p", "")?;
        message.set_text_content(form.get_attribute("data-confirm-message").as_deref());
        let _ = modal.append_child(&heading);
        let _ = modal.append_child(&message);
        let typed = if live {
            let label = el("label", "field")?;
            let words = el("span", "")?;
            words.set_inner_html("This is live mode. Type <strong>live</strong> to confirm.");
            let input = el("input", "")?;
            for (k, v) in [("type", "text"), ("autocomplete", "off"), ("data-testid", "confirm-env")] {
                let _ = input.set_attribute(k, v);
            }
            let _ = label.append_child(&words);
            let _ = label.append_child(&input);
            let _ = modal.append_child(&label);
            Some(input.unchecked_into::<HtmlInputElement>())
        } else {
            None
        };
        let actions = el("div", "modal-actions")?;
        let cancel = el("button", "button-secondary")?;
        let _ = cancel.set_attribute("type", "button");
        cancel.set_text_content(Some("Cancel"));
        let destructive = form.has_attribute("data-destructive");
        let ok = el("button", if destructive { "button-danger" } else { "button-primary" })?;
        let _ = ok.set_attribute("type", "button");
        let _ = ok.set_attribute("data-testid", "confirm-ok");
        ok.set_text_content(form.get_attribute("data-confirm-label").as_deref());
        let ok = ok.unchecked_into::<HtmlButtonElement>();
        ok.set_disabled(live);
        let _ = actions.append_child(&cancel);
        let _ = actions.append_child(&ok);
        let _ = modal.append_child(&actions);
        let _ = backdrop.append_child(&modal);
        let _ = document.body().map(|b| b.append_child(&backdrop));

        let confirmed = {
            let typed = typed.clone();
            move || typed.as_ref().is_none_or(|i| i.value().trim() == "live")
        };
        let close = {
            let backdrop = backdrop.clone();
            move || backdrop.remove()
        };
        let confirm = {
            let (close, confirmed, form) = (close.clone(), confirmed.clone(), form.clone());
            move || {
                if confirmed() {
                    close();
                    send(form.clone());
                }
            }
        };
        listen_on(&backdrop, "click", {
            let close = close.clone();
            move |_| close()
        });
        listen_on(&modal, "click", |ev| ev.stop_propagation());
        listen_on(&modal, "keydown", {
            let close = close.clone();
            move |ev| {
                if ev.dyn_ref::<KeyboardEvent>().is_some_and(|k| k.key() == "Escape") {
                    close();
                }
            }
        });
        listen_on(&cancel, "click", move |_| close());
        listen_on(&ok, "click", {
            let confirm = confirm.clone();
            move |_| confirm()
        });
        if let Some(input) = typed {
            listen_on(&input, "input", {
                let ok = ok.clone();
                move |_| ok.set_disabled(!confirmed())
            });
            listen_on(&input, "keydown", move |ev| {
                if ev.dyn_ref::<KeyboardEvent>().is_some_and(|k| k.key() == "Enter") {
                    ev.prevent_default();
                    confirm();
                }
            });
            let _ = input.focus();
        } else {
            let _ = ok.focus();
        }
        Some(())
    }

    /// A listener that lives as long as the element (the dialog's are dropped with it).
    fn listen_on(target: &Element, event: &str, f: impl Fn(Event) + 'static) {
        let closure = Closure::<dyn Fn(Event)>::new(f);
        let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        closure.forget();
    }

    /// Sends the form to its server function; on success reads the page again with the
    /// outcome waiting as a toast, otherwise says why in a toast and leaves the form as it is.
    fn send(form: HtmlFormElement) {
        let button = submit_button(&form);
        let label = button.as_ref().and_then(|b| b.text_content());
        if let Some(b) = &button {
            b.set_disabled(true);
            let _ = b.set_attribute("aria-busy", "true");
            if let Some(pending) = b.get_attribute("data-pending-label") {
                b.set_text_content(Some(&pending));
            }
        }
        clear_errors(&form);
        // While the form is out, what it watches is read again (and shows what it shows only
        // then, `data-while-sending`); the flag ends that.
        let out = Rc::new(Cell::new(true));
        let watched = form.get_attribute("data-watch");
        if let Some(id) = &watched {
            if let Some(el) = leptos::prelude::document().get_element_by_id(id) {
                let _ = el.set_attribute("data-sending", "");
            }
            leptos::task::spawn_local(watch(id.clone(), Some(out.clone())));
        }
        leptos::task::spawn_local(async move {
            let answered = post(&form).await;
            out.set(false);
            if let Some(el) = watched.and_then(|id| leptos::prelude::document().get_element_by_id(&id)) {
                let _ = el.remove_attribute("data-sending");
            }
            match answered {
                Ok(answer) if form.has_attribute("data-reveal") => {
                    let reveal = form.get_attribute("data-reveal").unwrap_or_default();
                    let done = form.get_attribute("data-done").unwrap_or_default();
                    // The page as the server now has it, then the answer in it; had the page
                    // not come, the form's own page still shows the answer, said to be stale.
                    let read = read_in_place().await;
                    show_answer(&reveal, &answer);
                    match read {
                        Ok(()) => match problem(&answer) {
                            Some(problem) => toast(&problem, true),
                            None if !done.is_empty() => toast(&done, false),
                            None => {}
                        },
                        Err(reason) => {
                            toast(
                                &format!(
                                    "{done} The page could not be read again ({reason}): reload it to see the change."
                                ),
                                true,
                            );
                            restore(button.as_ref(), label.as_deref());
                        }
                    }
                }
                Ok(_) => {
                    let done = form.get_attribute("data-done").unwrap_or_default();
                    let window = leptos::prelude::window();
                    if let Some(storage) = window.session_storage().ok().flatten() {
                        let _ = storage.set_item(FLASH_KEY, &done);
                    }
                    let _ = window.location().reload();
                }
                Err(reason) => {
                    let failed = form.get_attribute("data-failed").unwrap_or_default();
                    toast(&format!("{failed}: {reason}"), true);
                    let _ = show_error(&form, None, &reason, "data-server-testid");
                    restore(button.as_ref(), label.as_deref());
                }
            }
        });
    }

    /// The submit button as it was before its form went out.
    fn restore(button: Option<&HtmlButtonElement>, label: Option<&str>) {
        if let Some(b) = button {
            b.set_disabled(false);
            let _ = b.remove_attribute("aria-busy");
            b.set_text_content(label);
        }
    }

    /// What went wrong though the server function succeeded (a sync that failed for an
    /// environment): the answer's `problem`, if it has one.
    fn problem(answer: &str) -> Option<String> {
        let answer = serde_json::from_str::<serde_json::Value>(answer).ok()?;
        Some(answer.get("problem")?.as_str()?.to_owned()).filter(|p| !p.is_empty())
    }

    /// Reads the element `id` again from the server every 300 ms: while the form is `out`, or,
    /// without a form, while the server says something in it is `data-running`, after which the
    /// page is read in place (what ended has changed more than that element). Nothing is read
    /// while the element says there is nothing to follow (`data-unwatchable`: a backend that
    /// reports no progress).
    async fn watch(id: String, out: Option<Rc<Cell<bool>>>) {
        let sending = || out.as_ref().is_some_and(|o| o.get());
        let selector = format!("#{id} [data-unwatchable]");
        if leptos::prelude::document().query_selector(&selector).ok().flatten().is_some() {
            return;
        }
        loop {
            sleep(300).await;
            if out.is_some() && !sending() {
                return;
            }
            let read = read_page().await;
            // An answer that comes after the form's own is older than the page it read.
            if out.is_some() && !sending() {
                return;
            }
            let Ok(page) = read else {
                // While the form is out its own answer ends the watch; otherwise it stops here.
                if out.is_some() {
                    continue;
                }
                return;
            };
            let (Some(new), Some(old)) =
                (page.get_element_by_id(&id), leptos::prelude::document().get_element_by_id(&id))
            else {
                return;
            };
            old.set_inner_html(&new.inner_html());
            if out.is_none() && new.query_selector("[data-running]").ok().flatten().is_none() {
                let _ = read_in_place().await;
                return;
            }
        }
    }

    /// Resolves after `ms` milliseconds.
    async fn sleep(ms: i32) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = leptos::prelude::window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        });
        let _ = JsFuture::from(promise).await;
    }

    /// Replaces the content of the page's `<main>` with the server's HTML of the same address
    /// (the frame around it, and its islands, stay as they are). What it brings needs no
    /// hydrating: the island listens on the document, and the buttons it enables are enabled
    /// again.
    async fn read_in_place() -> Result<(), String> {
        swap_main(&read_page().await?)
    }

    /// Replaces the content of the page's `<main>` with that of `parsed`'s.
    fn swap_main(parsed: &web_sys::Document) -> Result<(), String> {
        let (Some(new), Some(main)) =
            (parsed.get_element_by_id("main"), leptos::prelude::document().get_element_by_id("main"))
        else {
            return Err("the page has no main content".to_owned());
        };
        main.set_inner_html(&new.inner_html());
        enable_buttons();
        Ok(())
    }

    /// The server's HTML of the page's address, parsed.
    async fn read_page() -> Result<web_sys::Document, String> {
        let unreachable = |e: JsValue| AppError::Transport(format!("{e:?}")).to_string();
        let window = leptos::prelude::window();
        let href = window.location().href().map_err(unreachable)?;
        let init = web_sys::RequestInit::new();
        init.set_method("GET");
        let response = JsFuture::from(window.fetch_with_str_and_init(&href, &init))
            .await
            .map_err(unreachable)?
            .unchecked_into::<web_sys::Response>();
        if !response.ok() {
            return Err(format!("the server answered {}", response.status()));
        }
        let html = JsFuture::from(response.text().map_err(unreachable)?)
            .await
            .map_err(unreachable)?
            .as_string()
            .unwrap_or_default();
        web_sys::DomParser::new()
            .and_then(|p| p.parse_from_string(&html, web_sys::SupportedType::TextHtml))
            .map_err(unreachable)
    }

    /// Shows a filled-in copy of the [`super::Reveal`] `id` in its place, with the server
    /// function's JSON `answer`, unless the answer lacks a field it shows (`null`: nothing to
    /// show). A copy shown before (when the page could not be read again) goes first.
    fn show_answer(id: &str, answer: &str) {
        let document = leptos::prelude::document();
        let Some(template) =
            document.get_element_by_id(id).and_then(|t| t.dyn_into::<web_sys::HtmlTemplateElement>().ok())
        else {
            return;
        };
        let answer = serde_json::from_str::<serde_json::Value>(answer).unwrap_or_default();
        let Some(copy) = template
            .content()
            .clone_node_with_deep(true)
            .ok()
            .and_then(|c| c.dyn_into::<web_sys::DocumentFragment>().ok())
        else {
            return;
        };
        // Lists first, each item into a copy of its element, so what is left is the answer's own.
        for list in elements(copy.query_selector_all("[data-reveal-each]")) {
            let items = list.get_attribute("data-reveal-each").and_then(|path| lookup(&answer, &path).cloned());
            let Some(serde_json::Value::Array(items)) = items else { return };
            for item in &items {
                let Some(row) = list.clone_node_with_deep(true).ok().and_then(|r| r.dyn_into::<Element>().ok()) else {
                    return;
                };
                let _ = row.remove_attribute("data-reveal-each");
                let mut places = elements(row.query_selector_all(REVEALED));
                places.push(row.clone());
                if !fill(places, item) {
                    return;
                }
                let _ = list.parent_node().map(|parent| parent.insert_before(&row, Some(&list)));
            }
            list.remove();
        }
        if !fill(elements(copy.query_selector_all(REVEALED)), &answer) {
            return;
        }
        if let Ok(Some(shown)) = document.query_selector(&format!("[data-revealed={id}]")) {
            shown.remove();
        }
        let shown = copy.first_element_child();
        let _ = template.parent_node().map(|parent| parent.insert_before(&copy, Some(&template)));
        if let Some(shown) = shown.and_then(|s| s.dyn_into::<HtmlElement>().ok()) {
            let _ = shown.focus();
        }
    }

    /// The elements a [`super::Reveal`] fills from the answer.
    const REVEALED: &str = "[data-reveal-field], [data-reveal-copy], [data-reveal-class], [data-reveal-attrs]";

    fn elements(list: Result<web_sys::NodeList, JsValue>) -> Vec<Element> {
        let Ok(list) = list else { return Vec::new() };
        (0..list.length()).filter_map(|i| list.item(i).and_then(|e| e.dyn_into::<Element>().ok())).collect()
    }

    /// The field at a dotted `path` of `value`.
    fn lookup<'a>(value: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
        path.split('.').try_fold(value, |value, key| value.get(key))
    }

    /// Fills each place's reveal attributes from `value`, and takes them off (so that a list's
    /// rows are not filled again from the whole answer); false if a field is missing.
    fn fill(places: Vec<Element>, value: &serde_json::Value) -> bool {
        let text = |path: &str| -> Option<String> {
            Some(match lookup(value, path)? {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        for place in places {
            if let Some(path) = place.get_attribute("data-reveal-field") {
                let Some(text) = text(&path) else { return false };
                place.set_text_content(Some(&text));
                let _ = place.remove_attribute("data-reveal-field");
            }
            if let Some(path) = place.get_attribute("data-reveal-copy") {
                let Some(text) = text(&path) else { return false };
                let _ = place.set_attribute("data-copy", &text);
                let _ = place.remove_attribute("data-reveal-copy");
            }
            if let Some(path) = place.get_attribute("data-reveal-class") {
                let Some(class) = text(&path) else { return false };
                if !class.is_empty() {
                    let _ = place.class_list().add_1(&class);
                }
                let _ = place.remove_attribute("data-reveal-class");
            }
            if let Some(pairs) = place.get_attribute("data-reveal-attrs") {
                for pair in pairs.split_whitespace() {
                    let Some((name, path)) = pair.split_once('=') else { continue };
                    let Some(value) = text(path) else { return false };
                    let _ = place.set_attribute(name, &value);
                }
                let _ = place.remove_attribute("data-reveal-attrs");
            }
        }
        true
    }

    /// POSTs the form's fields, URL-encoded as a server function reads them, asking for JSON so
    /// that a refusal comes back as the function's error; answers with the function's JSON.
    async fn post(form: &HtmlFormElement) -> Result<String, String> {
        let unreachable = |e: JsValue| AppError::Transport(format!("{e:?}")).to_string();
        let data = web_sys::FormData::new_with_form(form).map_err(unreachable)?;
        let body = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).map_err(unreachable)?;
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&body);
        let headers = web_sys::Headers::new().map_err(unreachable)?;
        headers.set("Accept", "application/json").map_err(unreachable)?;
        init.set_headers(&headers);
        let action = form.get_attribute("action").unwrap_or_default();
        let response = JsFuture::from(leptos::prelude::window().fetch_with_str_and_init(&action, &init))
            .await
            .map_err(unreachable)?
            .unchecked_into::<web_sys::Response>();
        let status = response.status();
        let text = match response.text() {
            Ok(promise) => JsFuture::from(promise).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
            Err(_) => String::new(),
        };
        if response.ok() {
            return Ok(text);
        }
        Err(serde_json::from_str::<AppError>(&text)
            .map(|e| e.to_string())
            .unwrap_or_else(|_| format!("the server answered {status}")))
    }

    /// A toast in the page's region (`crate::ui::toast::ToastRegion`, made here if the page has
    /// none); a success leaves after six seconds, an error stays until dismissed.
    fn toast(message: &str, error: bool) {
        let document = leptos::prelude::document();
        let region = document.query_selector("[data-testid=toasts]").ok().flatten().or_else(|| {
            let region = document.create_element("div").ok()?;
            region.set_class_name("toasts");
            let _ = region.set_attribute("role", "status");
            let _ = region.set_attribute("aria-live", "polite");
            let _ = region.set_attribute("data-testid", "toasts");
            document.body()?.append_child(&region).ok()?;
            Some(region)
        });
        let (Some(region), Ok(toast), Ok(text), Ok(close)) = (
            region,
            document.create_element("div"),
            document.create_element("span"),
            document.create_element("button"),
        ) else {
            return;
        };
        toast.set_class_name(if error { "toast toast-error" } else { "toast" });
        let _ = toast.set_attribute("data-testid", if error { "toast-error" } else { "toast-success" });
        text.set_text_content(Some(message));
        close.set_class_name("toast-close");
        let _ = close.set_attribute("type", "button");
        let _ = close.set_attribute("aria-label", "Dismiss");
        close.set_text_content(Some("×"));
        let _ = toast.append_child(&text);
        let _ = toast.append_child(&close);
        let _ = region.append_child(&toast);
        if !error {
            let toast = toast.clone();
            leptos::prelude::set_timeout(move || toast.remove(), std::time::Duration::from_secs(6));
        }
    }

    /// Copies the button's `data-copy` and says so for a moment. Without a clipboard (plain HTTP
    /// to another host is not a secure context) it does nothing.
    fn copy(button: &Element) {
        let Some(text) = button.get_attribute("data-copy") else { return };
        let clipboard = leptos::prelude::window().navigator().clipboard();
        if JsValue::is_undefined(&clipboard) {
            return;
        }
        let _ = clipboard.write_text(&text);
        let Some(button) = button.dyn_ref::<HtmlElement>().cloned() else { return };
        button.set_text_content(Some("Copied"));
        leptos::prelude::set_timeout(
            move || button.set_text_content(Some("Copy")),
            std::time::Duration::from_millis(1500),
        );
    }
}
