//! Lists as the pages show them: a page of rows, and what was left out when the remote backend
//! cannot filter or page.

use payments_model::Page;
use serde::{Deserialize, Serialize};

/// A page of a list, and what was left out when the backend could not filter or page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Listing<T> {
    pub page: Page<T>,
    /// Set when the remote backend lacks filters/pagination and the first unfiltered page is
    /// shown instead.
    pub notice: Option<String>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::error::AppError;

    /// Runs a list query; when the remote backend lacks the additive filters/cursor, runs it again
    /// with the contract's parameters only (first page, subject and limit) and says so.
    pub async fn list_with_fallback<T, Q, F, Fut>(
        q: crate::backend::ListQuery<Q>,
        fetch: F,
    ) -> Result<Listing<T>, AppError>
    where
        Q: payments_model::QueryFilters,
        F: Fn(crate::backend::ListQuery<Q>) -> Fut,
        Fut: std::future::Future<Output = Result<Page<T>, crate::backend::ssr::BackendError>>,
    {
        use crate::backend::ssr::BackendError;
        match fetch(q.clone()).await {
            Ok(page) => Ok(Listing { page, notice: None }),
            Err(BackendError::Unsupported(what)) if q.uses_extensions() => {
                let plain =
                    crate::backend::ListQuery { limit: q.limit, subject: q.subject.clone(), ..Default::default() };
                let page = fetch(plain).await?;
                Ok(Listing {
                    page,
                    notice: Some(format!(
                        "Unsupported: the remote payments backend does not offer {what}. Showing the first page without filters."
                    )),
                })
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(feature = "ssr")]
pub use ssr::list_with_fallback;
