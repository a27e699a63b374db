//! The texting scenario every mode must pass (issue 3), against a fake Twilio and a fake
//! CMS: what an advocate, a CMS vendor's engineer and a client on a phone would notice.

use std::time::Duration;

use casewire_testkit::{wait_for, FakeCms, FakeTwilio};
use serde_json::{json, Value};

use crate::{assert_error, assert_error_says, Api};

pub const ACCOUNT_A: &str = "AC0123456789abcdef0123456789abcdef";
pub const ACCOUNT_B: &str = "ACfedcba9876543210fedcba9876543210";
pub const TOKEN_A: &str = "auth-token-of-prairie-legal-aid";
pub const TOKEN_B: &str = "auth-token-of-coastal-legal-svcs";
pub const NUMBER_A: &str = "+13125550199";
pub const CLIENT: &str = "+13125550100";
/// Signed Twilio webhooks the scenario sends that Twilio never would.
pub const REFUSED_WEBHOOKS: i64 = 3;
/// A text that must never appear in clear in the event log.
pub const PRIVATE_BODY: &str = "Your eviction hearing moved to Monday 9am, room 4B";

/// Bodies and names the scenario sends, none of which may be seen in clear outside the
/// services: not in the log, not on NATS.
pub const PRIVATE: &[&str] = &[
    PRIVATE_BODY,
    "Your hearing is at 9; bring the notice",
    "Ana Díaz",
    "Bo Chen",
    "Gracias, allí estaré",
    "Reminder: bring your lease",
];

/// What the scenario made, for the mode's own checks.
pub struct Texting {
    pub tenant: String,
    pub key: String,
}

pub async fn twilio_tenant(
    api: &Api,
    twilio: &FakeTwilio,
    name: &str,
    account: &str,
    token: &str,
) -> (String, String) {
    let (tenant, admin) = api.tenant_with_key(name, "admin").await;
    twilio.account(account, token);
    let (s, p) = api
        .put(
            &format!("/v1/tenants/{tenant}/sms-provider"),
            &admin,
            json!({"kind": "twilio", "account_sid": account, "auth_token": token, "from": NUMBER_A, "price_per_segment_usd": 0.0079}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert!(
        !p.to_string().contains(token),
        "the auth token is never returned: {p}"
    );
    (tenant, admin)
}

async fn status_of(api: &Api, key: &str, id: &str, want: &str) -> Value {
    api.wait_get(
        &format!("message {id} to be {want}"),
        &format!("/v1/messages/{id}"),
        key,
        |m| m["status"] == want,
    )
    .await
}

/// A keyed send whose answer was lost to a crash is retried with the same key, and the
/// client gets one text. The two crashes leave the gateway's memory of the key in two
/// states, set here in the database as each crash leaves it: messaging died after queueing
/// the text (the gateway answered 503 and kept nothing), or the gateway died mid-request
/// (the key stayed "running", and is free again 40 s after it began).
/// Who did what: a text sent with `Casewire-On-Behalf-Of` names the advocate beside the
/// key in its events; a bad one is a 400 that records nothing.
pub async fn each_event_names_the_person(api: &Api, t: &Texting, database_url: &str) {
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(database_url).await.unwrap();
    let path = "/v1/cases/C-100/messages";
    let body = json!({"body": "Your lease papers are ready"});
    let queued = || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM events WHERE event_type = 'OutboundQueued'")
                .fetch_one(&db)
                .await
                .unwrap();
        n
    };
    let before = queued().await;
    let (s, e) = api
        .call_with(
            "POST",
            path,
            Some(&t.key),
            &[("Casewire-On-Behalf-Of", &"x".repeat(129))],
            Some(body.clone()),
        )
        .await;
    assert_error_says(s, &e, 400, "invalid_request", "Casewire-On-Behalf-Of");
    assert_eq!(queued().await, before, "a refused request records nothing");

    let (s, sent) = api
        .call_with(
            "POST",
            path,
            Some(&t.key),
            &[("Casewire-On-Behalf-Of", "a.lee")],
            Some(body),
        )
        .await;
    assert_eq!(s, 202, "{sent}");
    let id = sent["id"].as_str().unwrap();
    let event = |event_type: &'static str| {
        let db = &db;
        async move {
            let (event_id, metadata): (String, String) = sqlx::query_as(
                "SELECT event_id, metadata FROM events WHERE aggregate_id = $1 AND event_type = $2",
            )
            .bind(id)
            .bind(event_type)
            .fetch_one(db)
            .await
            .unwrap();
            (event_id, serde_json::from_str::<Value>(&metadata).unwrap())
        }
    };
    let (queued_id, metadata) = event("OutboundQueued").await;
    assert_eq!(metadata["on_behalf_of"], "a.lee", "{metadata}");
    let key = metadata["actor"].as_str().unwrap();
    assert!(key.starts_with("api_key:"), "{metadata}");
    // The message shows its sender: the key and the advocate, in the answer and after.
    assert_eq!(
        (&sent["sent_by"], &sent["on_behalf_of"]),
        (&json!(key), &json!("a.lee"))
    );
    let (s, shown) = api
        .get(
            &format!("/v1/messages/{}", sent["id"].as_str().unwrap()),
            &t.key,
        )
        .await;
    assert_eq!(
        (s, &shown["sent_by"], &shown["on_behalf_of"]),
        (200, &json!(key), &json!("a.lee")),
        "{shown}"
    );
    // What casewire did on its own names what caused it: the dispatch, the text queued.
    status_of(api, &t.key, id, "accepted").await;
    for step in ["DispatchStarted", "Accepted"] {
        let (_, caused) = event(step).await;
        assert_eq!(
            (&caused["actor"], &caused["causation_id"]),
            (&json!("system"), &json!(queued_id)),
            "{step}: {caused}"
        );
    }
}

