//! Legal holds and erasure: the rules (aggregates, no I/O), the holds' read model, and the
//! worker that makes an erasure real by destroying the client's data key.

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, NewJob, Outcome, Worker};
use casewire_bus::{Of, Projection, Reads};
use casewire_events::erasure::{ErasureEvent, HoldEvent, ERASURE_AGGREGATE, HOLD_AGGREGATE};
use casewire_events::RecordedEvent;
use casewire_eventstore::EventStore;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

/// The longest reason for a hold or an erasure.
pub const MAX_REASON: usize = 500;

/// A legal hold: placed once, lifted once.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Hold {
    placed: bool,
    lifted: bool,
}

#[derive(Clone, Debug)]
pub enum HoldCommand {
    Place {
        case_id: Option<String>,
        phone: Option<String>,
        reason: casewire_events::Sealed<String>,
    },
    Lift,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ErasureError {
    #[error("no such legal hold")]
    NoSuchHold,
    #[error("this legal hold is placed already")]
    HoldExists,
    #[error("this legal hold is lifted already")]
    HoldLifted,
    #[error("this client is erased already")]
    AlreadyErased,
    #[error("a legal hold stands on this client ({0}): lift it first")]
    Held(String),
    #[error("{0}")]
    Invalid(String),
}

fn check_reason(reason: Option<&String>) -> Result<(), ErasureError> {
    match reason {
        Some(r) if r.trim().is_empty() || r.chars().count() > MAX_REASON => Err(
            ErasureError::Invalid(format!("reason: 1 to {MAX_REASON} characters")),
        ),
        _ => Ok(()),
    }
}

impl Aggregate for Hold {
    const TYPE: &'static str = HOLD_AGGREGATE;
    type Command = HoldCommand;
    type Event = HoldEvent;
    type Error = ErasureError;
    type Services = ();

    async fn handle(
        &mut self,
        command: HoldCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ErasureError> {
        let event = match command {
            HoldCommand::Place { .. } if self.placed => return Err(ErasureError::HoldExists),
            HoldCommand::Place {
                case_id,
                phone,
                reason,
            } => {
                if case_id.is_some() == phone.is_some() {
                    return Err(ErasureError::Invalid(
                        "a hold is on a case_id or on a phone: give one".into(),
                    ));
                }
                check_reason(reason.value())?;
                HoldEvent::LegalHoldPlaced {
                    case_id,
                    phone,
                    reason,
                }
            }
            HoldCommand::Lift if !self.placed => return Err(ErasureError::NoSuchHold),
            HoldCommand::Lift if self.lifted => return Err(ErasureError::HoldLifted),
            HoldCommand::Lift => HoldEvent::LegalHoldLifted {},
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: HoldEvent) {
        match event {
            HoldEvent::LegalHoldPlaced { .. } => self.placed = true,
            HoldEvent::LegalHoldLifted {} => self.lifted = true,
        }
    }
}

/// A client's erasure, by number: once.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Erasure {
    erased: bool,
}

/// Erase the client of `phone`. The facts were gathered just before: the client's cases,
/// and the holds that stand on them or on the number.
#[derive(Clone, Debug)]
pub struct Erase {
    pub phone: String,
    pub cases: Vec<String>,
    pub reason: String,
    /// The holds that stand, by id: any stops the erasure.
    pub holds: Vec<String>,
}

impl Aggregate for Erasure {
    const TYPE: &'static str = ERASURE_AGGREGATE;
    type Command = Erase;
    type Event = ErasureEvent;
    type Error = ErasureError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Erase,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ErasureError> {
        if self.erased {
            return Err(ErasureError::AlreadyErased);
        }
        if let Some(hold) = command.holds.first() {
            return Err(ErasureError::Held(hold.clone()));
        }
        check_reason(Some(&command.reason))?;
        let event = ErasureEvent::ClientErased {
            phone: command.phone,
            cases: command.cases,
            reason: command.reason.trim().to_string(),
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, _: ErasureEvent) {
        self.erased = true;
    }
}

/// The holds, as erasure checks them: written with the hold (inline), so an erasure that
/// follows a hold's answer sees it.
pub struct Holds;

#[async_trait]
impl Projection for Holds {
    fn name(&self) -> &'static str {
        "legal_holds"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[Of::all(HOLD_AGGREGATE)];
        Reads::Only(OF)
    }

