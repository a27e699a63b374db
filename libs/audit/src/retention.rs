//! The retention policy at work: which clients are due for erasure (a pure decision over
//! facts gathered from the read models), the report of them, and the worker that erases
//! those whose grace has passed, skipping any a legal hold covers.

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use casewire_bus::jobs::{Job, Outcome, Worker};
use casewire_events::{Actor, Metadata};
use casewire_eventstore::EventStore;
use casewire_tenancy::{Retention, Retentions};
use chrono::NaiveDate;
use serde::Serialize;

/// The tenants' retention policies, as the gateway keeps them.
pub fn retentions() -> Retentions {
    Retentions::new("audit_retention", "audit_retention")
}

/// The queue of tenants whose clients' retention is checked (one job each, run again
/// every `Retainer::every`).
pub const QUEUE: &str = "retention";

/// One case as retention sees it.
#[derive(Clone, Debug)]
pub struct CaseFact {
    pub case_id: String,
    pub phone: String,
    /// The day it closed; `None` while it is open (or closed with no date).
    pub closed: Option<NaiveDate>,
}

/// A client the policy makes due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Due {
    pub phone: String,
    pub cases: Vec<String>,
    /// The day their last case closed.
    #[schema(value_type = String, format = Date)]
    pub last_closed: NaiveDate,
    /// The day the policy made them due, and the day they are erased (after the grace).
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub erase_on: NaiveDate,
    /// A legal hold covers them: they are not erased while it stands.
    pub held: bool,
}

/// The clients due by `today`: every case of theirs closed, the last one closed the
/// policy's period ago. Erased clients are not listed; held ones are, marked.
pub fn plan(
    cases: &[CaseFact],
    retention: &Retention,
    today: NaiveDate,
    held_phones: &HashSet<String>,
    held_cases: &HashSet<String>,
    erased: &HashSet<String>,
) -> Vec<Due> {
    let mut clients: BTreeMap<&str, Vec<&CaseFact>> = BTreeMap::new();
    for case in cases.iter().filter(|c| !erased.contains(&c.phone)) {
        clients.entry(&case.phone).or_default().push(case);
    }
    let mut due: Vec<Due> = clients
        .into_iter()
        .filter_map(|(phone, cases)| {
            let closed: Option<Vec<NaiveDate>> = cases.iter().map(|c| c.closed).collect();
            let last_closed = closed?.into_iter().max()?;
            let (due_on, erase_on) = retention.dates(last_closed);
            (due_on <= today).then(|| Due {
                phone: phone.to_string(),
                cases: cases.iter().map(|c| c.case_id.clone()).collect(),
                last_closed,
                due_on,
                erase_on,
                held: held_phones.contains(phone)
                    || cases.iter().any(|c| held_cases.contains(&c.case_id)),
            })
        })
        .collect();
    due.sort_by(|a, b| (a.erase_on, &a.phone).cmp(&(b.erase_on, &b.phone)));
    due
}

/// The tenant's report: who is due, when they are erased, who is held.
pub async fn report(
    store: &EventStore,
    tenant: &str,
    today: NaiveDate,
) -> anyhow::Result<Option<(Retention, Vec<Due>)>> {
    let Some(retention) = retentions().get(store, tenant).await? else {
        return Ok(None);
    };
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT case_id, phone, status, details FROM caselink_cases WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_all(store.db().reader())
    .await?;
    let cases: Vec<CaseFact> = rows
        .into_iter()
        .map(|(case_id, phone, status, details)| {
            let details: serde_json::Value = serde_json::from_str(&details).unwrap_or_default();
            let closed = (status == "closed")
                .then(|| details["closed_at"].as_str())
                .flatten()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            CaseFact {
                case_id,
                phone,
                closed,
            }
        })
        .collect();
    let holds: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT case_id, phone FROM legal_holds WHERE tenant_id = $1 AND lifted_at IS NULL",
    )
    .bind(tenant)
    .fetch_all(store.db().reader())
    .await?;
    let held_cases = holds.iter().filter_map(|(c, _)| c.clone()).collect();
    let held_phones = holds.iter().filter_map(|(_, p)| p.clone()).collect();
    let erased: Vec<(String,)> = sqlx::query_as(
        "SELECT aggregate_id FROM events WHERE tenant_id = $1 AND event_type = 'ClientErased'",
    )
    .bind(tenant)
    .fetch_all(store.db().reader())
    .await?;
    let erased = erased.into_iter().map(|(p,)| p).collect();
    let due = plan(
        &cases,
        &retention,
        today,
        &held_phones,
        &held_cases,
        &erased,
    );
    Ok(Some((retention, due)))
}

/// Erases the clients whose grace has passed, held ones aside, and comes back every
/// `every`.
pub struct Retainer {
    pub every: std::time::Duration,
}

#[async_trait]
impl Worker for Retainer {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let now = casewire_events::utc_now();
        let Some((retention, due)) = report(store, &job.tenant_id, now.date_naive()).await? else {
            return Ok(Outcome::Done);
        };
        let reason = format!(
            "retention: every case closed more than {} ago",
            retention.erase_closed_cases_after
        );
        for client in due
            .iter()
            .filter(|d| !d.held && d.erase_on <= now.date_naive())
        {
            let erased = crate::erasure::erase(
                store,
                &job.tenant_id,
                &client.phone,
                &reason,
                Metadata::new(Actor::System),
            )
            .await;
            match erased {
                Ok(_) => {}
                // Held, or erased, since the report: the next run sees it so.
                Err(crate::erasure::EraseError::Refused(e)) => {
                    tracing::info!(error = %e, "a client due for erasure was not erased");
                }
                Err(crate::erasure::EraseError::Store(e)) => return Err(e),
            }
        }
        Ok(Outcome::Continue(
            now + chrono::Duration::from_std(self.every).unwrap_or_default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn case(id: &str, phone: &str, closed: Option<&str>) -> CaseFact {
        CaseFact {
            case_id: id.into(),
            phone: phone.into(),
            closed: closed.map(d),
        }
    }

    #[test]
    fn a_client_is_due_once_every_case_closed_the_period_ago() {
        let retention = Retention {
            erase_closed_cases_after: "P6Y".into(),
            grace: "P30D".into(),
        };
        let cases = [
            case("A-1", "+1", Some("2019-01-10")),
            case("A-2", "+1", Some("2020-03-01")),
            case("B-1", "+2", Some("2018-01-01")),
            case("B-2", "+2", None),
            case("C-1", "+3", Some("2026-01-01")),
            case("D-1", "+4", Some("2019-05-01")),
            case("E-1", "+5", Some("2019-05-01")),
        ];
        let none = HashSet::new();
        let held_cases: HashSet<String> = ["D-1".to_string()].into();
        let erased: HashSet<String> = ["+5".to_string()].into();
        let due = plan(
            &cases,
            &retention,
            d("2026-12-01"),
            &none,
            &held_cases,
            &erased,
        );
        // +1 by its last case; +2 has an open case; +3 closed too lately; +5 is erased.
        let phones: Vec<(&str, bool)> = due.iter().map(|d| (d.phone.as_str(), d.held)).collect();
        assert_eq!(phones, [("+4", true), ("+1", false)]);
        assert_eq!(due[1].cases, ["A-1", "A-2"]);
        assert_eq!(
            (due[1].due_on, due[1].erase_on),
            (d("2026-03-01"), d("2026-03-31"))
        );
    }
}
