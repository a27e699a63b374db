//! The consent scenario every mode must pass (issue 4), against a fake Twilio: what a
//! client on a phone, an advocate and a compliance officer would notice.

use casewire_testkit::FakeTwilio;
use serde_json::{json, Value};

use crate::texting::{twilio_tenant, ACCOUNT_A, CLIENT, NUMBER_A, TOKEN_A};
use crate::{assert_error, assert_error_says, Api};

async fn texts_to_client(twilio: &FakeTwilio, n: usize) -> Vec<String> {
    crate::texts_to(twilio, CLIENT, n).await
}

async fn client_texts(api: &Api, twilio: &FakeTwilio, tenant: &str, body: &str) {
    client_texts_as(api, twilio, tenant, body, None).await
}

async fn client_texts_as(
    api: &Api,
    twilio: &FakeTwilio,
    tenant: &str,
    body: &str,
    opt_out_type: Option<&str>,
) {
    let url = format!("{}/webhooks/twilio/{tenant}/inbound", api.base);
    let (s, _) = twilio
        .send_inbound(&url, ACCOUNT_A, CLIENT, NUMBER_A, body, opt_out_type)
        .await;
    assert_eq!(s, 200);
}

async fn consent_is(api: &Api, key: &str, state: &str) -> Value {
    api.wait_get(
        &format!("consent to be {state}"),
        &format!("/v1/consents/{CLIENT}"),
        key,
        |c| c["state"] == state,
    )
    .await
}

/// Bodies and names the scenario sends, none of which may be seen in clear on NATS.
pub const PRIVATE: &[&str] = &[
    "Ana Díaz",
    "Hi Ana, this is your advocate.",
    "Reminder: hearing Monday 9am",
    "please stop texting me",
    "Ya no quiero recibir",
];

/// The texts the scenario has refused: a reminder without consent, three purposes to a
/// revoked number, and a conversation under `require_granted`.
pub const REFUSED_TEXTS: i64 = 5;

