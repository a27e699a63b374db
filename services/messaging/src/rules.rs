//! Outcome-survey rules: "when a consumer case closes, ask its client three days later how
//! it went". A rule is an aggregate of its own; its survey is one campaign (campaign.rs),
//! opened with the rule and given a recipient as each case the rule admits closes, so the
//! results of every case gather in one place.
//!
//! The way of a closing: [`SurveyRules`] sees a case event with the case closed and, for
//! each rule of the tenant, enqueues a job due `delay` later (one per rule and case). The
//! [`OutcomeSurveys`] worker then reads the case's history from the log, asks [`decide`]
//! whether the case closed (from open) since the rule was made, is closed still and is one
//! the filter admits, and adds its client to the rule's campaign, which texts each case
//! once. A case linked already closed (a CMS loading its history) never sets a rule off.

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, Outcome, Worker};
use casewire_bus::{ErrorCode, Of, Projection, Reads, Refusal};
use casewire_contract::campaigns::SurveyRuleView;
use casewire_events::audience::{CaseFacts, Filter, Recipient};
use casewire_events::case::{CaseEvent, CaseStatus};
use casewire_events::survey::{SurveyRule, SurveyRuleEvent, RULE_AGGREGATE};
use casewire_events::{Actor, Metadata, RecordedEvent};
use casewire_eventstore::EventStore;
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Any, Transaction};

use crate::campaign::{Campaign, CampaignCommand};

pub const QUEUE: &str = "messaging.outcome-surveys";

/// What is wrong with a rule, in words for the API's 422.
pub fn check(rule: &SurveyRule) -> Result<(), String> {
    casewire_tenancy::Offset::parse(&rule.delay).map_err(|e| format!("delay: {e}"))?;
    crate::campaign::check(&rule.plan()).map_err(|e| match e.strip_prefix("filter") {
        Some(_) => e,
        None => format!("campaign.{e}"),
    })
}

/// The rule's campaign id: made from the rule's, so that opening it twice (a retry) opens
/// one.
pub fn campaign_id(tenant: &str, rule: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("{tenant}/survey-rule/{rule}").as_bytes(),
    )
    .to_string()
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Rule {
    created: bool,
    deleted: bool,
}

#[derive(Clone, Debug)]
pub enum RuleCommand {
    Create {
        rule: Box<SurveyRule>,
        campaign: String,
    },
    Delete,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("{0}")]
    Invalid(String),
    #[error("a rule with this id exists")]
    Exists,
    #[error("no such survey rule")]
    Unknown,
}

impl Refusal for RuleError {
    fn code(&self) -> ErrorCode {
        match self {
            RuleError::Invalid(_) => ErrorCode::Invalid,
            RuleError::Exists => ErrorCode::Conflict,
            RuleError::Unknown => ErrorCode::NotFound,
        }
    }
}

impl Aggregate for Rule {
    const TYPE: &'static str = RULE_AGGREGATE;
    type Command = RuleCommand;
    type Event = SurveyRuleEvent;
    type Error = RuleError;
    type Services = ();

    async fn handle(
        &mut self,
        command: RuleCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), RuleError> {
        let event = match command {
            RuleCommand::Create { .. } if self.created => return Err(RuleError::Exists),
            RuleCommand::Create { rule, campaign } => {
                check(&rule).map_err(RuleError::Invalid)?;
                SurveyRuleEvent::SurveyRuleCreated { rule, campaign }
            }
            RuleCommand::Delete if !self.created || self.deleted => return Err(RuleError::Unknown),
            RuleCommand::Delete => SurveyRuleEvent::SurveyRuleDeleted {},
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: SurveyRuleEvent) {
        match event {
            SurveyRuleEvent::SurveyRuleCreated { .. } => self.created = true,
            SurveyRuleEvent::SurveyRuleDeleted {} => self.deleted = true,
        }
    }
}

/// A case as one of its events left it: when, and what the filter reads of it.
#[derive(Debug, Clone)]
pub struct CaseAt {
    pub at: String,
    pub facts: CaseFacts,
}

/// Whom a rule made at `rule_created` texts for the case `case_id` whose history is
/// `history` (oldest first): its client, when the case went from open to closed since the
/// rule was made, is closed now, and the filter admits it as it is now.
pub fn decide(
    rule_created: &str,
    filter: &Filter,
    case_id: &str,
    history: &[CaseAt],
) -> Option<Recipient> {
    let closed_since = history.windows(2).any(|w| {
        w[0].facts.status == CaseStatus::Open
            && w[1].facts.status == CaseStatus::Closed
            && w[1].at.as_str() >= rule_created
    });
    let now = &history.last()?.facts;
    (closed_since && now.status == CaseStatus::Closed && filter.admits(case_id, now)).then(|| {
        Recipient {
            case_id: case_id.to_string(),
            phone: now.client.phone.clone(),
            language: now.client.language.clone(),
            time_zone: now.time_zone.clone(),
        }
    })
}

/// The rules as their events left them (inline, so the API lists a rule it just made), and
/// a job for each rule when a case closes.
pub struct SurveyRules;

#[async_trait]
impl Projection for SurveyRules {
    fn name(&self) -> &'static str {
        "messaging_survey_rules"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[Of::all(casewire_events::case::AGGREGATE)];
        Reads::Only(OF)
    }

