//! The reminder scheduler with a controllable clock, against the fake Twilio over loopback
//! on a real (SQLite) store: scheduling, rescheduling (across a DST change too),
//! cancelling, quiet-hours deferral, a crash between the decision and the text, and two
//! scheduler replicas. Every reminder that goes, goes once.

mod world;

use casewire_events::Sealed;
use casewire_messaging::appointment::{AppointmentCommand, AppointmentState, Decision, SentText};
use casewire_tenancy::{ReminderPolicy, TenantCommand};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use world::{world, World, CLIENT, TENANT};

/// The clock is the process's: tests that move it take turns.
static CLOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

impl World {
    async fn appointment(&self, id: &str, appointment: Value) -> Value {
        self.command(
            "put_appointment",
            json!({"case_id": "C-1", "appointment_id": id, "appointment": appointment}),
        )
        .await
        .unwrap()
    }

    /// The case's reminders, as the gateway reads them once messaging caught up.
    async fn reminders(&self) -> Vec<Value> {
        self.catch_up().await;
        let list = casewire_messaging::reminders::list(&self.store, TENANT, "C-1", None)
            .await
            .unwrap();
        list.into_iter().map(|r| json!(r)).collect()
    }

    async fn reminder(&self, id: &str) -> Value {
        self.reminders()
            .await
            .into_iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no reminder {id}"))
    }

    fn texts(&self) -> Vec<String> {
        self.twilio
            .sent()
            .into_iter()
            .filter(|m| m.to == CLIENT)
            .map(|m| m.body)
            .collect()
    }
}

#[tokio::test]
async fn a_court_date_is_scheduled_moved_sent_once_and_cancelled() {
    let _clock = CLOCK.lock().await;
    let w = world().await;
    w.consent("granted").await;
    casewire_events::time::set(at("2026-12-01T15:00:00Z"));

    // Monday Dec 14, 09:00 in Chicago: a week and a day before, at 09:00.
    let hearing = json!({"kind": "court_date", "starts_at": "2026-12-14T09:00:00-06:00", "location": "Daley Center, room 1402"});
    let set = w.appointment("A-1", hearing).await;
    assert_eq!(set["created"], true);
    let due: Vec<_> = w
        .reminders()
        .await
        .iter()
        .map(|r| (r["offset"].clone(), r["due_at"].clone(), r["state"].clone()))
        .collect();
    assert_eq!(
        due,
        [
            (
                json!("P7D"),
                json!("2026-12-07T15:00:00.000000Z"),
                json!("scheduled")
            ),
            (
                json!("P1D"),
                json!("2026-12-13T15:00:00.000000Z"),
                json!("scheduled")
            ),
        ]
    );

    // The CMS moves it a day later: the reminders follow, and the old times send nothing.
    w.appointment("A-1", json!({"kind": "court_date", "starts_at": "2026-12-15T09:00:00-06:00", "location": "Daley Center, room 1402"}))
        .await;
    assert_eq!(
        w.reminder("A-1:P7D").await["due_at"],
        "2026-12-08T15:00:00.000000Z"
    );
    casewire_events::time::set(at("2026-12-07T15:00:01Z"));
    w.remind_due().await;
    assert_eq!(
        w.texts(),
        Vec::<String>::new(),
        "the stale time sends nothing"
    );
    casewire_events::time::set(at("2026-12-08T15:00:01Z"));
    w.remind_due().await;
    assert_eq!(
        w.texts(),
        ["Prairie Legal Aid: Hi Ana, your court date is Tuesday, December 15 at 9:00 AM, Daley Center, room 1402. Reply STOP to stop texts."]
    );
    let sent = w.reminder("A-1:P7D").await;
    assert_eq!(sent["state"], "sent");
    assert!(sent["message_id"].is_string(), "{sent}");
    w.remind_due().await;
    assert_eq!(w.texts().len(), 1, "sent once");

    // Cancelled: the day-before reminder never goes.
    w.command(
        "cancel_appointment",
        json!({"case_id": "C-1", "appointment_id": "A-1"}),
    )
    .await
    .unwrap();
    let cancelled = w.reminder("A-1:P1D").await;
    assert_eq!(
        (&cancelled["state"], &cancelled["reason"]),
        (&json!("cancelled"), &json!("the appointment was cancelled"))
    );
    casewire_events::time::set(at("2026-12-14T15:00:01Z"));
    w.remind_due().await;
    assert_eq!(w.texts().len(), 1);

    // Arriving late: a reminder whose time has passed is skipped with the reason.
    w.appointment(
        "A-3",
        json!({"kind": "deadline", "starts_at": "2026-12-18T17:00:00-06:00"}),
    )
    .await;
    let late = w.reminder("A-3:P7D").await;
    assert_eq!(
        (&late["state"], &late["reason"]),
        (
            &json!("skipped"),
            &json!("its time had passed when the appointment arrived")
        )
    );
    assert_eq!(w.reminder("A-3:P1D").await["state"], "scheduled");

    // Turned off for the case, the waiting one is cancelled; turned on, it comes back.
    let off = w
        .command("set_reminders", json!({"case_id": "C-1", "enabled": false}))
        .await
        .unwrap();
    assert_eq!(off["enabled"], false);
    assert_eq!(
        w.reminder("A-3:P1D").await["reason"],
        "reminders are turned off for this case"
    );
    w.command("set_reminders", json!({"case_id": "C-1", "enabled": true}))
        .await
        .unwrap();
    assert_eq!(w.reminder("A-3:P1D").await["state"], "scheduled");
}

