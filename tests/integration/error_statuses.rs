//! One error path (issue #12): a server function only returns its `AppError`, and the answer's
//! status follows from the error, whether the function is called over HTTP or by a page being
//! rendered on the server.

use crate::support::TestApp;
use payments_console::auth::Role;
use serde_json::{json, Value};

/// The history's filters with only a subject type: the model refuses half a subject.
fn half_subject() -> Vec<(String, String)> {
    let mut form = vec![("env".to_owned(), "test".to_owned())];
    for field in ["subject_type", "subject_id", "kind", "status", "customer", "object", "from", "to"] {
        let value = if field == "subject_type" { "team" } else { "" };
        form.push((format!("filters[{field}]"), value.to_owned()));
    }
    form
}

async fn post(
    client: &reqwest::Client,
    app: &TestApp,
    endpoint: &str,
    form: &impl serde::Serialize,
) -> reqwest::Response {
    client.post(app.url(&format!("/api/console/{endpoint}"))).form(form).send().await.unwrap()
}

#[tokio::test]
async fn an_error_returned_without_a_status_answers_with_its_own() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let want = json!({"Invalid": "Give both the subject type and the subject id."});
    // Made by the model (`HistoryFilters::list_query`) and passed on with `?`: it used to set no
    // status, so the answer was server_fn's 500.
    let mut form = half_subject();
    form.extend([("cursor".to_owned(), String::new()), ("limit".to_owned(), "50".to_owned())]);
    for (endpoint, form) in [("support-history", form), ("support-history-summary", half_subject())] {
        let res = post(&support, &app, endpoint, &form).await;
        assert_eq!(res.status(), 400, "{endpoint}");
        assert!(res.headers().contains_key("serverfnerror"), "{endpoint}: still a server-function error");
        let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        assert_eq!(body, want, "{endpoint}");
    }
}

#[tokio::test]
async fn server_function_errors_keep_the_statuses_they_had() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    let status = |res: reqwest::Response| res.status().as_u16();
    // A guard (401, 403), a check in the function (400), a miss (404), unreadable arguments (400).
    assert_eq!(status(post(&app.client(), &app, "instance", &Vec::<(&str, &str)>::new()).await), 401);
    assert_eq!(status(post(&support, &app, "sync-run", &[("environment", "test"), ("both", "false")]).await), 403);
    assert_eq!(status(post(&support, &app, "support-customer", &[("env", "test"), ("id", "sub_1")]).await), 400);
    let res = post(&support, &app, "support-subscription", &[("env", "test"), ("id", "sub_missing")]).await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<Value>().await.unwrap(), json!("NotFound"));
    assert_eq!(status(post(&support, &app, "support-customer", &[("env", "test")]).await), 400);
}

#[tokio::test]
async fn a_page_answers_with_the_status_of_the_error_it_shows() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    // A subscription that does not exist: a 404 page, the frame around the error intact.
    let res = support.get(app.url("/test/subscriptions/sub_missing")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("class=\"error-panel\""), "the error is shown");
    assert!(html.contains("Not found."), "the error's own words");
    assert!(html.contains("href=\"/test/subscriptions\""), "the page around it");
    // Half a subject in the history's URL: the page shows the refusal, and says 400 (it said 200).
    let res = support.get(app.url("/test/history?subjectType=team")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("Give both the subject type and the subject id."));
    // A page that shows no error stays 200.
    assert_eq!(support.get(app.url("/test/history")).send().await.unwrap().status(), 200);
}