    fn inline(&self) -> Reads {
        const OF: &[Of] = &[Of::all(RULE_AGGREGATE)];
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
        if e.aggregate_type == RULE_AGGREGATE {
            match e.decode::<SurveyRuleEvent>()? {
                SurveyRuleEvent::SurveyRuleCreated { rule, campaign } => {
                    sqlx::query(
                        "INSERT INTO messaging_survey_rules (tenant_id, id, rule, campaign_id, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, id) DO NOTHING",
                    )
                    .bind(&e.tenant_id)
                    .bind(&e.aggregate_id)
                    .bind(serde_json::to_string(&rule)?)
                    .bind(campaign)
                    .bind(&e.recorded_at)
                    .execute(&mut **tx)
                    .await?;
                }
                SurveyRuleEvent::SurveyRuleDeleted {} => {
                    sqlx::query(
                        "UPDATE messaging_survey_rules SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3",
                    )
                    .bind(&e.recorded_at)
                    .bind(&e.tenant_id)
                    .bind(&e.aggregate_id)
                    .execute(&mut **tx)
                    .await?;
                }
            }
            return Ok(());
        }
        let (CaseEvent::CaseLinked { details } | CaseEvent::CaseUpdated { details }) =
            e.decode()?;
        if details.status != CaseStatus::Closed {
            return Ok(());
        }
        // Only closed cases cost a look-up; whether this one closed now is the worker's.
        let rules: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, rule FROM messaging_survey_rules WHERE tenant_id = $1 AND deleted_at IS NULL",
        )
        .bind(&e.tenant_id)
        .fetch_all(&mut **tx)
        .await?;
        let closed = DateTime::parse_from_rfc3339(&e.recorded_at)?.with_timezone(&Utc);
        for (id, rule) in rules {
            let rule: SurveyRule = serde_json::from_str(&rule)?;
            let delay = casewire_tenancy::Offset::parse(&rule.delay).map_err(anyhow::Error::msg)?;
            let job = format!("{id}:{}", e.aggregate_id);
            let payload = json!({ "rule": id, "case_id": e.aggregate_id });
            jobs::enqueue(
                tx,
                QUEUE,
                &e.tenant_id,
                &job,
                &payload,
                closed + delay.span(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Adds a closed case's client to its rule's campaign, once the rule's delay has passed.
pub struct OutcomeSurveys;

#[async_trait]
impl Worker for OutcomeSurveys {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let tenant = job.tenant_id.as_str();
        let (Some(rule_id), Some(case_id)) = (
            job.payload["rule"].as_str(),
            job.payload["case_id"].as_str(),
        ) else {
            return Ok(Outcome::Done);
        };
        let Some(found) = find(store, tenant, rule_id).await? else {
            return Ok(Outcome::Done);
        };
        if found.deleted_at.is_some() {
            return Ok(Outcome::Done);
        }
        let mut history = Vec::new();
        for e in store
            .read_aggregate(tenant, casewire_events::case::AGGREGATE, case_id, 0)
            .await?
        {
            let payload: serde_json::Value = serde_json::from_str(&e.payload)?;
            let details = payload[&e.event_type]["details"].clone();
            history.push(CaseAt {
                at: e.recorded_at,
                facts: serde_json::from_value(details)?,
            });
        }
        let Some(recipient) = decide(&found.created_at, &found.rule.filter, case_id, &history)
        else {
            return Ok(Outcome::Done);
        };
        let metadata = || Metadata::new(Actor::System).into_map();
        let campaign = found.campaign_id.as_str();
        match casewire_bus::record::<Campaign>(
            store,
            tenant,
            campaign,
            CampaignCommand::Add(recipient.clone()),
            metadata(),
        )
        .await
        {
            Ok(_) => {}
            // Opened when the rule was made, unless that stopped half-way: open it now.
            Err(e) if e.code == ErrorCode::NotFound => {
                let open = CampaignCommand::Open {
                    plan: Box::new(found.rule.plan()),
                    rule: rule_id.to_string(),
                };
                casewire_bus::record::<Campaign>(store, tenant, campaign, open, metadata())
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message))?;
                casewire_bus::record::<Campaign>(
                    store,
                    tenant,
                    campaign,
                    CampaignCommand::Add(recipient),
                    metadata(),
                )
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
            }
            // Cancelled: the rule was deleted meanwhile.
            Err(e) if e.code == ErrorCode::Conflict => {}
            Err(e) => anyhow::bail!(e.message),
        }
        Ok(Outcome::Done)
    }
}

/// A rule's row.
pub struct RuleRow {
    pub id: String,
    pub rule: SurveyRule,
    pub campaign_id: String,
    pub created_at: String,
    pub deleted_at: Option<String>,
}

impl RuleRow {
    pub fn view(self) -> SurveyRuleView {
        SurveyRuleView {
            id: self.id,
            rule: self.rule,
            campaign_id: self.campaign_id,
            created_at: self.created_at,
        }
    }
}

type Row = (String, String, String, String, Option<String>);

fn row((id, rule, campaign_id, created_at, deleted_at): Row) -> anyhow::Result<RuleRow> {
    Ok(RuleRow {
        id,
        rule: serde_json::from_str(&rule)?,
        campaign_id,
        created_at,
        deleted_at,
    })
}

pub async fn find(store: &EventStore, tenant: &str, id: &str) -> anyhow::Result<Option<RuleRow>> {
    let found: Option<Row> = sqlx::query_as(
        "SELECT id, rule, campaign_id, created_at, deleted_at FROM messaging_survey_rules \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(store.db().reader())
    .await?;
    found.map(row).transpose()
}

/// The tenant's rules that stand, oldest first.
pub async fn list(store: &EventStore, tenant: &str) -> anyhow::Result<Vec<RuleRow>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, rule, campaign_id, created_at, deleted_at FROM messaging_survey_rules \
         WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY created_at, id",
    )
    .bind(tenant)
    .fetch_all(store.db().reader())
    .await?;
    rows.into_iter().map(row).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(at: &str, status: &str, problem: &str) -> CaseAt {
        CaseAt {
            at: at.into(),
            facts: serde_json::from_value(json!({
                "client": {"phone": "+13125550100", "language": "es"},
                "status": status, "problem_code": problem, "advocates": [],
            }))
            .unwrap(),
        }
    }

