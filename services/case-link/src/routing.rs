//! Which case an inbound text belongs to. The rule (issue 3):
//! 1. the case that last texted the number;
//! 2. else, of the open cases with the number, the one most recently updated;
//! 3. else the unrouted inbox: an unknown number, or a number whose cases are all closed
//!    and never texted it (a person decides; a closed case's advocate may have moved on).
//!
//! The decision and its reason are an event, so the CMS can see why and correct it.

use std::collections::HashMap;

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, Outcome, Worker};
use casewire_bus::{Of, Projection, Reads, Refusal};
use casewire_events::case::InboundRouteEvent;
use casewire_events::message::MessageEvent;
use casewire_events::RecordedEvent;
use casewire_eventstore::EventStore;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Any, Transaction};

pub const QUEUE: &str = "case-link.route";

/// A case that has the number, as routing sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub case_id: String,
    pub open: bool,
    pub updated_at: String,
    pub last_texted_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Case {
        case_id: String,
        reason: &'static str,
    },
    Unrouted {
        reason: &'static str,
    },
}

pub fn decide(candidates: &[Candidate]) -> Decision {
    if candidates.is_empty() {
        return Decision::Unrouted {
            reason: "unknown_number",
        };
    }
    if let Some(c) = candidates
        .iter()
        .filter(|c| c.last_texted_at.is_some())
        .max_by(|a, b| (&a.last_texted_at, &a.case_id).cmp(&(&b.last_texted_at, &b.case_id)))
    {
        return Decision::Case {
            case_id: c.case_id.clone(),
            reason: "last_texted",
        };
    }
    match candidates
        .iter()
        .filter(|c| c.open)
        .max_by(|a, b| (&a.updated_at, &a.case_id).cmp(&(&b.updated_at, &b.case_id)))
    {
        Some(c) => Decision::Case {
            case_id: c.case_id.clone(),
            reason: "most_recently_updated_open_case",
        },
        None => Decision::Unrouted {
            reason: "no_open_case",
        },
    }
}

/// The routing of one inbound text (id = the message id): decided once by the rule, then
/// corrected by the CMS as often as it needs.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct InboundRoute {
    decided: bool,
    case_id: Option<String>,
}

#[derive(Clone, Debug)]
pub enum RouteCommand {
    /// The rule's decision; ignored once the text was routed.
    Route {
        message_id: String,
        decision: Decision,
    },
    /// A person filed the text on another case.
    Correct { message_id: String, case_id: String },
}

