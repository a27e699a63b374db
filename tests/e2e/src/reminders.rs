//! The reminder scenario every mode must pass (issue 5), against a fake Twilio: what an
//! advocate, a CMS vendor's engineer and a client would notice. It runs on the real clock:
//! one reminder is made due a few seconds ahead; the clock-controlled cases (moves across
//! DST, quiet hours, crashes, replicas) are in services/messaging/tests/reminders.rs.

use casewire_testkit::FakeTwilio;
use chrono::Utc;
use serde_json::{json, Value};

use crate::texting::{twilio_tenant, ACCOUNT_A, CLIENT, TOKEN_A};
use crate::{assert_error, assert_error_says, Api};

fn in_days(days: i64) -> String {
    (Utc::now() + chrono::Duration::days(days))
        .with_timezone(&chrono_tz::America::Chicago)
        .to_rfc3339()
}

fn states(reminders: &Value) -> Vec<(String, String)> {
    reminders
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Names and places the scenario sends, none of which may be seen in clear on NATS.
pub const PRIVATE: &[&str] = &["Ana Díaz", "Daley Center", "our office"];

pub async fn reminders(api: &Api, twilio: &FakeTwilio) {
    let (a, admin) = twilio_tenant(api, twilio, "Prairie Legal Aid", ACCOUNT_A, TOKEN_A).await;
    let advocate = api.key(&a, "advocate").await;
    // The scenario runs at any hour: no quiet hours for this tenant.
    let (s, _) = api
        .put(
            &format!("/v1/tenants/{a}/policy"),
            &admin,
            json!({"quiet_hours": null}),
        )
        .await;
    assert_eq!(s, 200);

    // The reminder policy: defaults, a bad one named, then meetings a minute ahead.
    let policy = format!("/v1/tenants/{a}/reminder-policy");
    let (s, p) = api.get(&policy, &admin).await;
    assert_eq!(
        (s, &p["court_date"]["offsets"], &p["meeting"]["offsets"]),
        (200, &json!(["P7D", "P1D"]), &json!(["P1D", "PT2H"])),
        "{p}"
    );
    let (s, e) = api
        .put(
            &policy,
            &admin,
            json!({"court_date": {"offsets": ["P7D", "a week"]}}),
        )
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "court_date.offsets[1]");
    let (s, e) = api
        .put(
            &policy,
            &advocate,
            json!({"meeting": {"offsets": ["PT1M"]}}),
        )
        .await;
    assert_error(s, &e, 403, "forbidden");
    let (s, p) = api
        .put(&policy, &admin, json!({"meeting": {"offsets": ["PT1M"]}}))
        .await;
    assert_eq!(
        (s, &p["meeting"]["offsets"], &p["court_date"]["offsets"]),
        (200, &json!(["PT1M"]), &json!(["P7D", "P1D"]))
    );

    let (s, _) = api
        .put(
            "/v1/cases/C-1",
            &advocate,
            json!({"client": {"name": "Ana Díaz", "phone": CLIENT, "language": "es"}, "advocates": ["Ms. Lee"]}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = api
        .put(
            &format!("/v1/consents/{CLIENT}"),
            &advocate,
            json!({"state": "granted", "method": "intake", "note": "signed at intake"}),
        )
        .await;
    assert_eq!(s, 200);

    // A court date a month ahead: two reminders scheduled; the same again changes nothing.
    let court = json!({"kind": "court_date", "starts_at": in_days(30), "location": "Daley Center, room 1402"});
    let path = "/v1/cases/C-1/appointments/H-1";
    let (s, r) = api.put(path, &advocate, court.clone()).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        states(&r),
        [
            ("H-1:P7D".to_string(), "scheduled".to_string()),
            ("H-1:P1D".to_string(), "scheduled".to_string())
        ]
    );
    let (s, again) = api.put(path, &advocate, court).await;
    assert_eq!((s, &again), (200, &r));
    // Moved: the reminders follow.
    let (s, moved) = api
        .put(
            path,
            &advocate,
            json!({"kind": "court_date", "starts_at": in_days(31), "location": "Daley Center, room 1402"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_ne!(moved[0]["due_at"], r[0]["due_at"], "{moved}");
    assert_eq!(moved[0]["state"], "scheduled");

    // Bad appointments are refused whole.
    for (body, what) in [
        (json!({"kind": "hearing", "starts_at": in_days(3)}), "kind"),
        (
            json!({"kind": "meeting", "starts_at": "next Tuesday"}),
            "starts_at",
        ),
        (
            json!({"kind": "meeting", "starts_at": in_days(3), "time_zone": "Chicago"}),
            "time_zone",
        ),
    ] {
        let (s, e) = api
            .put("/v1/cases/C-1/appointments/BAD", &advocate, body)
            .await;
        assert_error_says(s, &e, 422, "validation_failed", what);
    }
    let (s, e) = api
        .put(
            "/v1/cases/NOPE/appointments/X",
            &advocate,
            json!({"kind": "meeting", "starts_at": in_days(3)}),
        )
        .await;
    assert_error(s, &e, 404, "not_found");

    // The preview: what the client would read, in their language, and its cost.
    let (s, p) = api
        .post(
            "/v1/templates/preview",
            &advocate,
            json!({"kind": "court_date", "case_id": "C-1", "starts_at": "2026-12-14T09:00:00-06:00", "location": "Daley Center"}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        p["text"],
        "Prairie Legal Aid: Hola Ana, su cita en la corte es el lunes 14 de diciembre a las 9:00, Daley Center. Responda PARAR para no recibir mensajes."
    );
    assert_eq!(
        (&p["segments"], &p["encoding"], &p["price_usd"]),
        (&json!(1), &json!("GSM-7"), &json!(0.0079))
    );
    // Wording not saved yet, tried first: checked as the policy checks it, saved nowhere.
    let trying = |template: &str| json!({"kind": "court_date", "case_id": "C-1", "starts_at": "2026-12-14T09:00:00-06:00", "template": template});
    let (s, e) = api
        .post(
            "/v1/templates/preview",
            &advocate,
            trying("{organization}: corte {date}."),
        )
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "must say how to stop");
    let (s, p) = api
        .post(
            "/v1/templates/preview",
            &advocate,
            trying("{organization}: {client_first_name}, corte el {date} a las {time}. PARAR para salir."),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        p["text"],
        "Prairie Legal Aid: Ana, corte el lunes 14 de diciembre a las 9:00. PARAR para salir."
    );

    // A meeting a minute and a few seconds ahead: its reminder goes, once.
    let soon = (Utc::now() + chrono::Duration::seconds(63)).to_rfc3339();
    let (s, r) = api
        .put(
            "/v1/cases/C-1/appointments/M-1",
            &advocate,
            json!({"kind": "meeting", "starts_at": soon, "location": "our office"}),
        )
        .await;
    assert_eq!((s, &r[0]["state"]), (201, &json!("scheduled")), "{r}");
    let sent = api
        .wait_get(
            "the meeting reminder to be sent",
            "/v1/cases/C-1/reminders",
            &advocate,
            |rs| {
                rs.as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["id"] == "M-1:PT1M" && r["state"] == "sent")
            },
        )
        .await;
    let message_id = sent
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "M-1:PT1M")
        .unwrap()["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let texts = crate::texts_to(twilio, CLIENT, 1).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(
        texts[0].contains("tiene una reunion con Ms. Lee") && texts[0].contains("our office"),
        "{texts:?}"
    );
    let (s, m) = api
        .get(&format!("/v1/messages/{message_id}"), &advocate)
        .await;
    assert_eq!(
        (s, &m["purpose"], &m["case_id"]),
        (200, &json!("reminder"), &json!("C-1"))
    );

    // Turned off for the case: waiting reminders are cancelled, with the reason.
    let (s, off) = api
        .put(
            "/v1/cases/C-1/reminders",
            &advocate,
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(s, 200, "{off}");
    assert!(off["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["appointment_id"] == "H-1")
        .all(|r| r["state"] == "cancelled"
            && r["reason"] == "reminders are turned off for this case"));
    let (s, on) = api
        .put(
            "/v1/cases/C-1/reminders",
            &advocate,
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        states(&on["reminders"])
            .into_iter()
            .filter(|(id, _)| id.starts_with("H-1"))
            .map(|(_, s)| s)
            .collect::<Vec<_>>(),
        ["scheduled", "scheduled"]
    );

    // Cancelled by the CMS; twice is the same; an unknown one is 404.
    let (s, _) = api.delete(path, &advocate).await;
    assert_eq!(s, 204);
    let (s, _) = api.delete(path, &advocate).await;
    assert_eq!(s, 204);
    let (s, e) = api
        .delete("/v1/cases/C-1/appointments/NEVER", &advocate)
        .await;
    assert_error(s, &e, 404, "not_found");
    let (_, list) = api.get("/v1/cases/C-1/reminders", &advocate).await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["appointment_id"] == "H-1")
        .all(|r| r["state"] == "cancelled" && r["reason"] == "the appointment was cancelled"));

    // Another tenant sees none of it.
    let (_, other) = api.tenant_with_key("Coastal Legal Services", "admin").await;
    let (s, e) = api.get("/v1/cases/C-1/reminders", &other).await;
    assert_error(s, &e, 404, "not_found");
    let (s, e) = api
        .put(
            "/v1/cases/C-1/appointments/H-9",
            &other,
            json!({"kind": "meeting", "starts_at": in_days(3)}),
        )
        .await;
    assert_error(s, &e, 404, "not_found");
    let (s, e) = api.get(&policy, &other).await;
    assert_error(s, &e, 404, "not_found");
}
