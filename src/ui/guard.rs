//! Role guards for page bodies.

use super::layout::use_user;
use leptos::prelude::*;

/// A section that only admins may open; support users are told so and shown nothing else, and
/// the server answers 403 for the page, so that its status says what its body says.
#[component]
pub fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    let user = use_user();
    #[cfg(feature = "ssr")]
    if !user.role.can_write() {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::FORBIDDEN);
        }
    }
    move || {
        if user.role.can_write() {
            children().into_any()
        } else {
            view! {
                <div class="notice notice-forbidden" role="alert" data-testid="forbidden">
                    <h1>"Admins only"</h1>
                    <p>"Your role (support) can read customers, subscriptions, payments and webhook events, but not this section."</p>
                </div>
            }
            .into_any()
        }
    }
}
