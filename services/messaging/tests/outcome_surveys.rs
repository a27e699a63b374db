//! Outcome-survey rules with a controllable clock: a case the rule admits that closes gets
//! the survey the rule's delay later, once, however often it closes again; a case outside
//! the filter, or one linked already closed, gets nothing. One test per binary: the clock
//! is the process's.

mod world;

use casewire_bus::jobs::run_due;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use world::{world, World};

/// 16:00 UTC (10:00 in Chicago, the tenant's zone, in winter; 11:00 in summer), on the first
/// day it is still to come. A rule's delay counts from when the log recorded the closing,
/// and the log records the system's time, not the process's clock: a clock set before it
/// (a fixed date, once that date has passed) would never reach the end of the delay.
fn next_morning() -> DateTime<Utc> {
    let now = Utc::now();
    let today = now.date_naive().and_hms_opt(16, 0, 0).unwrap().and_utc();
    if today >= now {
        today
    } else {
        today + Duration::days(1)
    }
}

const CONSUMER: &str = "+13125550201";
const HOUSING: &str = "+13125550202";
const OLD: &str = "+13125550203";
const QUESTION: &str = "Did we help? Reply YES or NO.";

fn case(phone: &str, status: &str, problem: &str) -> Value {
    json!({"client": {"name": "Ana Díaz", "phone": phone, "language": "en"}, "status": status,
           "problem_code": problem, "office": null, "advocates": []})
}

fn texts_to(w: &World, phone: &str) -> Vec<String> {
    w.twilio
        .sent()
        .into_iter()
        .filter(|m| m.to == phone)
        .map(|m| m.body)
        .collect()
}

/// Runs what a closing sets going: the rule's job, then the campaign's sender, then
/// dispatch.
async fn run(w: &World) -> usize {
    w.catch_up().await;
    let ran = run_due(
        &w.store,
        w.worker(casewire_messaging::rules::QUEUE).as_ref(),
    )
    .await
    .unwrap();
    w.catch_up().await;
    run_due(&w.store, w.sender.as_ref()).await.unwrap();
    w.dispatch_due().await;
    ran
}

#[tokio::test]
async fn a_closed_case_gets_the_survey_after_the_delay_once() {
    let w = world().await;
    casewire_events::time::set(next_morning());
    w.case_event("K-1", 1, "CaseLinked", case(CONSUMER, "open", "01"))
        .await;
    w.case_event("K-2", 1, "CaseLinked", case(HOUSING, "open", "63"))
        .await;
    w.case_event("K-3", 1, "CaseLinked", case(OLD, "closed", "01"))
        .await;
    for phone in [CONSUMER, HOUSING, OLD] {
        w.consent_of(phone, "granted").await;
    }
    w.tenant(casewire_tenancy::TenantCommand::SetPolicy(
        casewire_tenancy::Policy {
            bulk_rate: None,
            ..Default::default()
        },
    ))
    .await;
    w.catch_up().await;
    let mut rule = json!({
        "on": "case_closed", "filter": {"problem_codes": ["01"]}, "delay": "three days",
        "campaign": {
            "name": "Consumer outcomes",
            "messages": {"en": "{organization.name}: your case is closed."},
            "survey": {"questions": [{"id": "helped", "answer": "yes_no", "text": {"en": QUESTION}}]}
        }
    });
    let refused = w
        .command("create_survey_rule", json!({"id": "rule-1", "rule": rule}))
        .await
        .unwrap_err();
    assert!(refused.message.starts_with("delay:"), "{}", refused.message);
    rule["delay"] = json!("P3D");
    let made = w
        .command("create_survey_rule", json!({"id": "rule-1", "rule": rule}))
        .await
        .unwrap();
    let campaign = made["campaign_id"].as_str().unwrap().to_string();

    // The CMS closes the consumer case and the housing one, and edits the old closed one.
    w.case_event("K-1", 2, "CaseUpdated", case(CONSUMER, "closed", "01"))
        .await;
    w.case_event("K-2", 2, "CaseUpdated", case(HOUSING, "closed", "63"))
        .await;
    w.case_event("K-3", 2, "CaseUpdated", case(OLD, "closed", "01"))
        .await;
    assert_eq!(run(&w).await, 0, "nothing before the delay");
    assert!(w.twilio.sent().is_empty());

    casewire_events::time::advance(Duration::days(3) + Duration::minutes(1));
    // A job for each closed case; the worker decides which gets the survey.
    assert_eq!(run(&w).await, 3);
    let texts = texts_to(&w, CONSUMER);
    assert_eq!(
        texts,
        [format!(
            "Prairie Legal Aid: your case is closed.\n\n{QUESTION}"
        )]
    );
    assert!(texts_to(&w, HOUSING).is_empty(), "outside the filter");
    assert!(texts_to(&w, OLD).is_empty(), "it closed before the rule");

    // Reopened and closed again: the rule asks once per case.
    w.case_event("K-1", 3, "CaseUpdated", case(CONSUMER, "open", "01"))
        .await;
    w.case_event("K-1", 4, "CaseUpdated", case(CONSUMER, "closed", "01"))
        .await;
    casewire_events::time::advance(Duration::days(3) + Duration::minutes(1));
    assert_eq!(run(&w).await, 1);
    assert_eq!(texts_to(&w, CONSUMER).len(), 1, "texted once");

    let found = casewire_messaging::campaigns::find(&w.store, world::TENANT, &campaign)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.state.as_str(), found.recipients), ("running", 1));

    // Deleted: its campaign is cancelled, and a closing sets nothing off.
    w.command("delete_survey_rule", json!({"id": "rule-1"}))
        .await
        .unwrap();
    w.catch_up().await;
    let found = casewire_messaging::campaigns::find(&w.store, world::TENANT, &campaign)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.state, "cancelled");
    assert!(casewire_messaging::rules::list(&w.store, world::TENANT)
        .await
        .unwrap()
        .is_empty());
}