pub async fn keyed_retries_after_a_crash_send_once(
    api: &Api,
    twilio: &FakeTwilio,
    t: &Texting,
    database_url: &str,
) {
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(database_url).await.unwrap();
    let path = "/v1/cases/C-100/messages";
    let body = json!({"body": "Your hearing is at 9; bring the notice"});
    let (s, _, first) = api
        .post_once(path, &t.key, "after-a-crash", body.clone())
        .await;
    assert_eq!(s, 202, "{first}");
    // The first crash: the key forgotten.
    sqlx::query("DELETE FROM gateway_idempotency WHERE key = 'after-a-crash'")
        .execute(&db)
        .await
        .unwrap();
    let (s, replayed, again) = api
        .post_once(path, &t.key, "after-a-crash", body.clone())
        .await;
    assert_eq!(
        (s, replayed, &again["id"]),
        (202, false, &first["id"]),
        "{again}"
    );
    // The second: the key left running by a gateway that died, long enough ago.
    sqlx::query(
        "UPDATE gateway_idempotency SET status = NULL, response = NULL, \
         created_at = '2000-01-01T00:00:00.000000Z' WHERE key = 'after-a-crash'",
    )
    .execute(&db)
    .await
    .unwrap();
    let (s, replayed, third) = api
        .post_once(path, &t.key, "after-a-crash", body.clone())
        .await;
    assert_eq!(
        (s, replayed, &third["id"]),
        (202, false, &first["id"]),
        "{third}"
    );

    let id = first["id"].as_str().unwrap();
    status_of(api, &t.key, id, "accepted").await;
    let text = body["body"].as_str().unwrap();
    assert_eq!(
        twilio.sent().iter().filter(|m| m.body == text).count(),
        1,
        "three requests with one key: one text"
    );
}