#[tokio::test]
async fn a_move_across_a_dst_change_keeps_the_local_hour() {
    let _clock = CLOCK.lock().await;
    let w = world().await;
    casewire_events::time::set(at("2027-02-01T15:00:00Z"));
    // Tuesday March 9, 2027, 09:00 CST (UTC-6); the day before is 09:00 CST.
    w.appointment(
        "A-2",
        json!({"kind": "court_date", "starts_at": "2027-03-09T09:00:00-06:00"}),
    )
    .await;
    assert_eq!(
        w.reminder("A-2:P1D").await["due_at"],
        "2027-03-08T15:00:00.000000Z"
    );
    // Moved a week on, past the change to CDT (UTC-5) on March 14: still 09:00 local, the
    // day before, and a week before is 09:00 CST on the old side of the change.
    w.appointment(
        "A-2",
        json!({"kind": "court_date", "starts_at": "2027-03-16T09:00:00-05:00"}),
    )
    .await;
    assert_eq!(
        w.reminder("A-2:P1D").await["due_at"],
        "2027-03-15T14:00:00.000000Z"
    );
    assert_eq!(
        w.reminder("A-2:P7D").await["due_at"],
        "2027-03-09T15:00:00.000000Z"
    );
}

#[tokio::test]
async fn quiet_hours_defer_a_reminder_a_crash_does_not_lose_it_and_two_replicas_send_it_once() {
    let _clock = CLOCK.lock().await;
    let w = world().await;
    w.consent("granted").await;
    let mut policy = ReminderPolicy::default();
    policy.meeting.offsets = vec!["PT13H".into()];
    w.tenant(TenantCommand::SetReminderPolicy(policy)).await;
    casewire_events::time::set(at("2026-12-01T15:00:00Z"));

    // A 10:00 meeting: 13 hours before is 21:00 the night before, in quiet hours.
    w.appointment(
        "M-1",
        json!({"kind": "meeting", "starts_at": "2026-12-03T10:00:00-06:00"}),
    )
    .await;
    casewire_events::time::set(at("2026-12-03T03:00:01Z"));
    w.remind_due().await;
    let deferred = w.reminder("M-1:PT13H").await;
    assert_eq!(
        (&deferred["state"], &deferred["sends_at"]),
        (&json!("deferred"), &json!("2026-12-03T14:00:00.000000Z")),
        "deferred to 08:00 in Chicago, not dropped: {deferred}"
    );
    assert!(w.texts().is_empty());

    // Two replicas run the due job at 08:00 at once: one text.
    casewire_events::time::set(at("2026-12-03T14:00:01Z"));
    let other = w.scheduler.clone();
    let (a, b) = tokio::join!(
        casewire_bus::jobs::run_due(&w.store, w.scheduler.as_ref()),
        casewire_bus::jobs::run_due(&w.store, other.as_ref()),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "one replica took the job");
    w.dispatch_due().await;
    assert_eq!(w.texts().len(), 1, "{:?}", w.texts());
    assert!(w.texts()[0].contains("meeting with your advocate on Thursday, December 3 at 10:00 AM"));

    // A crash after the decision was recorded and before the text was queued: the job,
    // run again when its lease runs out, queues that very text once.
    w.appointment(
        "M-2",
        json!({"kind": "meeting", "starts_at": "2026-12-04T14:00:00-06:00"}),
    )
    .await;
    let reminder = w.reminder("M-2:PT13H").await;
    let due_at = reminder["due_at"].as_str().unwrap().to_string();
    casewire_events::time::set(at("2026-12-04T07:00:00Z"));
    let decided = SentText {
        message_id: "0193d4a0-0000-7000-8000-000000000001".into(),
        to: CLIENT.into(),
        body: Sealed::new(
            "client:+13125550100",
            "Prairie Legal Aid: decided before the crash. Reply STOP to stop texts.".to_string(),
        ),
        zone: None,
    };
    casewire_bus::record::<AppointmentState>(
        &w.store,
        TENANT,
        "C-1/M-2",
        AppointmentCommand::Fire {
            offset: "PT13H".into(),
            at: due_at,
            decision: Decision::Send(decided),
        },
        Default::default(),
    )
    .await
    .unwrap();
    w.remind_due().await;
    w.remind_due().await;
    let crashed: Vec<_> = w
        .texts()
        .into_iter()
        .filter(|t| t.contains("decided before the crash"))
        .collect();
    assert_eq!(crashed.len(), 1, "queued once after the crash");
}
