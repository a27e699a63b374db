//! Quiet hours with a controllable clock, against the fake Twilio: a reminder queued at
//! night in the client's zone waits until 08:00 there, is sent once then, and is not sent
//! at all if the client opts out while it waits. One test per binary: the clock is the
//! process's.

mod world;

use chrono::{DateTime, Utc};
use world::world;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn reminders_wait_out_the_clients_night_and_go_once_at_eight() {
    let w = world().await;
    // The tenant is in Chicago; case C-2's client lives in Los Angeles.
    w.link_case("C-2", Some("America/Los_Angeles")).await;
    w.consent("granted").await;

    // 22:30 in Chicago, 20:30 in Los Angeles.
    casewire_events::time::set(at("2026-12-02T04:30:00Z"));
    let held = w
        .send("C-1", "Hearing tomorrow 9am", "reminder")
        .await
        .unwrap();
    assert_eq!(
        held["deliver_after"], "2026-12-02T14:00:00.000000Z",
        "08:00 in Chicago: {held}"
    );
    let second = w.send("C-1", "Bring your lease", "reminder").await.unwrap();
    assert_eq!(second["deliver_after"], held["deliver_after"]);
    let at_once = w.send("C-2", "Hearing Friday", "reminder").await.unwrap();
    assert_eq!(at_once["deliver_after"], serde_json::Value::Null);
    let chat = w
        .send("C-1", "Got your message, will call", "conversation")
        .await
        .unwrap();
    assert_eq!(chat["deliver_after"], serde_json::Value::Null);

    w.dispatch_due().await;
    assert_eq!(
        (
            w.sent("Hearing Friday"),
            w.sent("Got your message, will call")
        ),
        (1, 1),
        "it is still evening in Los Angeles, and an advocate's reply is not held"
    );
    assert_eq!(w.sent("Hearing tomorrow 9am"), 0, "held in Chicago's night");
    // Twilio may hold it until quiet hours begin where the client is (21:00 in Los
    // Angeles, half an hour on), not where the organization is, where they already have
    // (`ValidityPeriod`, twilio.com/docs/messaging/api/message-resource).
    let validity = w
        .twilio
        .requests()
        .into_iter()
        .find(|r| {
            r.form
                .iter()
                .any(|(n, v)| n == "Body" && v == "Hearing Friday")
        })
        .and_then(|r| r.form.into_iter().find(|(n, _)| n == "ValidityPeriod"))
        .map(|(_, v)| v.parse::<u32>().unwrap());
    // The test's clock runs on from where it was set.
    assert!(
        validity.is_some_and(|v| (1790..=1800).contains(&v)),
        "{validity:?}"
    );

    casewire_events::time::set(at("2026-12-02T13:59:59Z"));
    assert_eq!(w.dispatch_due().await, 0, "nothing is due before 08:00");
    assert_eq!(w.sent("Hearing tomorrow 9am"), 0);
    let id = |v: &serde_json::Value| v["id"].as_str().unwrap().to_string();
    casewire_events::time::set(at("2026-12-02T14:00:00Z"));
    assert_eq!(w.dispatch_due().await, 2);
    assert_eq!(w.sent("Hearing tomorrow 9am"), 1, "sent at 08:00");
    assert_eq!(w.message(&id(&held)).await.status, "accepted");
    assert_eq!(w.sent("Bring your lease"), 1);

    // A held text whose client opts out before its time is never sent.
    casewire_events::time::set(at("2026-12-03T04:00:00Z"));
    let late = w
        .send("C-1", "Office closed tomorrow", "reminder")
        .await
        .unwrap();
    w.consent("revoked").await;
    casewire_events::time::set(at("2026-12-03T14:00:01Z"));
    assert_eq!(w.dispatch_due().await, 1);
    assert_eq!(w.sent("Office closed tomorrow"), 0);
    let m = w.message(&id(&late)).await;
    assert_eq!(
        (m.status.as_str(), m.error_code.as_deref()),
        ("failed", Some("consent_withdrawn")),
        "{m:?}"
    );
    assert!(
        m.error_reason.as_deref().unwrap().contains("opted out"),
        "{m:?}"
    );
    // Run again: nothing is sent twice.
    casewire_events::time::set(at("2026-12-04T14:00:00Z"));
    w.dispatch_due().await;
    assert_eq!(w.sent("Hearing tomorrow 9am"), 1);
    assert_eq!(w.message(&id(&second)).await.status, "accepted");
}
