//! The HTTP status of a server function's error, decided in one place, and the helper that keeps
//! internal causes out of the browser.
//!
//! Server functions only return `Err(AppError::…)` (or `?` on a [`crate::backend::ssr::BackendError`]);
//! none of them touches the response's status. Over HTTP, [`status_from_error`] gives an error
//! answer the status of the [`AppError`] it carries. During server-side rendering a server
//! function is called directly, without a response of its own: the page's status follows the
//! error the page *shows* (`crate::ui::error`), so an error a page handles (a notice, a fallback)
//! does not turn a working page into an error page.

use crate::error::AppError;
use axum::body::{Body, HttpBody as _};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::StatusCode;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use std::fmt::Display;

/// The largest error body read back: an encoded [`AppError`] is a few hundred bytes.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// The HTTP status for `error`, from [`AppError::status_code`].
pub fn status_of(error: &AppError) -> StatusCode {
    StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Logs an unexpected failure with its cause and answers [`AppError::Internal`], which says
/// nothing about it (its status, 500, is set like any other error's).
pub fn internal(cause: impl Display) -> AppError {
    tracing::error!(error = %cause, "server function failed");
    AppError::Internal
}

/// Middleware of the server-function routes: an error answer gets the status of its error.
///
/// server_fn answers every error with 500, the `serverfnerror` header and the encoded error;
/// this reads that error back (bounded: the bodies are small and already in memory) and sets
/// [`AppError::status_code`]. A redirect is left alone: the server function chose it (a sign-in
/// form without JavaScript), or server_fn sent a plain form back to its page with the error in
/// the URL.
pub async fn status_from_error(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if !res.headers().contains_key(SERVER_FN_ERROR_HEADER) || res.status().is_redirection() {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    if body.size_hint().upper().is_none_or(|n| n > MAX_ERROR_BODY as u64) {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "server function error body could not be read");
            return Response::from_parts(parts, Body::empty());
        }
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = status_of(&error);
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::post;
    use axum::Router;
    use http::header::LOCATION;
    use tower::ServiceExt;

    /// What server_fn answers for an error: 500, the header, the encoded error.
    fn server_fn_error(body: impl Into<Body>) -> Response {
        Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .header(SERVER_FN_ERROR_HEADER, "/api/console/x")
            .body(body.into())
            .unwrap()
    }

    /// `answer` as the server-function route's handler, behind the middleware.
    async fn through_middleware(answer: impl Fn() -> Response + Clone + Send + Sync + 'static) -> (StatusCode, String) {
        let app = Router::new()
            .route("/api/console/x", post(move || std::future::ready(answer())))
            .layer(axum::middleware::from_fn(status_from_error));
        let req = Request::builder().method("POST").uri("/api/console/x").body(Body::empty()).unwrap();
        let res = app.oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn an_error_answer_gets_the_status_of_its_error_and_keeps_its_body() {
        for error in [
            AppError::Invalid("no".into()),
            AppError::Unauthenticated,
            AppError::Forbidden,
            AppError::NotFound,
            AppError::Throttled { retry_after_secs: 3 },
            AppError::Rejected {
                status: 402,
                code: payments_model::ErrorCode::PaymentMethodDeclined,
                message: "declined".into(),
            },
            AppError::BackendUnavailable,
            AppError::Internal,
        ] {
            let encoded = serde_json::to_string(&error).unwrap();
            let answer = encoded.clone();
            let (status, body) = through_middleware(move || server_fn_error(answer.clone())).await;
            assert_eq!(status.as_u16(), error.status_code(), "{error:?}");
            assert_eq!(body, encoded);
        }
    }

    #[tokio::test]
    async fn redirects_successes_and_foreign_bodies_are_left_alone() {
        // A plain form the server function sends elsewhere (the sign-in form without JavaScript).
        let redirect = || {
            let mut res = server_fn_error(r#""BadCredentials""#);
            *res.status_mut() = StatusCode::FOUND;
            res.headers_mut().insert(LOCATION, "/login?error=credentials".parse().unwrap());
            res
        };
        assert_eq!(through_middleware(redirect).await.0, StatusCode::FOUND);
        // No server-function error header: not an error of a server function.
        let ok = || Response::builder().status(StatusCode::OK).body(Body::from(r#""NotFound""#)).unwrap();
        assert_eq!(through_middleware(ok).await, (StatusCode::OK, r#""NotFound""#.to_owned()));
        // A body that is not an encoded `AppError`, or too large to be one, keeps server_fn's 500.
        let foreign = || server_fn_error("not json");
        assert_eq!(through_middleware(foreign).await, (StatusCode::INTERNAL_SERVER_ERROR, "not json".to_owned()));
        let huge = || server_fn_error(format!(r#"{{"Invalid":"{}"}}"#, "x".repeat(MAX_ERROR_BODY)));
        let (status, body) = through_middleware(huge).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body.len(), MAX_ERROR_BODY + 14);
    }
}
