//! The fake CMS over real HTTP on loopback: it records signed webhooks, verifies them,
//! and fails on demand.

use casewire_testkit::FakeCms;
use casewire_webhooks::{Secret, HEADER_ID, HEADER_SIGNATURE};
use serde_json::json;

async fn post_signed(
    http: &reqwest::Client,
    url: &str,
    secret: &Secret,
    id: &str,
    body: &[u8],
) -> u16 {
    let now = chrono::Utc::now().timestamp();
    let mut request = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    for (name, value) in casewire_webhooks::headers(secret, id, now, body).unwrap() {
        request = request.header(name, value);
    }
    request
        .send()
        .await
        .expect("POST to the fake CMS")
        .status()
        .as_u16()
}

#[tokio::test]
async fn records_signed_posts_and_verifies_them_with_the_right_secret_only() {
    let cms = FakeCms::start().await;
    let http = reqwest::Client::new();
    let secret = Secret::generate();
    let url = format!("{}/hooks/casewire?tenant=t1", cms.url());
    // Deliberately not how serde_json would print it: verification is over the raw bytes.
    let body = br#"{"type": "message.delivered",  "data": {"id": "m_1"}}"#;

    assert_eq!(post_signed(&http, &url, &secret, "msg_1", body).await, 204);
    // Signed with another secret, and with the body changed after signing.
    let other = Secret::generate();
    assert_eq!(post_signed(&http, &url, &other, "msg_2", b"{}").await, 204);
    let now = chrono::Utc::now().timestamp();
    let mut tampered = http.post(&url).body(r#"{"type":"message.failed"}"#);
    for (name, value) in casewire_webhooks::headers(&secret, "msg_3", now, b"{}").unwrap() {
        tampered = tampered.header(name, value);
    }
    assert_eq!(tampered.send().await.unwrap().status().as_u16(), 204);

    let received = cms.received();
    assert_eq!(received.len(), 3);
    assert_eq!(received[0].path, "/hooks/casewire?tenant=t1");
    assert_eq!(received[0].body, body);
    assert_eq!(received[0].status, 204);
    assert_eq!(
        received[0]
            .headers
            .get(HEADER_ID)
            .unwrap()
            .to_str()
            .unwrap(),
        "msg_1"
    );
    assert!(received[0]
        .headers
        .get(HEADER_SIGNATURE)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("v1,"));
    let age = chrono::Utc::now() - received[0].received_at;
    assert!(age >= chrono::TimeDelta::zero() && age < chrono::TimeDelta::seconds(60));

    assert_eq!(
        cms.verified(&secret),
        vec![json!({"type": "message.delivered", "data": {"id": "m_1"}})]
    );
    assert_eq!(cms.verified(&other), vec![json!({})]);
    assert!(cms.verified(&Secret::generate()).is_empty());
}

#[tokio::test]
async fn fail_next_answers_the_status_then_recovers_and_records_every_attempt() {
    let cms = FakeCms::start().await;
    let http = reqwest::Client::new();
    let secret = Secret::generate();
    let url = format!("{}/webhooks", cms.url());
    let body = br#"{"type":"message.received"}"#;

    cms.fail_next(2, 503);
    assert_eq!(post_signed(&http, &url, &secret, "msg_r", body).await, 503);
    assert_eq!(post_signed(&http, &url, &secret, "msg_r", body).await, 503);
    assert_eq!(post_signed(&http, &url, &secret, "msg_r", body).await, 204);

    let statuses: Vec<u16> = cms.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 204]);
    assert_eq!(cms.verified(&secret).len(), 3, "every attempt is signed");

    // Other methods are not webhooks: refused and not recorded.
    let get = http.get(&url).send().await.unwrap();
    assert_eq!(get.status().as_u16(), 405);
    assert_eq!(cms.received().len(), 3);
}