    fn inline(&self) -> Reads {
        self.reads()
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let metadata = e.metadata();
        match e.decode::<HoldEvent>()? {
            HoldEvent::LegalHoldPlaced { case_id, phone, .. } => {
                sqlx::query(
                    "INSERT INTO legal_holds (tenant_id, id, case_id, phone, reason, placed_by, placed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, id) DO NOTHING",
                )
                .bind(&e.tenant_id)
                .bind(&e.aggregate_id)
                .bind(case_id)
                .bind(phone)
                .bind(e.sealed_at("/LegalHoldPlaced/reason"))
                .bind(metadata.on_behalf_of.or(metadata.actor))
                .bind(&e.recorded_at)
                .execute(&mut **tx)
                .await?;
            }
            HoldEvent::LegalHoldLifted {} => {
                sqlx::query(
                    "UPDATE legal_holds SET lifted_at = $1, lifted_by = $2 WHERE tenant_id = $3 AND id = $4",
                )
                .bind(&e.recorded_at)
                .bind(metadata.on_behalf_of.or(metadata.actor))
                .bind(&e.tenant_id)
                .bind(&e.aggregate_id)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }
}

/// The holds that stand on `phone` or on any of `cases`, by id.
pub async fn standing_holds(
    store: &EventStore,
    tenant: &str,
    phone: &str,
    cases: &[String],
) -> anyhow::Result<Vec<String>> {
    let statement = format!(
        "SELECT id FROM legal_holds WHERE tenant_id = $1 AND lifted_at IS NULL \
         AND (phone = $2 OR case_id IN ({})) ORDER BY placed_at, id",
        match cases.len() {
            0 => "NULL".to_string(),
            n => casewire_eventstore::sql::list(n, 3),
        }
    );
    let mut query = sqlx::query_as::<_, (String,)>(&statement)
        .bind(tenant)
        .bind(phone);
    for case in cases {
        query = query.bind(case);
    }
    Ok(query
        .fetch_all(store.db().reader())
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect())
}

/// Why an erasure did not happen.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// The rules refused it: a hold stands, or the client is erased already.
    #[error(transparent)]
    Refused(#[from] cqrs_es::AggregateError<ErasureError>),
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// Erases the client of `phone`, by hand or by the retention policy: gathers their cases
/// and the holds that stand, records the erasure (refused under a hold), and destroys
/// their data key at once (the erasure's reader destroys it again, should this process
/// die right after recording). Answers the client's cases.
pub async fn erase(
    store: &EventStore,
    tenant: &str,
    phone: &str,
    reason: &str,
    metadata: casewire_events::Metadata,
) -> Result<Vec<String>, EraseError> {
    let cases: Vec<(String,)> = sqlx::query_as(
        "SELECT case_id FROM caselink_cases WHERE tenant_id = $1 AND phone = $2 ORDER BY case_id",
    )
    .bind(tenant)
    .bind(phone)
    .fetch_all(store.db().reader())
    .await
    .map_err(anyhow::Error::from)?;
    let cases: Vec<String> = cases.into_iter().map(|(c,)| c).collect();
    let holds = standing_holds(store, tenant, phone, &cases).await?;
    let erase = Erase {
        phone: phone.to_string(),
        cases: cases.clone(),
        reason: reason.to_string(),
        holds,
    };
    casewire_eventstore::framework::<Erasure>(store, tenant, ())
        .execute_with_metadata(phone, erase, metadata.into_map())
        .await?;
    destroy_key(store, tenant, phone).await?;
    Ok(cases)
}

/// The queue of erasures whose data key is to be destroyed.
pub const QUEUE: &str = "erasures";

/// Queues the destruction of an erased client's key, and drops their words from the
/// search index, as the erasure is read: an erasure recorded by a process that died before
/// destroying the key is finished here.
pub(crate) async fn erased(
    tx: &mut Transaction<'static, Any>,
    e: &RecordedEvent,
) -> anyhow::Result<()> {
    let ErasureEvent::ClientErased { phone, .. } = e.decode()?;
    crate::search::forget(tx, &e.tenant_id, &phone).await?;
    let job = NewJob {
        tenant: &e.tenant_id,
        id: &phone,
        payload: serde_json::json!({ "phone": phone }).to_string(),
        due_at: casewire_events::utc_now(),
        behind: false,
    };
    jobs::enqueue_all(tx, QUEUE, &[job]).await
}

/// Destroys an erased client's data key (again: destroying twice is destroying once).
pub async fn destroy_key(store: &EventStore, tenant: &str, phone: &str) -> anyhow::Result<()> {
    store
        .destroy_data_key(tenant, &casewire_events::message::client_subject(phone))
        .await?;
    Ok(())
}

/// Makes each recorded erasure real: the client's key destroyed.
pub struct KeyDestroyer;

#[async_trait]
impl Worker for KeyDestroyer {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let phone = job.payload["phone"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("an erasure job without a phone"))?;
        destroy_key(store, &job.tenant_id, phone).await?;
        Ok(Outcome::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    fn erase(holds: &[&str]) -> Erase {
        Erase {
            phone: "+13125550100".into(),
            cases: vec!["C-1".into()],
            reason: "retention ended".into(),
            holds: holds.iter().map(|h| h.to_string()).collect(),
        }
    }

    fn erased() -> ErasureEvent {
        ErasureEvent::ClientErased {
            phone: "+13125550100".into(),
            cases: vec!["C-1".into()],
            reason: "retention ended".into(),
        }
    }

    #[test]
    fn a_client_is_erased_once_and_never_under_a_hold() {
        TestFramework::<Erasure>::with(())
            .given_no_previous_events()
            .when(erase(&[]))
            .then_expect_events(vec![erased()]);
        TestFramework::<Erasure>::with(())
            .given(vec![erased()])
            .when(erase(&[]))
            .then_expect_error(ErasureError::AlreadyErased);
        TestFramework::<Erasure>::with(())
            .given_no_previous_events()
            .when(erase(&["h-1"]))
            .then_expect_error_message("a legal hold stands on this client (h-1): lift it first");
    }

    #[test]
    fn a_hold_is_on_a_case_or_a_number_and_lifted_once() {
        let reason = || casewire_events::Sealed::new("client:+1", "Smith v. Landlord".to_string());
        TestFramework::<Hold>::with(())
            .given_no_previous_events()
            .when(HoldCommand::Place {
                case_id: Some("C-1".into()),
                phone: Some("+1".into()),
                reason: reason(),
            })
            .then_expect_error_message("a hold is on a case_id or on a phone: give one");
        let placed = HoldEvent::LegalHoldPlaced {
            case_id: Some("C-1".into()),
            phone: None,
            reason: reason(),
        };
        TestFramework::<Hold>::with(())
            .given(vec![placed.clone()])
            .when(HoldCommand::Lift)
            .then_expect_events(vec![HoldEvent::LegalHoldLifted {}]);
        TestFramework::<Hold>::with(())
            .given(vec![placed, HoldEvent::LegalHoldLifted {}])
            .when(HoldCommand::Lift)
            .then_expect_error(ErasureError::HoldLifted);
    }
}