pub async fn consent(api: &Api, twilio: &FakeTwilio) {
    let (a, admin) = twilio_tenant(api, twilio, "Prairie Legal Aid", ACCOUNT_A, TOKEN_A).await;
    let advocate = api.key(&a, "advocate").await;
    let policy = format!("/v1/tenants/{a}/policy");

    // The policy: casewire's defaults until an admin sets one; a bad one names its field.
    let (s, p) = api.get(&policy, &admin).await;
    assert_eq!(
        (
            s,
            &p["consent"]["conversation"],
            &p["quiet_hours"]["start"],
            &p["quiet_hours"]["end"]
        ),
        (
            200,
            &json!("unless_revoked"),
            &json!("21:00"),
            &json!("08:00")
        ),
        "{p}"
    );
    let (s, e) = api
        .put(
            &policy,
            &admin,
            json!({"quiet_hours": {"start": "9pm", "end": "08:00"}}),
        )
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "quiet_hours.start");
    let (s, e) = api.put(&policy, &advocate, json!({"contact": "x"})).await;
    assert_error(s, &e, 403, "forbidden");
    let (s, p) = api
        .put(
            &policy,
            &admin,
            json!({"contact": "(312) 555-0199", "quiet_hours": null}),
        )
        .await;
    assert_eq!(
        (s, &p["contact"], &p["quiet_hours"]),
        (200, &json!("(312) 555-0199"), &Value::Null),
        "{p}"
    );

    let (s, _) = api
        .put(
            "/v1/cases/C-7",
            &advocate,
            json!({"client": {"name": "Ana Díaz", "phone": CLIENT}, "time_zone": "America/Chicago"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, e) = api
        .put(
            "/v1/cases/C-8",
            &advocate,
            json!({"client": {"name": "Ana Díaz", "phone": CLIENT}, "time_zone": "Mars/Olympus"}),
        )
        .await;
    assert_error(s, &e, 422, "validation_failed");

    // A reminder needs consent the client has not given: refused, on the record, not sent.
    let reminder = json!({"body": "Reminder: hearing Monday 9am", "purpose": "reminder"});
    let (s, e) = api
        .post("/v1/cases/C-7/messages", &advocate, reminder.clone())
        .await;
    assert_error_says(
        s,
        &e,
        409,
        "conflict",
        "reminder texts need the client's consent",
    );
    assert_error_says(s, &e, 409, "conflict", "is on the record");
    let (s, e) = api
        .post(
            "/v1/cases/C-7/messages",
            &advocate,
            json!({"body": "hi", "purpose": "system"}),
        )
        .await;
    assert_error(s, &e, 422, "validation_failed");
    // A conversation text needs no more than "not revoked".
    let (s, m) = api
        .post(
            "/v1/cases/C-7/messages",
            &advocate,
            json!({"body": "Hi Ana, this is your advocate."}),
        )
        .await;
    assert_eq!((s, &m["purpose"]), (202, &json!("conversation")), "{m}");
    assert_eq!(texts_to_client(twilio, 1).await.len(), 1);

    // The confirmation request: the text goes out, the state is pending; YES grants it and
    // the client is told.
    let request = format!("/v1/consents/{CLIENT}/request");
    let (s, c) = api.post(&request, &advocate, json!({})).await;
    assert_eq!((s, &c["state"]), (202, &json!("pending")), "{c}");
    let texts = texts_to_client(twilio, 2).await;
    assert_eq!(
        texts[1],
        "Prairie Legal Aid: We have received your request to get text message reminders about your case. \
         Please reply Y or YES to confirm. Message & data rates may apply."
    );
    client_texts(api, twilio, &a, " yes! ").await;
    let c = consent_is(api, &advocate, "granted").await;
    assert_eq!(c["history"][1]["evidence"]["text"], " yes! ", "{c}");
    let texts = texts_to_client(twilio, 3).await;
    assert!(
        texts[2].contains("Reply HELP for help, STOP to stop"),
        "{texts:?}"
    );
    // The trail says why: the client's text caused the grant, the grant its answer.
    let inbound = crate::audit::trail(api, &admin, "type=InboundReceived").await;
    let granted = crate::audit::trail(api, &admin, "type=ConsentGranted").await;
    assert_eq!(
        (
            &granted[0]["actor"],
            &granted[0]["metadata"]["causation_id"]
        ),
        (&json!("system"), &inbound.last().unwrap()["event_id"]),
        "{granted:?}"
    );
    let queued = crate::audit::trail(api, &admin, "type=OutboundQueued").await;
    let answers: Vec<&Value> = queued
        .iter()
        .filter(|e| e["metadata"]["causation_id"] == granted[0]["event_id"])
        .collect();
    assert_eq!(answers.len(), 1, "the grant's answer names it: {queued:?}");
    let (s, m) = api
        .post("/v1/cases/C-7/messages", &advocate, reminder.clone())
        .await;
    assert_eq!((s, &m["purpose"]), (202, &json!("reminder")), "{m}");
    assert_eq!(
        texts_to_client(twilio, 4).await[3],
        "Reminder: hearing Monday 9am"
    );

    // HELP: who, how to reach them, how to stop, the rates; in the client's language.
    client_texts(api, twilio, &a, "HELP").await;
    let help = &texts_to_client(twilio, 5).await[4];
    for part in [
        "Prairie Legal Aid",
        "(312) 555-0199",
        "STOP",
        "Msg & data rates may apply",
    ] {
        assert!(help.contains(part), "{help:?} lacks {part:?}");
    }
    client_texts(api, twilio, &a, "Ayuda").await;
    assert!(texts_to_client(twilio, 6).await[5].contains("PARAR"));
    // The answer sits on the case thread, after the client's text.
    let thread = api
        .wait_get(
            "the HELP answer on the thread",
            "/v1/cases/C-7/messages",
            &advocate,
            |t| {
                t.as_array()
                    .unwrap()
                    .iter()
                    .filter(|m| m["purpose"] == "system")
                    .count()
                    >= 3
            },
        )
        .await;
    assert!(
        thread
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["direction"] == "inbound" && m["body"] == "HELP"),
        "{thread}"
    );

    // A plain refusal revokes: one confirmation back, then silence for a second opt-out.
    client_texts(api, twilio, &a, "I'll stop by the office tomorrow").await;
    client_texts(api, twilio, &a, "please stop texting me").await;
    let c = consent_is(api, &advocate, "revoked").await;
    let opt_out = &texts_to_client(twilio, 7).await[6];
    assert!(
        opt_out.contains("unsubscribed") && opt_out.contains("START"),
        "{opt_out}"
    );
    assert_eq!(
        c["history"].as_array().unwrap().len(),
        3,
        "\"stop by\" changed nothing: {c}"
    );
    client_texts(api, twilio, &a, "STOP").await;
    client_texts_as(api, twilio, &a, "STOP", Some("STOP")).await;
    api.wait_until_every_service_is_caught_up().await;
    let texts = texts_to_client(twilio, 7).await;
    assert_eq!(texts.len(), 7, "no second opt-out text: {texts:?}");

    // Nothing more goes to a revoked number, whatever its purpose; only they opt back in.
    for purpose in ["conversation", "reminder", "bulk"] {
        let (s, e) = api
            .post(
                "/v1/cases/C-7/messages",
                &advocate,
                json!({"body": "Are you there?", "purpose": purpose}),
            )
            .await;
        assert_error_says(s, &e, 409, "conflict", "START");
    }
    let (s, e) = api.post(&request, &advocate, json!({})).await;
    assert_error(s, &e, 409, "conflict");
    assert_eq!(texts_to_client(twilio, 7).await.len(), 7);

    // The export of who opted out; another tenant sees none of it.
    let (s, list) = api.get("/v1/consents?state=revoked", &advocate).await;
    assert_eq!(
        (s, &list["items"][0]["phone"], &list["items"][0]["state"]),
        (200, &json!(CLIENT), &json!("revoked")),
        "{list}"
    );
    let (s, e) = api.get("/v1/consents?state=maybe", &advocate).await;
    assert_error(s, &e, 422, "validation_failed");
    let (_, other) = api.tenant_with_key("Coastal Legal Services", "admin").await;
    let (s, list) = api.get("/v1/consents?state=revoked", &other).await;
    assert_eq!((s, &list["items"]), (200, &json!([])), "{list}");
    let (s, e) = api.get(&policy, &other).await;
    assert_error(s, &e, 404, "not_found");

    // START opts back in, and conversation needs granted consent once the tenant says so.
    client_texts(api, twilio, &a, "START").await;
    consent_is(api, &advocate, "granted").await;
    assert!(texts_to_client(twilio, 8).await[7].contains("Reply HELP"));
    let (s, _) = api
        .put(
            &policy,
            &admin,
            json!({"consent": {"conversation": "require_granted"}}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = api
        .put(
            "/v1/cases/C-9",
            &advocate,
            json!({"client": {"name": "Luis", "phone": "+13125550111"}}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, e) = api
        .post(
            "/v1/cases/C-9/messages",
            &advocate,
            json!({"body": "Hello Luis"}),
        )
        .await;
    assert_error_says(s, &e, 409, "conflict", "policy needs the client's consent");
    let (s, _) = api
        .post(
            "/v1/cases/C-7/messages",
            &advocate,
            json!({"body": "Thanks for opting back in"}),
        )
        .await;
    assert_eq!(s, 202, "a granted number may still be texted");
    assert_eq!(texts_to_client(twilio, 9).await.len(), 9);

    // Said as people say it. A reply that may be an opt-out and is not clearly one is
    // flagged for staff, and the client gets one clarification; a second one, none.
    client_texts(api, twilio, &a, "wrong number").await;
    assert_eq!(
        texts_to_client(twilio, 10).await[9],
        "Reply STOP to stop all texts from Prairie Legal Aid."
    );
    client_texts(api, twilio, &a, "stop calling me").await;
    let flagged = api
        .wait_get("two texts flagged", "/v1/inbox/flagged", &advocate, |f| {
            f.as_array().is_some_and(|f| f.len() == 2)
        })
        .await;
    assert_eq!(
        (
            &flagged[0]["body"],
            &flagged[0]["flag"],
            &flagged[1]["flag"]
        ),
        (
            &json!("wrong number"),
            &json!("says it is the wrong number"),
            &json!("asks not to be called, not clearly about texts")
        ),
        "{flagged}"
    );
    consent_is(api, &advocate, "granted").await;
    let (s, none) = api.get("/v1/inbox/flagged", &other).await;
    assert_eq!((s, &none), (200, &json!([])), "{none}");
    // A refusal in Spanish, with words around it, revokes, answered in Spanish.
    client_texts(
        api,
        twilio,
        &a,
        "Ya no quiero recibir más mensajes, gracias",
    )
    .await;
    consent_is(api, &advocate, "revoked").await;
    assert!(texts_to_client(twilio, 11).await[10].contains("COMENZAR"));
    api.wait_until_every_service_is_caught_up().await;
    assert_eq!(
        texts_to_client(twilio, 11).await.len(),
        11,
        "no second clarification"
    );

    // A reply to a confirmation request that is neither yes nor stop is told once how to
    // answer; "Sí, gracias" confirms.
    let luis = "+13125550111";
    let inbound = format!("{}/webhooks/twilio/{a}/inbound", api.base);
    let (s, _) = api
        .post(
            &format!("/v1/consents/{luis}/request"),
            &advocate,
            json!({"language": "es"}),
        )
        .await;
    assert_eq!(s, 202);
    assert_eq!(crate::texts_to(twilio, luis, 1).await.len(), 1);
    for body in ["¿Quién es?", "¿Quién habla?"] {
        let (s, _) = twilio
            .send_inbound(&inbound, ACCOUNT_A, luis, NUMBER_A, body, None)
            .await;
        assert_eq!(s, 200);
    }
    let how = &crate::texts_to(twilio, luis, 2).await[1];
    assert!(
        how.contains("responda SI") && how.contains("PARAR"),
        "{how}"
    );
    let (s, _) = twilio
        .send_inbound(&inbound, ACCOUNT_A, luis, NUMBER_A, "Sí, gracias", None)
        .await;
    assert_eq!(s, 200);
    api.wait_get(
        "Luis's consent to be granted",
        &format!("/v1/consents/{luis}"),
        &advocate,
        |c| c["state"] == "granted",
    )
    .await;
    let texts = crate::texts_to(twilio, luis, 3).await;
    assert!(texts[2].contains("AYUDA"), "{texts:?}");
    api.wait_until_every_service_is_caught_up().await;
    assert_eq!(
        crate::texts_to(twilio, luis, 3).await.len(),
        3,
        "one how-to answer, then the subscribed notice"
    );
}
