//! Auto-pagination: walks a list endpoint page by page (`limit=100`,
//! `starting_after=<last id>`) until `has_more` is false.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::client::StripeClient;
use crate::encode::Form;
use crate::error::StripeError;

/// Objects a list is made of: the id of the last one is the next page's cursor.
pub trait HasId {
    /// The object's id.
    fn id(&self) -> &str;
}

impl HasId for serde_json::Value {
    /// The `id` field of a JSON object (empty when absent).
    fn id(&self) -> &str {
        self.get("id").and_then(serde_json::Value::as_str).unwrap_or_default()
    }
}

/// One page of a list: `{"object": "list", "data": [...], "has_more", "url"}`.
#[derive(Deserialize)]
struct List<T> {
    data: Vec<T>,
    has_more: bool,
}

/// The largest page Stripe serves.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Progress after each page, for progress bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageProgress {
    /// Pages fetched so far (1-based).
    pub page: u32,
    /// Objects on this page.
    pub page_len: usize,
    /// Objects fetched so far, this page included.
    pub total: usize,
    /// Whether more pages follow.
    pub has_more: bool,
    /// `Request-Id` of this page's response.
    pub request_id: Option<String>,
}

/// A pull-based walk over every object of a list endpoint.
///
/// ```no_run
/// # async fn run(client: stripe_client::StripeClient) -> Result<(), stripe_client::StripeError> {
/// use stripe_client::Form;
/// let mut pages = client.paginate::<serde_json::Value>("/v1/products", Form::new().set("active", true));
/// while let Some(page) = pages.next_page().await? {
///     for product in page {
///         println!("{}", product["name"]);
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Paginator<T> {
    client: StripeClient,
    path: String,
    filters: Form,
    cursor: Option<String>,
    done: bool,
    pages: u32,
    total: usize,
    last_progress: Option<PageProgress>,
    _item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + HasId> Paginator<T> {
    pub(crate) fn new(client: StripeClient, path: &str, mut filters: Form) -> Self {
        if !filters.contains("limit") {
            filters.insert("limit", MAX_PAGE_SIZE);
        }
        Self {
            client,
            path: path.to_owned(),
            filters,
            cursor: None,
            done: false,
            pages: 0,
            total: 0,
            last_progress: None,
            _item: PhantomData,
        }
    }

    /// Overrides the page size (1..=100; default 100).
    pub fn page_size(mut self, size: u32) -> Self {
        self.filters.insert("limit", size.clamp(1, MAX_PAGE_SIZE));
        self
    }

    /// Progress as of the last page fetched.
    pub fn progress(&self) -> Option<&PageProgress> {
        self.last_progress.as_ref()
    }

    /// The next page's objects, or `None` once the list is exhausted.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, StripeError> {
        if self.done {
            return Ok(None);
        }
        let mut params = self.filters.clone();
        if let Some(cursor) = &self.cursor {
            params.insert("starting_after", cursor.as_str());
        }
        let resp = self.client.get::<List<T>>(&self.path, &params).await?;
        let request_id = resp.request_id.clone();
        let page = resp.into_inner();
        let next_cursor = page.data.last().map(|o| o.id().to_owned());
        // An empty page or a cursor that does not move would loop forever;
        // Stripe never sends either with has_more, so stop rather than spin.
        self.done = !page.has_more || next_cursor.is_none() || next_cursor == self.cursor;
        self.cursor = next_cursor;
        self.pages += 1;
        self.total += page.data.len();
        self.last_progress = Some(PageProgress {
            page: self.pages,
            page_len: page.data.len(),
            total: self.total,
            has_more: page.has_more,
            request_id,
        });
        Ok(Some(page.data))
    }

    /// Fetches every page, calling `on_page` after each one.
    pub async fn collect_all(mut self, mut on_page: impl FnMut(&PageProgress)) -> Result<Vec<T>, StripeError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
            if let Some(progress) = &self.last_progress {
                on_page(progress);
            }
        }
        Ok(all)
    }
}

impl StripeClient {
    /// Walks every object of the list endpoint at `path` (e.g.
    /// `/v1/customers`) matching `filters`, 100 per page.
    pub fn paginate<T: DeserializeOwned + HasId>(&self, path: &str, filters: Form) -> Paginator<T> {
        Paginator::new(self.clone(), path, filters)
    }

    /// Fetches every object of the list endpoint at `path`, calling
    /// `on_page` after each page (for progress reporting).
    pub async fn list_all<T: DeserializeOwned + HasId>(
        &self,
        path: &str,
        filters: Form,
        on_page: impl FnMut(&PageProgress),
    ) -> Result<Vec<T>, StripeError> {
        self.paginate(path, filters).collect_all(on_page).await
    }
}
