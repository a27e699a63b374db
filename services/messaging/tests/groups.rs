//! An append's group of texts' events (a campaign run's texts queued together, a
//! dispatcher's claim started and accepted together) is written a statement per kind of
//! event. The rows and jobs are the same as when each event comes alone, and a group that
//! holds texts' whole lives (a reader's backlog) is written in the log's order.

mod world;

use casewire_events::message::{MessageEvent, Purpose};
use casewire_events::Sealed;
use casewire_eventstore::NewEvent;
use world::{world, World, CLIENT, TENANT};

const TEXTS: [&str; 3] = ["G-1", "G-2", "G-3"];

fn event(id: &str, sequence: i64, e: MessageEvent) -> NewEvent {
    let payload = serde_json::to_value(&e).unwrap();
    let event_type = payload.as_object().unwrap().keys().next().unwrap().clone();
    NewEvent {
        aggregate_type: casewire_events::message::AGGREGATE.into(),
        aggregate_id: id.into(),
        sequence,
        event_type,
        event_version: "1".into(),
        payload,
        metadata: serde_json::json!({}),
    }
}

/// Each text's life, step by step: queued, started, accepted, then a status (the last one
/// undelivered, with Twilio's code).
fn life(id: &str) -> Vec<NewEvent> {
    let last = id == "G-3";
    vec![
        event(
            id,
            1,
            MessageEvent::OutboundQueued {
                case_id: Some("C-1".into()),
                to: CLIENT.into(),
                body: Sealed::new(
                    format!("client:{CLIENT}"),
                    format!("Clinic on Saturday ({id})"),
                ),
                segments: 1,
                encoding: "GSM-7".into(),
                price_micros: 8_300,
                purpose: if last {
                    Purpose::Conversation
                } else {
                    Purpose::Bulk
                },
                deliver_after: None,
                in_reply_to: None,
                expires_at: None,
                zone: None,
                attachments: vec![],
                campaign: None,
            },
        ),
        event(
            id,
            2,
            MessageEvent::DispatchStarted {
                attempt: 1,
                provider: "twilio".into(),
                started_at: "2026-11-30T15:00:00Z".into(),
                valid_for: None,
            },
        ),
        event(
            id,
            3,
            MessageEvent::Accepted {
                case_id: Some("C-1".into()),
                provider_sid: format!("SM{id}"),
            },
        ),
        event(
            id,
            4,
            MessageEvent::StatusReported {
                case_id: Some("C-1".into()),
                status: if last { "undelivered" } else { "delivered" }.into(),
                error_code: last.then(|| "30003".to_string()),
            },
        ),
    ]
}

type Row = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

/// The texts' rows, and their dispatch jobs (with their priority).
async fn written(w: &World) -> (Vec<Row>, Vec<(String, i64)>) {
    let rows = sqlx::query_as(
        "SELECT id, status, provider, provider_sid, error_code, case_id, segments FROM messaging_messages \
         WHERE tenant_id = $1 AND id LIKE 'G-%' ORDER BY id",
    )
    .bind(TENANT)
    .fetch_all(w.store.db().reader())
    .await
    .unwrap();
    let jobs = sqlx::query_as(
        "SELECT id, priority FROM jobs WHERE queue = $1 AND tenant_id = $2 AND id LIKE 'G-%' ORDER BY id",
    )
    .bind(casewire_messaging::dispatch::QUEUE)
    .bind(TENANT)
    .fetch_all(w.store.db().reader())
    .await
    .unwrap();
    (rows, jobs)
}

/// Appends `steps` (each an append) in a world of its own, noting what was written after each.
async fn run(steps: Vec<Vec<NewEvent>>) -> Vec<(Vec<Row>, Vec<(String, i64)>)> {
    let w = world().await;
    let mut seen = Vec::new();
    for events in steps {
        w.store.append(TENANT, events).await.unwrap();
        seen.push(written(&w).await);
    }
    seen
}

#[tokio::test]
async fn a_group_of_texts_is_written_as_each_alone_would_be() {
    let lives: Vec<Vec<NewEvent>> = TEXTS.iter().map(|id| life(id)).collect();
    // Step k of every text, in one append; then the same, each event alone.
    let step = |k: usize| -> Vec<NewEvent> { lives.iter().map(|l| l[k].clone()).collect() };
    let grouped = run((0..4).map(step).collect()).await;
    let alone = run((0..4)
        .flat_map(|k| step(k).into_iter().map(|e| vec![e]))
        .collect())
    .await;
    for (k, seen) in grouped.iter().enumerate() {
        assert_eq!(
            seen,
            &alone[k * TEXTS.len() + TEXTS.len() - 1],
            "after step {k}"
        );
    }

    // What a client and the dispatcher see: each text's job from its queueing (a bulk
    // text's behind the others) to its acceptance, then its status, Twilio's id and code.
    let (_, queued_jobs) = &grouped[0];
    assert_eq!(
        queued_jobs,
        &vec![("G-1".into(), 1), ("G-2".into(), 1), ("G-3".into(), 0)]
    );
    let (rows, jobs) = &grouped[3];
    assert!(jobs.is_empty(), "accepted texts leave no job");
    let statuses: Vec<(&str, &str, Option<&str>, Option<&str>)> = rows
        .iter()
        .map(|r| {
            (
                r.1.as_str(),
                r.2.as_deref().unwrap_or(""),
                r.3.as_deref(),
                r.4.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("delivered", "twilio", Some("SMG-1"), None),
            ("delivered", "twilio", Some("SMG-2"), None),
            ("undelivered", "twilio", Some("SMG-3"), Some("30003")),
        ]
    );

    // The whole lives in one append, as a reader's backlog holds them: the same rows.
    let backlog = run(vec![lives.into_iter().flatten().collect()]).await;
    assert_eq!(backlog[0], grouped[3]);
}
