//! A fake CMS on loopback that receives casewire's outbound webhooks, for tests.
//!
//! It answers any `POST` with 204 (or a scripted failure), records every one it receives
//! with its headers and raw body, and checks their Standard Webhooks signatures on demand,
//! the way a CMS vendor's receiver would.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use casewire_webhooks::{Secret, DEFAULT_TOLERANCE_SECS};
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::task::JoinHandle;

/// One `POST` the fake received.
#[derive(Debug, Clone)]
pub struct ReceivedWebhook {
    /// The path and query, as requested (`/hooks/casewire?x=1`).
    pub path: String,
    pub headers: HeaderMap,
    /// The body exactly as received: signatures are over these bytes.
    pub body: Vec<u8>,
    pub received_at: DateTime<Utc>,
    /// The status the fake answered with.
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    failures: VecDeque<u16>,
    received: Vec<ReceivedWebhook>,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fake CMS webhook receiver on `127.0.0.1`, stopped when dropped.
pub struct FakeCms {
    url: String,
    shared: Shared,
    server: JoinHandle<()>,
}

impl Drop for FakeCms {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeCms {
    /// Starts the fake on an ephemeral port of 127.0.0.1.
    pub async fn start() -> FakeCms {
        let shared: Shared = Arc::default();
        let app = Router::new().fallback(receive).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake CMS to 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("local address of the fake CMS");
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the fake CMS server failed");
        });
        FakeCms {
            url: format!("http://{addr}"),
            shared,
            server,
        }
    }

    /// The base URL (`http://127.0.0.1:PORT`, no trailing `/`); any path under it
    /// receives webhooks.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Every `POST` received so far, oldest first, failed ones included.
    pub fn received(&self) -> Vec<ReceivedWebhook> {
        lock(&self.shared).received.clone()
    }

    /// The next `n` `POST`s are recorded but answered with `status` (for retry tests).
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut inner = lock(&self.shared);
        inner.failures.extend(std::iter::repeat_n(status, n));
    }

    /// The JSON bodies of the `POST`s whose Standard Webhooks signature verifies with
    /// `secret`, oldest first. Each attempt counts, failed ones included: a retried
    /// webhook appears once per attempt, with the same `webhook-id`. The timestamp is
    /// checked against the time the request was received, with the usual five minutes.
    ///
    /// Panics if a verified body is not JSON: casewire only sends JSON.
    pub fn verified(&self, secret: &Secret) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| {
                casewire_webhooks::verify(
                    secret,
                    &r.headers,
                    &r.body,
                    r.received_at.timestamp(),
                    DEFAULT_TOLERANCE_SECS,
                )
                .is_ok()
            })
            .map(|r| {
                serde_json::from_slice(&r.body)
                    .unwrap_or_else(|e| panic!("a signed webhook to {} is not JSON: {e}", r.path))
            })
            .collect()
    }
}

async fn receive(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let mut inner = lock(&shared);
    let status = inner
        .failures
        .pop_front()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::NO_CONTENT);
    inner.received.push(ReceivedWebhook {
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        headers,
        body: body.to_vec(),
        received_at: Utc::now(),
        status: status.as_u16(),
    });
    status.into_response()
}