pub async fn texting(api: &Api, twilio: &FakeTwilio) -> Texting {
    let (a, admin) = twilio_tenant(api, twilio, "Prairie Legal Aid", ACCOUNT_A, TOKEN_A).await;
    let (b, b_admin) =
        twilio_tenant(api, twilio, "Coastal Legal Services", ACCOUNT_B, TOKEN_B).await;
    let cms_key = api.key(&a, "integration").await;
    let advocate = api.key(&a, "advocate").await;

    // The provider as an admin sees it: never the token; bad settings are refused whole.
    let (s, p) = api
        .get(&format!("/v1/tenants/{a}/sms-provider"), &admin)
        .await;
    assert_eq!(
        (s, &p["kind"], &p["auth_token_set"], &p["from"]),
        (200, &json!("twilio"), &json!(true), &json!(NUMBER_A)),
        "{p}"
    );
    let (s, e) = api
        .put(
            &format!("/v1/tenants/{a}/sms-provider"),
            &admin,
            json!({"kind": "twilio", "account_sid": "AC1", "auth_token": "x", "from": NUMBER_A}),
        )
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "account_sid");
    let (s, e) = api
        .put(
            &format!("/v1/tenants/{a}/sms-provider"),
            &advocate,
            json!({"kind": "sandbox"}),
        )
        .await;
    assert_error(s, &e, 403, "forbidden");

    // The CMS subscribes to every text.
    let cms = FakeCms::start().await;
    let (s, endpoint) = api
        .post("/v1/webhook-endpoints", &cms_key, json!({"url": format!("{}/casewire", cms.url()), "events": ["message.inbound", "message.status"]}))
        .await;
    assert_eq!(s, 201, "{endpoint}");
    let secret = casewire_webhooks::Secret::parse(endpoint["secret"].as_str().unwrap()).unwrap();
    assert!(endpoint["secret"].as_str().unwrap().starts_with("whsec_"));
    let endpoint_id = endpoint["id"].as_str().unwrap().to_string();
    let (s, e) = api
        .post(
            "/v1/webhook-endpoints",
            &cms_key,
            json!({"url": "ftp://cms.example.org/hook", "events": ["message.inbound"]}),
        )
        .await;
    assert_error(s, &e, 422, "validation_failed");
    endpoint_gets_a_test_event(api, &cms, &secret, &endpoint_id, &admin, &b_admin).await;

    // Cases: 201 on create, 200 on update; a bad one is refused and leaves nothing.
    let case = json!({"client": {"name": "Ana Díaz", "phone": "(312) 555-0100", "language": "es"}, "status": "open", "problem_code": "63", "office": "North", "advocates": ["a.lee"]});
    let (s, c) = api.put("/v1/cases/C-100", &cms_key, case.clone()).await;
    assert_eq!(
        (s, &c["client"]["phone"], &c["client"]["name"]),
        (201, &json!(CLIENT), &json!("Ana Díaz")),
        "{c}"
    );
    let (s, _) = api.put("/v1/cases/C-100", &cms_key, case.clone()).await;
    assert_eq!(s, 200);
    let (s, e) = api
        .put(
            "/v1/cases/C-bad",
            &cms_key,
            json!({"client": {"name": "X", "phone": "555"}}),
        )
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "client.phone");
    let (s, _) = api.get("/v1/cases/C-bad", &cms_key).await;
    assert_eq!(s, 404, "a refused case is not half-written");

    // An advocate texts the client; a retry with the same Idempotency-Key sends nothing twice.
    let path = "/v1/cases/C-100/messages";
    let (s, replayed, m) = api
        .post_once(path, &advocate, "send-1", json!({"body": PRIVATE_BODY}))
        .await;
    assert_eq!((s, replayed), (202, false), "{m}");
    assert_eq!(
        (&m["status"], &m["segments"], &m["encoding"]),
        (&json!("queued"), &json!(1), &json!("GSM-7")),
        "{m}"
    );
    assert_eq!(m["price_usd"], json!(0.0079));
    let id = m["id"].as_str().unwrap().to_string();
    // The answer is built from the recorded event, not read back: it says what the row says.
    let (s, row) = api.get(&format!("/v1/messages/{id}"), &advocate).await;
    assert_eq!(s, 200, "{row}");
    for field in [
        "id",
        "case_id",
        "direction",
        "phone",
        "body",
        "segments",
        "encoding",
        "price_usd",
        "purpose",
        "deliver_after",
        "created_at",
    ] {
        assert_eq!(m[field], row[field], "{field}: {m} against {row}");
    }
    let (s, replayed, again) = api
        .post_once(path, &advocate, "send-1", json!({"body": PRIVATE_BODY}))
        .await;
    assert_eq!(
        (s, replayed, &again["id"]),
        (202, true, &json!(id)),
        "{again}"
    );
    let (s, _, e) = api
        .post_once(path, &advocate, "send-1", json!({"body": "something else"}))
        .await;
    assert_eq!(s, 422, "{e}");
    status_of(api, &advocate, &id, "accepted").await;
    usage_counts_the_text_twilio_took(api, &admin, &b_admin, &advocate, &m).await;
    let sent: Vec<_> = twilio
        .sent()
        .into_iter()
        .filter(|m| m.body == PRIVATE_BODY)
        .collect();
    assert_eq!(sent.len(), 1, "sent exactly once");
    let sid = sent[0].sid.clone();
    assert_eq!(
        (sent[0].to.as_str(), sent[0].from.as_deref()),
        (CLIENT, Some(NUMBER_A))
    );
    assert!(sent[0]
        .status_callback
        .as_deref()
        .unwrap()
        .ends_with(&format!("/webhooks/twilio/{a}/status?message_id={id}")));

    // Segments and encoding are counted before sending; a text over 1600 characters is refused.
    let (s, m2) = api
        .post(
            path,
            &advocate,
            json!({"body": "¿Puede venir el lunes? 😊"}),
        )
        .await;
    assert_eq!(
        (s, &m2["encoding"], &m2["segments"]),
        (202, &json!("UCS-2"), &json!(1)),
        "{m2}"
    );
    let (s, e) = api
        .post(path, &advocate, json!({"body": "a".repeat(1601)}))
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "1601");
    let (s, e) = api
        .post(
            "/v1/cases/C-none/messages",
            &advocate,
            json!({"body": "hi"}),
        )
        .await;
    assert_error(s, &e, 404, "not_found");

    // Status callbacks: signed, de-duplicated, never backwards.
    assert_eq!(
        twilio.send_status_callback(&sid, "delivered", None).await,
        204
    );
    status_of(api, &advocate, &id, "delivered").await;
    assert_eq!(twilio.send_status_callback(&sid, "sent", None).await, 204);
    assert_eq!(
        twilio.send_status_callback(&sid, "delivered", None).await,
        204
    );
    let (_, m) = api.get(&format!("/v1/messages/{id}"), &advocate).await;
    assert_eq!(
        m["status"], "delivered",
        "a late 'sent' does not undo 'delivered'"
    );
    let status_url = format!("{}/webhooks/twilio/{a}/status?message_id={id}", api.base);
    let http = reqwest::Client::new();
    let form = [("MessageSid", sid.as_str()), ("MessageStatus", "failed")];
    let r = http.post(&status_url).form(&form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400, "no signature");
    let r = http
        .post(&status_url)
        .header("x-twilio-signature", "bm90IGl0")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "a wrong signature");
    let forged = casewire_sms_sign(TOKEN_B, &status_url, &form);
    let r = http
        .post(&status_url)
        .header("x-twilio-signature", forged)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        403,
        "another tenant's token does not sign for this one"
    );
    // Signed with the tenant's token but what Twilio never sends: refused with the reason,
    // and kept in the trail (REFUSED_WEBHOOKS of them; the modes' tests count the events).
    let webhook = format!("{}/webhooks/twilio/{a}/inbound", api.base);
    let (sid_ok, long) = ("SM0123456789abcdef0123456789abcdef", "a".repeat(1601));
    for (sid, body, says) in [
        ("../../etc", "hi", "MessageSid"),
        (sid_ok, long.as_str(), "1,600"),
        (sid_ok, "a\0b", "NUL"),
    ] {
        let form = [
            ("MessageSid", sid),
            ("From", CLIENT),
            ("To", NUMBER_A),
            ("Body", body),
        ];
        let r = http
            .post(&webhook)
            .header(
                "x-twilio-signature",
                casewire_sms_sign(TOKEN_A, &webhook, &form),
            )
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{says}");
        let e: Value = r.json().await.unwrap();
        assert!(
            e["error"]["message"].as_str().unwrap().contains(says),
            "{e}"
        );
    }

    // The client replies: it lands on the case that texted them, once, and reaches the CMS.
    let inbound_url = format!("{}/webhooks/twilio/{a}/inbound", api.base);
    let (s, twiml) = twilio
        .send_inbound(
            &inbound_url,
            ACCOUNT_A,
            CLIENT,
            NUMBER_A,
            "Gracias, allí estaré",
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert!(twiml.contains("<Response></Response>"), "{twiml}");
    let thread = api
        .wait_get("the reply on the thread", path, &advocate, |t| {
            t.as_array()
                .unwrap()
                .iter()
                .any(|m| m["direction"] == "inbound" && m["routing"] == "routed")
        })
        .await;
    let directions: Vec<_> = thread
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["direction"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        directions,
        ["outbound", "outbound", "inbound"],
        "oldest first, both directions: {thread}"
    );
    let reply = &thread[2];
    assert_eq!(
        (&reply["body"], &reply["routing_reason"], &reply["case_id"]),
        (
            &json!("Gracias, allí estaré"),
            &json!("last_texted"),
            &json!("C-100")
        )
    );

    // A number that belongs to no case goes to the unrouted inbox.
    twilio
        .send_inbound(
            &inbound_url,
            ACCOUNT_A,
            "+13125550777",
            NUMBER_A,
            "who is this?",
            None,
        )
        .await;
    let inbox = api
        .wait_get("the unrouted inbox", "/v1/inbox/unrouted", &advocate, |v| {
            v.as_array().unwrap().len() == 1
        })
        .await;
    assert_eq!(
        (&inbox[0]["body"], &inbox[0]["routing_reason"]),
        (&json!("who is this?"), &json!("unknown_number"))
    );
    // The CMS files it on a case: out of the inbox, onto the thread, with the reason.
    let stray = inbox[0]["id"].as_str().unwrap().to_string();
    let (s, e) = api
        .put(
            &format!("/v1/messages/{stray}/case"),
            &advocate,
            json!({"case_id": "C-none"}),
        )
        .await;
    assert_error(s, &e, 404, "not_found");
    let (s, e) = api
        .put(
            &format!("/v1/messages/{id}/case"),
            &advocate,
            json!({"case_id": "C-100"}),
        )
        .await;
    assert_error(s, &e, 404, "not_found");
    let (s, c) = api
        .put(
            &format!("/v1/messages/{stray}/case"),
            &advocate,
            json!({"case_id": "C-100"}),
        )
        .await;
    assert_eq!((s, &c["reason"]), (200, &json!("corrected")), "{c}");
    api.wait_get("the corrected text on the thread", path, &advocate, |t| {
        t.as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == json!(stray) && m["routing_reason"] == "corrected")
    })
    .await;
    api.wait_get("the inbox to empty", "/v1/inbox/unrouted", &advocate, |v| {
        v.as_array().unwrap().is_empty()
    })
    .await;

    // Twilio refuses a number that replied STOP: the message fails with its code and a clear reason.
    twilio.reject_number(
        "+13125550123",
        400,
        21610,
        "Attempt to send to unsubscribed recipient",
    );
    let (s, _) = api
        .put(
            "/v1/cases/C-101",
            &cms_key,
            json!({"client": {"name": "Bo Chen", "phone": "+13125550123"}}),
        )
        .await;
    assert_eq!(s, 201);
    let (_, m) = api
        .post(
            "/v1/cases/C-101/messages",
            &advocate,
            json!({"body": "Reminder: bring your lease"}),
        )
        .await;
    let failed = status_of(api, &advocate, m["id"].as_str().unwrap(), "failed").await;
    assert_eq!(failed["error_code"], "21610");
    assert!(
        failed["error_reason"].as_str().unwrap().contains("STOP"),
        "{failed}"
    );
    // Twilio's 21610 is the number's opt-out, recorded as such (without a second reply).
    let consent = api
        .wait_get(
            "the 21610 opt-out",
            "/v1/consents/+13125550123",
            &advocate,
            |c| c["state"] == "revoked",
        )
        .await;
    assert_eq!(
        consent["history"][0]["evidence"]["kind"], "provider",
        "{consent}"
    );

    // Twilio takes a text but its answer is lost: casewire looks before sending again.
    twilio.lose_next_answers(1);
    let lost_body = "Your appointment is confirmed for Thursday";
    let (_, m) = api.post(path, &advocate, json!({"body": lost_body})).await;
    status_of(api, &advocate, m["id"].as_str().unwrap(), "accepted").await;
    assert_eq!(
        twilio.sent().iter().filter(|s| s.body == lost_body).count(),
        1,
        "a lost answer does not double the text"
    );

    // The CMS received each text and status change, signed, and the log says so.
    wait_for(
        "the CMS to have the reply and the delivery",
        Duration::from_secs(30),
        || async {
            let got = cms.verified(&secret);
            let inbound = got.iter().any(|w| {
                w["type"] == "message.inbound"
                    && w["data"]["body"] == "Gracias, allí estaré"
                    && w["data"]["case_id"] == "C-100"
            });
            let delivered = got.iter().any(|w| {
                w["type"] == "message.status"
                    && w["data"]["id"] == json!(id)
                    && w["data"]["status"] == "delivered"
            });
            let unrouted = got.iter().any(|w| {
                w["type"] == "message.inbound" && w["data"]["routing"]["reason"] == "unknown_number"
            });
            (inbound && delivered && unrouted).then_some(())
        },
    )
    .await;
    let deliveries = api
        .wait_get(
            "the delivery log",
            &format!("/v1/webhook-endpoints/{endpoint_id}/deliveries"),
            &cms_key,
            |d| {
                d.as_array()
                    .unwrap()
                    .iter()
                    .all(|d| d["status"] == "delivered")
            },
        )
        .await;
    assert!(deliveries.as_array().unwrap().len() >= 5, "{deliveries}");

    // Another tenant sees none of it.
    let (s, e) = api.get("/v1/cases/C-100", &b_admin).await;
    assert_error(s, &e, 404, "not_found");
    let (s, e) = api.get(path, &b_admin).await;
    assert_error(s, &e, 404, "not_found");
    let (s, e) = api.get(&format!("/v1/messages/{id}"), &b_admin).await;
    assert_error(s, &e, 404, "not_found");
    let (s, e) = api.post(path, &b_admin, json!({"body": "hello"})).await;
    assert_error(s, &e, 404, "not_found");
    let (s, e) = api
        .get(
            &format!("/v1/webhook-endpoints/{endpoint_id}/deliveries"),
            &b_admin,
        )
        .await;
    assert_error(s, &e, 404, "not_found");
    let (s, inbox) = api.get("/v1/inbox/unrouted", &b_admin).await;
    assert_eq!((s, inbox), (200, json!([])));
    let (s, _) = twilio
        .send_inbound(
            &format!("{}/webhooks/twilio/{b}/inbound", api.base),
            ACCOUNT_A,
            CLIENT,
            NUMBER_A,
            "hi",
            None,
        )
        .await;
    assert_eq!(s, 403, "tenant A's token does not sign for tenant B");

    // A picture of the eviction notice and a video, by MMS: the picture is kept (sealed),
    // shown on the thread with its hash and read back as sent; the video is refused with
    // why; both are deleted at Twilio once settled; another tenant cannot read it.
    let notice: &[u8] = b"\xff\xd8\xff\xe0 a JPEG of the notice";
    let (s, _) = twilio
        .send_inbound_with_media(
            &inbound_url,
            ACCOUNT_A,
            CLIENT,
            NUMBER_A,
            "Here is the notice",
            None,
            &[("image/jpeg", notice), ("video/mp4", b"a video")],
        )
        .await;
    assert_eq!(s, 200);
    let thread = api
        .wait_get("the MMS kept on the thread", path, &advocate, |t| {
            t.as_array().unwrap().iter().any(|m| {
                m["body"] == "Here is the notice"
                    && m["media"].as_array().is_some_and(|a| a.len() == 2)
            })
        })
        .await;
    let mms = thread
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == "Here is the notice")
        .unwrap();
    let (kept, refused) = (&mms["media"][0], &mms["media"][1]);
    let sha256 = sha256_hex(notice);
    assert_eq!(
        (&kept["content_type"], &kept["size"], &kept["sha256"]),
        (&json!("image/jpeg"), &json!(notice.len()), &json!(sha256)),
        "{mms}"
    );
    assert!(
        refused["refused"]
            .as_str()
            .is_some_and(|r| r.contains("video/mp4")),
        "{mms}"
    );
    let url = kept["url"].as_str().unwrap();
    let read = |key: String| {
        let url = format!("{}{url}", api.base);
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let content_type = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            (status, content_type, r.bytes().await.unwrap().to_vec())
        }
    };
    assert_eq!(
        read(advocate.clone()).await,
        (200, Some("image/jpeg".to_string()), notice.to_vec())
    );
    assert_eq!(
        read(b_admin.clone()).await.0,
        404,
        "another tenant's is not found"
    );
    crate::wait_for(
        "the media deleted at Twilio",
        Duration::from_secs(20),
        || async { (twilio.media_left() == 0).then_some(()) },
    )
    .await;

    wait_for(
        "the CMS to have the MMS with links to its media",
        Duration::from_secs(30),
        || async {
            cms.verified(&secret)
                .iter()
                .any(|w| {
                    w["type"] == "message.inbound"
                        && w["data"]["body"] == "Here is the notice"
                        && w["data"]["media"][0]["url"] == json!(url)
                })
                .then_some(())
        },
    )
    .await;

    // The advocate sends the client a document (an outbound MMS): uploaded, sealed, named
    // in the text; Twilio fetches it, without credentials, from a link of its own that
    // ends with the text's validity (twilio.com/docs/messaging/api/message-resource,
    // MediaUrl). It is priced as one MMS and shown on the thread like a client's.
    let uploads = "/v1/cases/C-100/attachments";
    let form: &[u8] = b"%PDF-1.4 the answer form to sign";
    let (s, e) = api
        .upload(uploads, &advocate, "video/mp4", b"a video".to_vec())
        .await;
    assert_error_says(s, &e, 415, "unsupported_media_type", "video/mp4");
    let (s, e) = api
        .upload(
            uploads,
            &advocate,
            "application/pdf",
            vec![0; 5 * 1024 * 1024 + 1],
        )
        .await;
    assert_eq!(s, 413, "{e}");
    let (s, e) = api
        .upload(uploads, &b_admin, "application/pdf", form.to_vec())
        .await;
    assert_error(s, &e, 404, "not_found");
    let (s, upload) = api
        .upload(uploads, &advocate, "application/pdf", form.to_vec())
        .await;
    assert_eq!(s, 201, "{upload}");
    assert_eq!(upload["sha256"], json!(sha256_hex(form)), "{upload}");
    let upload_id = upload["id"].as_str().unwrap().to_string();
    let (s, e) = api
        .post(
            path,
            &advocate,
            json!({"body": "The form", "attachments": ["nope"]}),
        )
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "attachment nope");
    let (s, mms) = api
        .post(
            path,
            &advocate,
            json!({"body": "Here is the answer form: sign page 2.", "attachments": [upload_id]}),
        )
        .await;
    assert_eq!(s, 202, "{mms}");
    assert_eq!(
        (&mms["price_usd"], &mms["media"][0]["sha256"]),
        (&json!(0.02), &json!(sha256_hex(form))),
        "{mms}"
    );
    let (s, e) = api
        .post(
            path,
            &advocate,
            json!({"body": "Again", "attachments": [upload_id]}),
        )
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "sent already");
    let sent = wait_for(
        "Twilio to fetch the form",
        Duration::from_secs(30),
        || async {
            let record = twilio
                .sent()
                .into_iter()
                .find(|r| r.body == "Here is the answer form: sign page 2.")?;
            twilio.fetched(&record.sid).map(|f| (record, f))
        },
    )
    .await;
    let (record, fetched) = sent;
    assert_eq!(
        fetched
            .iter()
            .map(|f| (f.status, f.content_type.as_deref(), f.bytes.as_slice()))
            .collect::<Vec<_>>(),
        vec![(200, Some("application/pdf"), form)],
        "{record:?}"
    );
    let link = &record.media_urls[0];
    let forged = format!("{}x", link.trim_end_matches(|c| c != '/'));
    let status = reqwest::get(&forged).await.unwrap().status().as_u16();
    assert_eq!(status, 404, "a link casewire did not sign opens nothing");
    let (s, shown) = api
        .get(
            &format!("/v1/messages/{}", mms["id"].as_str().unwrap()),
            &advocate,
        )
        .await;
    assert_eq!(s, 200);
    let url = shown["media"][0]["url"].as_str().unwrap().to_string();
    let url = format!("{}{url}", api.base);
    let kept = reqwest::Client::new()
        .get(url)
        .bearer_auth(&advocate)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status().as_u16(), 200);
    assert_eq!(kept.bytes().await.unwrap().as_ref(), form);
    // Twilio keeps a copy of what it fetched until the text settles; then casewire
    // deletes it there (twilio.com/docs/messaging/api/media-resource).
    assert_eq!(
        twilio.media_left(),
        1,
        "Twilio's copy, while the text is on its way"
    );
    assert_eq!(
        twilio
            .send_status_callback(&record.sid, "delivered", None)
            .await,
        204
    );
    crate::wait_for(
        "the MMS's copy deleted at Twilio",
        Duration::from_secs(20),
        || async { (twilio.media_left() == 0).then_some(()) },
    )
    .await;

    // The audit trail holds all of it, intact.
    let (s, v) = api.get("/v1/audit/verify", &admin).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "intact", "{v}");
    Texting {
        tenant: a,
        key: advocate,
    }
}

