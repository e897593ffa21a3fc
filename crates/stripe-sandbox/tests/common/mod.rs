//! Black-box test harness: a sandbox on 127.0.0.1:0 and a small Stripe-style client.
#![allow(dead_code)]

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use stripe_sandbox::form::encode;
use stripe_sandbox::{Sandbox, SandboxConfig};

pub const KEY: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", self.body)).to_owned()
    }

    /// Asserts a success status and returns the body.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(self.status.is_success(), "expected success, got {}: {}", self.status, self.body);
        &self.body
    }

    /// Asserts a Stripe error of this status/type/code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, kind: &str, code: Option<&str>) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        let err = &self.body["error"];
        assert_eq!(err["type"], kind, "body: {}", self.body);
        match code {
            Some(c) => {
                assert_eq!(err["code"], c, "body: {}", self.body);
                assert_eq!(err["doc_url"], format!("https://docs.stripe.com/error-codes/{}", c.replace('_', "-")));
            }
            None => assert!(err.get("code").is_none(), "unexpected code in {}", self.body),
        }
        assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
        err
    }
}

pub struct Server {
    pub base: String,
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
}

pub async fn start() -> Server {
    start_with(SandboxConfig { webhook_retry_base: Duration::from_millis(50), ..SandboxConfig::default() }).await
}

pub async fn start_with(config: SandboxConfig) -> Server {
    let sandbox = Sandbox::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let s = sandbox.clone();
    tokio::spawn(async move { s.serve(listener).await });
    Server { base, sandbox, http: reqwest::Client::new() }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Resp { status, headers, body }
}

impl Server {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        pairs: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = format!("{}{}", self.base, path);
        let mut req = if method == reqwest::Method::GET {
            let q = form(pairs);
            let url = if q.is_empty() {
                url
            } else if url.contains('?') {
                format!("{url}&{q}")
            } else {
                format!("{url}?{q}")
            };
            self.http.get(url)
        } else {
            self.http.request(method, url).header("content-type", "application/x-www-form-urlencoded").body(form(pairs))
        };
        req = req.bearer_auth(KEY);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        into_resp(req.send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        self.send(reqwest::Method::POST, path, pairs, &[]).await
    }

    pub async fn get(&self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        self.send(reqwest::Method::GET, path, pairs, &[]).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(reqwest::Method::DELETE, path, &[], &[]).await
    }

    /// A sandbox-only route with a JSON body.
    pub async fn control(&self, path: &str, body: Value) -> Resp {
        let r = self.http.post(format!("{}{}", self.base, path)).json(&body).send().await.unwrap();
        into_resp(r).await
    }

    pub async fn control_get(&self, path: &str) -> Resp {
        into_resp(self.http.get(format!("{}{}", self.base, path)).send().await.unwrap()).await
    }

    /// Event types recorded so far, oldest first.
    pub async fn event_types(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q = vec![("limit", "100")];
            if let Some(a) = &after {
                q.push(("starting_after", a.as_str()));
            }
            let r = self.get("/v1/events", &q).await;
            let data = r.ok()["data"].as_array().unwrap().clone();
            for e in &data {
                out.push(e["type"].as_str().unwrap().to_owned());
            }
            if r.body["has_more"] != true {
                break;
            }
            after = data.last().map(|e| e["id"].as_str().unwrap().to_owned());
        }
        out.reverse();
        out
    }

    /// Creates a product with a monthly price; returns (product, price).
    pub async fn product_with_price(&self, name: &str, amount: i64, interval: Option<&str>) -> (String, String) {
        let product = self.post("/v1/products", &[("name", name)]).await.id();
        let amount = amount.to_string();
        let mut p = vec![("product", product.as_str()), ("currency", "usd"), ("unit_amount", amount.as_str())];
        if let Some(i) = interval {
            p.push(("recurring[interval]", i));
        }
        let price = self.post("/v1/prices", &p).await.id();
        (product, price)
    }

    pub async fn customer(&self, email: &str, pm: Option<&str>) -> String {
        let mut p = vec![("email", email)];
        if let Some(pm) = pm {
            p.push(("payment_method", pm));
            p.push(("invoice_settings[default_payment_method]", pm));
        }
        self.post("/v1/customers", &p).await.id()
    }
}