    fn consumer() -> Filter {
        serde_json::from_value(json!({"problem_codes": ["01"]})).unwrap()
    }

    const MADE: &str = "2026-11-01T00:00:00Z";

    #[test]
    fn a_case_that_closes_after_the_rule_is_made_gets_the_survey() {
        let history = [
            at("2026-10-01T00:00:00Z", "open", "01"),
            at("2026-11-05T00:00:00Z", "closed", "01"),
        ];
        let r = decide(MADE, &consumer(), "K-1", &history).expect("surveyed");
        assert_eq!((r.case_id.as_str(), r.language.as_str()), ("K-1", "es"));
    }

    #[test]
    fn a_case_linked_closed_or_closed_before_the_rule_does_not() {
        let linked_closed = [at("2026-11-05T00:00:00Z", "closed", "01")];
        assert_eq!(decide(MADE, &consumer(), "K-1", &linked_closed), None);
        let closed_before = [
            at("2026-10-01T00:00:00Z", "open", "01"),
            at("2026-10-20T00:00:00Z", "closed", "01"),
            at("2026-11-05T00:00:00Z", "closed", "01"),
        ];
        assert_eq!(decide(MADE, &consumer(), "K-1", &closed_before), None);
    }

    #[test]
    fn a_case_reopened_since_or_outside_the_filter_does_not() {
        let reopened = [
            at("2026-10-01T00:00:00Z", "open", "01"),
            at("2026-11-05T00:00:00Z", "closed", "01"),
            at("2026-11-06T00:00:00Z", "open", "01"),
        ];
        assert_eq!(decide(MADE, &consumer(), "K-1", &reopened), None);
        let housing = [
            at("2026-10-01T00:00:00Z", "open", "63"),
            at("2026-11-05T00:00:00Z", "closed", "63"),
        ];
        assert_eq!(decide(MADE, &consumer(), "K-1", &housing), None);
    }
}