fn casewire_sms_sign(token: &str, url: &str, form: &[(&str, &str)]) -> String {
    let params: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    casewire_sms::signature::sign(token, url, &params)
}

/// SHA-256, hex, as casewire reports a kept picture's.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The admin's usage has the one text Twilio took, at its price, in its month; the other
/// tenant's has nothing of it; an advocate may not read what texting costs.
async fn usage_counts_the_text_twilio_took(
    api: &Api,
    admin: &str,
    other_admin: &str,
    advocate: &str,
    sent: &Value,
) {
    let month = &sent["created_at"].as_str().unwrap()[..7];
    let (s, usage) = api.get("/v1/usage", admin).await;
    assert_eq!(s, 200, "{usage}");
    let row = json!({"month": month, "purpose": "conversation", "texts": 1, "segments": 1, "cost_usd": 0.0079});
    assert!(usage["rows"].as_array().unwrap().contains(&row), "{usage}");
    let (_, theirs) = api
        .get(&format!("/v1/usage?from={month}"), other_admin)
        .await;
    assert!(
        !theirs["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["purpose"] == "conversation"),
        "{theirs}"
    );
    let (s, e) = api.get("/v1/usage?from=2026-13", admin).await;
    assert_error_says(s, &e, 422, "validation_failed", "from must be a month");
    let (s, e) = api.get("/v1/usage", advocate).await;
    assert_error(s, &e, 403, "forbidden");
}

/// The admin finds the CMS's endpoint in the list (without its secret) and sends it a test
/// event, which arrives signed; another tenant's admin finds no such endpoint.
async fn endpoint_gets_a_test_event(
    api: &Api,
    cms: &FakeCms,
    secret: &casewire_webhooks::Secret,
    endpoint_id: &str,
    admin: &str,
    other_admin: &str,
) {
    let (s, listed) = api.get("/v1/webhook-endpoints", admin).await;
    assert_eq!(s, 200, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], endpoint_id, "{listed}");
    assert!(listed[0].get("secret").is_none(), "{listed}");
    let (_, theirs) = api.get("/v1/webhook-endpoints", other_admin).await;
    assert_eq!(theirs, json!([]));
    let test = format!("/v1/webhook-endpoints/{endpoint_id}/test");
    let (s, e) = api.post(&test, other_admin, json!({})).await;
    assert_error(s, &e, 404, "not_found");
    let (s, done) = api.post(&test, admin, json!({})).await;
    assert_eq!(s, 202, "{done}");
    wait_for(
        "the CMS to have the test event",
        Duration::from_secs(30),
        || async {
            cms.verified(secret)
                .iter()
                .any(|w| w["type"] == "webhook.test" && w["data"]["endpoint_id"] == endpoint_id)
                .then_some(())
        },
    )
    .await;
}