/// The command of the rule, kept short for the worker and the tests.
pub fn route(message_id: &str, decision: Decision) -> RouteCommand {
    RouteCommand::Route {
        message_id: message_id.to_string(),
        decision,
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {}

impl Refusal for RouteError {
    fn code(&self) -> casewire_bus::ErrorCode {
        match *self {}
    }
}

impl Aggregate for InboundRoute {
    const TYPE: &'static str = casewire_events::case::ROUTE_AGGREGATE;
    type Command = RouteCommand;
    type Event = InboundRouteEvent;
    type Error = RouteError;
    type Services = ();

    async fn handle(
        &mut self,
        command: RouteCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), RouteError> {
        let event = match command {
            // Routing runs again when a job is retried, or after a correction: the first
            // decision, or the person's, stands.
            RouteCommand::Route { .. } if self.decided => return Ok(()),
            RouteCommand::Route {
                message_id,
                decision: Decision::Case { case_id, reason },
            } => InboundRouteEvent::InboundRouted {
                message_id,
                case_id,
                reason: reason.into(),
            },
            RouteCommand::Route {
                message_id,
                decision: Decision::Unrouted { reason },
            } => InboundRouteEvent::InboundUnrouted {
                message_id,
                reason: reason.into(),
            },
            RouteCommand::Correct { case_id, .. } if self.case_id.as_deref() == Some(&case_id) => {
                return Ok(())
            }
            RouteCommand::Correct {
                message_id,
                case_id,
            } => InboundRouteEvent::InboundRouted {
                message_id,
                case_id,
                reason: "corrected".into(),
            },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: InboundRouteEvent) {
        self.decided = true;
        self.case_id = match event {
            InboundRouteEvent::InboundRouted { case_id, .. } => Some(case_id),
            InboundRouteEvent::InboundUnrouted { .. } => None,
        };
    }
}

/// Hands every inbound text to the routing worker.
pub struct RoutingInbox;

#[async_trait]
impl Projection for RoutingInbox {
    fn name(&self) -> &'static str {
        "caselink_routing_inbox"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[Of::only(
            casewire_events::message::AGGREGATE,
            &["InboundReceived"],
        )];
        Reads::Only(OF)
    }

    fn feeds(&self) -> &'static [&'static str] {
        &[QUEUE]
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        if e.aggregate_type == casewire_events::message::AGGREGATE
            && e.event_type == "InboundReceived"
        {
            // The payload's `from` is not sealed; the body stays in the log.
            let MessageEvent::InboundReceived { from, .. } = e.decode()? else {
                return Ok(());
            };
            jobs::enqueue(
                tx,
                QUEUE,
                &e.tenant_id,
                &e.aggregate_id,
                &json!({ "from": from, "cause": e.event_id }),
                chrono::Utc::now(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Routes inbound texts: reads the cases with the number, decides, records the decision.
pub struct Router {
    pub(crate) reader: casewire_bus::Reader,
}

#[async_trait]
impl Worker for Router {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        // Decide on the cases as the log has them now, not as a lagging read model has them.
        casewire_bus::caught_up(&self.reader, &job.tenant_id).await?;
        let from = job.payload["from"].as_str().unwrap_or_default();
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT case_id, status, updated_at, last_texted_at FROM caselink_cases WHERE tenant_id = $1 AND phone = $2",
        )
        .bind(&job.tenant_id)
        .bind(from)
        .fetch_all(store.db().reader())
        .await?;
        let candidates: Vec<Candidate> = rows
            .into_iter()
            .map(|(case_id, status, updated_at, last_texted_at)| Candidate {
                case_id,
                open: status == "open",
                updated_at,
                last_texted_at,
            })
            .collect();
        let route = route(&job.id, decide(&candidates));
        let metadata: HashMap<String, String> =
            casewire_events::Metadata::system(job.cause()).into_map();
        casewire_bus::record::<InboundRoute>(store, &job.tenant_id, &job.id, route, metadata)
            .await?;
        Ok(Outcome::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, open: bool, updated: &str, texted: Option<&str>) -> Candidate {
        Candidate {
            case_id: id.into(),
            open,
            updated_at: updated.into(),
            last_texted_at: texted.map(Into::into),
        }
    }

    #[test]
    fn the_case_that_last_texted_the_number_wins_even_over_a_newer_open_case() {
        let d = decide(&[
            case("a", true, "2026-11-03", Some("2026-11-01")),
            case("b", true, "2026-11-05", None),
            case("c", false, "2026-11-02", Some("2026-11-02")),
        ]);
        assert_eq!(
            d,
            Decision::Case {
                case_id: "c".into(),
                reason: "last_texted"
            }
        );
    }

    #[test]
    fn without_texts_the_most_recently_updated_open_case_wins() {
        let d = decide(&[
            case("a", true, "2026-11-03", None),
            case("b", true, "2026-11-05", None),
            case("c", false, "2026-11-09", None),
        ]);
        assert_eq!(
            d,
            Decision::Case {
                case_id: "b".into(),
                reason: "most_recently_updated_open_case"
            }
        );
    }

    #[test]
    fn unknown_numbers_and_closed_only_cases_go_to_the_inbox() {
        assert_eq!(
            decide(&[]),
            Decision::Unrouted {
                reason: "unknown_number"
            }
        );
        assert_eq!(
            decide(&[case("a", false, "2026-11-03", None)]),
            Decision::Unrouted {
                reason: "no_open_case"
            }
        );
    }

    #[test]
    fn a_text_is_routed_once() {
        use cqrs_es::test::TestFramework;
        let routed = InboundRouteEvent::InboundRouted {
            message_id: "SM1".into(),
            case_id: "b".into(),
            reason: "last_texted".into(),
        };
        let by_rule = || {
            route(
                "SM1",
                Decision::Case {
                    case_id: "b".into(),
                    reason: "last_texted",
                },
            )
        };
        TestFramework::<InboundRoute>::with(())
            .given_no_previous_events()
            .when(by_rule())
            .then_expect_events(vec![routed.clone()]);
        TestFramework::<InboundRoute>::with(())
            .given(vec![routed])
            .when(by_rule())
            .then_expect_events(vec![]);
    }

    #[test]
    fn the_cms_corrects_a_routing_and_the_rule_does_not_undo_it() {
        use cqrs_es::test::TestFramework;
        let unrouted = InboundRouteEvent::InboundUnrouted {
            message_id: "SM1".into(),
            reason: "unknown_number".into(),
        };
        let corrected = InboundRouteEvent::InboundRouted {
            message_id: "SM1".into(),
            case_id: "c".into(),
            reason: "corrected".into(),
        };
        let correct = || RouteCommand::Correct {
            message_id: "SM1".into(),
            case_id: "c".into(),
        };
        TestFramework::<InboundRoute>::with(())
            .given(vec![unrouted.clone()])
            .when(correct())
            .then_expect_events(vec![corrected.clone()]);
        TestFramework::<InboundRoute>::with(())
            .given(vec![unrouted, corrected.clone()])
            .when(correct())
            .then_expect_events(vec![]);
        TestFramework::<InboundRoute>::with(())
            .given(vec![corrected])
            .when(route(
                "SM1",
                Decision::Case {
                    case_id: "b".into(),
                    reason: "last_texted",
                },
            ))
            .then_expect_events(vec![]);
    }
}
