//! The campaigns as their events left them, and each one's frozen audience: one row per
//! recipient (pending, queued with its message, or skipped with why; for a survey, when
//! they finished it, and their answers: surveys.rs). Written with the append (inline), so
//! the sender sees a pause the moment it is recorded. A launch, a resume or a rule's new
//! recipient enqueues the campaign's sender job (sending.rs).

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use casewire_bus::{Of, Projection, Reads};
use casewire_contract::campaigns::{CampaignView, Counts};
use casewire_events::campaign::{CampaignEvent, CampaignPlan, AGGREGATE};
use casewire_events::message::MessageEvent;
use casewire_events::RecordedEvent;
use casewire_eventstore::EventStore;
use sqlx::{Any, Transaction};

pub struct Campaigns;

#[async_trait]
impl Projection for Campaigns {
    fn name(&self) -> &'static str {
        "messaging_campaigns"
    }

    fn reads(&self) -> Reads {
        Reads::Only(&[])
    }

    fn inline(&self) -> Reads {
        const OF: &[Of] = &[
            Of::all(AGGREGATE),
            Of::all(casewire_events::survey::AGGREGATE),
            Of::only(casewire_events::message::AGGREGATE, &["OutboundQueued"]),
        ];
        Reads::Only(OF)
    }

    fn feeds(&self) -> &'static [&'static str] {
        &[crate::sending::QUEUE]
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        if e.aggregate_type == AGGREGATE {
            apply_campaign(tx, e).await
        } else if e.aggregate_type == casewire_events::survey::AGGREGATE {
            crate::surveys::apply(tx, e).await
        } else {
            queued(tx, &[e]).await
        }
    }

    /// A sender's run appends its texts together: their recipients are marked in one
    /// statement per campaign.
    async fn apply_all(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        events: &[&RecordedEvent],
    ) -> anyhow::Result<()> {
        let texts = events
            .iter()
            .all(|e| e.aggregate_type == casewire_events::message::AGGREGATE);
        if texts {
            queued(tx, events).await
        } else {
            casewire_bus::apply_each(self, tx, store, events).await
        }
    }
}

/// Marks the recipients of campaigns' texts just queued. A recipient's first text only: a
/// survey's later questions name the campaign too, for what they cost, and change nothing
/// here; of two texts for one recipient (two runs at once), the first in the log's order.
async fn queued(
    tx: &mut Transaction<'static, Any>,
    events: &[&RecordedEvent],
) -> anyhow::Result<()> {
    // By (tenant, campaign, moment): each text's (place, id).
    type Texts<'e> = BTreeMap<(&'e str, String, &'e str), Vec<(u32, &'e str)>>;
    let mut by_campaign = Texts::new();
    for e in events {
        if let MessageEvent::OutboundQueued {
            campaign: Some(c), ..
        } = e.decode()?
        {
            by_campaign
                .entry((&e.tenant_id, c.id, &e.recorded_at))
                .or_default()
                .push((c.n, &e.aggregate_id));
        }
    }
    for ((tenant, campaign, at), texts) in by_campaign {
        for chunk in texts.chunks(ROWS_AT_ONCE) {
            // ($4, $5) is the first (place, text id).
            let whens: String = (0..chunk.len())
                .map(|i| format!(" WHEN ${} THEN ${}", 4 + 2 * i, 5 + 2 * i))
                .collect();
            let places: Vec<String> = (0..chunk.len())
                .map(|i| format!("${}", 4 + 2 * i))
                .collect();
            let sql = format!(
                "UPDATE messaging_campaign_recipients SET state = 'queued', message_id = CASE n{whens} END, queued_at = $1 \
                 WHERE tenant_id = $2 AND campaign_id = $3 AND state = 'pending' AND n IN ({})",
                places.join(", ")
            );
            let mut update = sqlx::query(&sql).bind(at).bind(tenant).bind(&campaign);
            for (n, id) in chunk {
                update = update.bind(i64::from(*n)).bind(*id);
            }
            update.execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// Rows per statement where a group is written at once: within either database's limit of
/// placeholders.
const ROWS_AT_ONCE: usize = 500;

async fn apply_campaign(
    tx: &mut Transaction<'static, Any>,
    e: &RecordedEvent,
) -> anyhow::Result<()> {
    let state = |state: &'static str| {
        sqlx::query("UPDATE messaging_campaigns SET state = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
            .bind(state)
            .bind(&e.recorded_at)
            .bind(&e.tenant_id)
            .bind(&e.aggregate_id)
    };
    match e.decode::<CampaignEvent>()? {
        CampaignEvent::CampaignDrafted { plan, rule, .. } => {
            sqlx::query(
                "INSERT INTO messaging_campaigns (tenant_id, id, name, kind, state, plan, created_at, updated_at, rule_id) \
                 VALUES ($1, $2, $3, $4, 'draft', $5, $6, $6, $7) ON CONFLICT (tenant_id, id) DO NOTHING",
            )
            .bind(&e.tenant_id)
            .bind(&e.aggregate_id)
            .bind(&plan.name)
            .bind(plan.kind.as_str())
            .bind(serde_json::to_string(&plan)?)
            .bind(&e.recorded_at)
            .bind(rule)
            .execute(&mut **tx)
            .await?;
        }
        CampaignEvent::CampaignLaunched {
            recipients,
            excluded,
        } => {
            sqlx::query(
                "UPDATE messaging_campaigns SET state = 'running', recipients = $1, excluded = $2, \
                 launched_at = $3, updated_at = $3 WHERE tenant_id = $4 AND id = $5",
            )
            .bind(i64::from(recipients))
            .bind(serde_json::to_string(&excluded)?)
            .bind(&e.recorded_at)
            .bind(&e.tenant_id)
            .bind(&e.aggregate_id)
            .execute(&mut **tx)
            .await?;
            crate::sending::start(tx, &e.tenant_id, &e.aggregate_id, &e.event_id).await?;
        }
        CampaignEvent::RecipientsFrozen { first, recipients } => {
            // One statement for the chunk.
            let sql = format!(
                "INSERT INTO messaging_campaign_recipients \
                 (tenant_id, campaign_id, n, case_id, phone, language, time_zone, state) VALUES {} \
                 ON CONFLICT (tenant_id, campaign_id, n) DO NOTHING",
                casewire_eventstore::sql::rows(recipients.len(), 8, 1)
            );
            let sql =
                casewire_eventstore::sql::positional(casewire_eventstore::Backend::of(tx), &sql);
            let mut insert = sqlx::query(&sql);
            for (r, n) in recipients.iter().zip(first..) {
                insert = insert
                    .bind(&e.tenant_id)
                    .bind(&e.aggregate_id)
                    .bind(i64::from(n))
                    .bind(&r.case_id)
                    .bind(&r.phone)
                    .bind(&r.language)
                    .bind(&r.time_zone)
                    .bind("pending");
            }
            insert.execute(&mut **tx).await?;
            // A rule's campaign grows a recipient at a time, as its cases close: counted
            // here, and its sender started. (A launch counted its audience already.)
            let grown = sqlx::query(
                "UPDATE messaging_campaigns SET recipients = $1, updated_at = $2 \
                 WHERE tenant_id = $3 AND id = $4 AND rule_id IS NOT NULL AND recipients < $1",
            )
            .bind(i64::from(first) + recipients.len() as i64)
            .bind(&e.recorded_at)
            .bind(&e.tenant_id)
            .bind(&e.aggregate_id)
            .execute(&mut **tx)
            .await?;
            if grown.rows_affected() > 0 {
                crate::sending::start(tx, &e.tenant_id, &e.aggregate_id, &e.event_id).await?;
            }
        }
        CampaignEvent::RecipientSkipped { n, reason } => {
            sqlx::query(
                "UPDATE messaging_campaign_recipients SET state = 'skipped', reason = $1 \
                 WHERE tenant_id = $2 AND campaign_id = $3 AND n = $4",
            )
            .bind(reason)
            .bind(&e.tenant_id)
            .bind(&e.aggregate_id)
            .bind(i64::from(n))
            .execute(&mut **tx)
            .await?;
        }
        CampaignEvent::CampaignPaused {} => {
            state("paused").execute(&mut **tx).await?;
        }
        CampaignEvent::CampaignResumed {} => {
            state("running").execute(&mut **tx).await?;
            crate::sending::start(tx, &e.tenant_id, &e.aggregate_id, &e.event_id).await?;
        }
        CampaignEvent::CampaignApproved { .. } => {
            state("draft").execute(&mut **tx).await?;
        }
        CampaignEvent::CampaignCancelled {} => {
            state("cancelled").execute(&mut **tx).await?;
        }
        CampaignEvent::CampaignCompleted {} => {
            state("completed").execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// A campaign's row: its state and plan, for the sender and the API.
pub struct CampaignRow {
    pub id: String,
    pub state: String,
    /// The outcome-survey rule whose campaign it is.
    pub rule: Option<String>,
    pub plan: CampaignPlan,
    pub recipients: u32,
    pub created_at: String,
    pub launched_at: Option<String>,
    pub updated_at: String,
}

type Row = (
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
);

fn row(
    (id, state, plan, recipients, created_at, launched_at, updated_at, rule): Row,
) -> anyhow::Result<CampaignRow> {
    Ok(CampaignRow {
        id,
        state,
        rule,
        plan: serde_json::from_str(&plan)?,
        recipients: recipients as u32,
        created_at,
        launched_at,
        updated_at,
    })
}

const COLUMNS: &str = "id, state, plan, recipients, created_at, launched_at, updated_at, rule_id";

/// The numbers of a campaign's audience frozen so far: none, but for a launch that
/// stopped half-way.
pub async fn frozen_phones(
    store: &EventStore,
    tenant: &str,
    id: &str,
) -> anyhow::Result<HashSet<String>> {
    let phones: Vec<(String,)> = sqlx::query_as(
        "SELECT phone FROM messaging_campaign_recipients WHERE tenant_id = $1 AND campaign_id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(store.db().reader())
    .await?;
    Ok(phones.into_iter().map(|(p,)| p).collect())
}

pub async fn find(
    store: &EventStore,
    tenant: &str,
    id: &str,
) -> anyhow::Result<Option<CampaignRow>> {
    let found: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM messaging_campaigns WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(store.db().reader())
    .await?;
    found.map(row).transpose()
}

/// The tenant's campaigns, newest first, at most `limit`, created before `before` when
/// given (the `created_at` of the last one of the page before).
pub async fn list(
    store: &EventStore,
    tenant: &str,
    before: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<CampaignRow>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM messaging_campaigns WHERE tenant_id = $1 AND ($2 = '' OR created_at < $2) \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(tenant)
    .bind(before.unwrap_or_default())
    .bind(limit)
    .fetch_all(store.db().reader())
    .await?;
    rows.into_iter().map(row).collect()
}

/// Where each recipient's text stands now: three statements (the recipients by state, their
/// texts by status, who replied or opted out).
pub async fn counts(store: &EventStore, tenant: &str, c: &CampaignRow) -> anyhow::Result<Counts> {
    let db = store.db().reader();
    let mut counts = Counts {
        recipients: c.recipients,
        ..Counts::default()
    };
    let by_state: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT state, reason, COUNT(*) FROM messaging_campaign_recipients \
         WHERE tenant_id = $1 AND campaign_id = $2 GROUP BY state, reason",
    )
    .bind(tenant)
    .bind(&c.id)
    .fetch_all(db)
    .await?;
    for (state, reason, n) in by_state {
        let n = n as u32;
        match state.as_str() {
            "pending" => counts.pending += n,
            "skipped" => {
                *counts
                    .skipped
                    .entry(reason.unwrap_or_default())
                    .or_default() += n
            }
            _ => {}
        }
    }
    let by_status: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT m.status, m.error_code, COUNT(*) FROM messaging_campaign_recipients r \
         JOIN messaging_messages m ON m.tenant_id = r.tenant_id AND m.id = r.message_id \
         WHERE r.tenant_id = $1 AND r.campaign_id = $2 AND r.state = 'queued' GROUP BY m.status, m.error_code",
    )
    .bind(tenant)
    .bind(&c.id)
    .fetch_all(db)
    .await?;
    let mut failed = BTreeMap::new();
    for (status, code, n) in by_status {
        let n = n as u32;
        match status.as_str() {
            "queued" => counts.queued += n,
            "delivered" | "read" | "partially_delivered" => counts.delivered += n,
            "failed" | "undelivered" | "canceled" | "unknown" => {
                *failed.entry(code.unwrap_or(status)).or_default() += n
            }
            _ => counts.sent += n,
        }
    }
    counts.failed = failed;
    let (replied, opted_out): (i64, i64) = sqlx::query_as(
        "SELECT \
           (SELECT COUNT(*) FROM messaging_campaign_recipients r WHERE r.tenant_id = $1 AND r.campaign_id = $2 \
              AND r.state = 'queued' AND EXISTS (SELECT 1 FROM messaging_messages m WHERE m.tenant_id = r.tenant_id \
              AND m.phone = r.phone AND m.direction = 'inbound' AND m.created_at >= r.queued_at)), \
           (SELECT COUNT(*) FROM messaging_campaign_recipients r JOIN messaging_consents s \
              ON s.tenant_id = r.tenant_id AND s.phone = r.phone \
              WHERE r.tenant_id = $1 AND r.campaign_id = $2 AND s.state = 'revoked')",
    )
    .bind(tenant)
    .bind(&c.id)
    .fetch_one(db)
    .await?;
    counts.replied = replied as u32;
    counts.opted_out = opted_out as u32;
    Ok(counts)
}

/// The campaign as the API shows it: with its estimate while a draft, its counts once
/// launched.
pub async fn view(
    store: &EventStore,
    tenant: &str,
    c: CampaignRow,
) -> anyhow::Result<CampaignView> {
    let (estimate, counts) = if c.state == "draft" {
        (
            Some(crate::sending::estimate(store, tenant, &c.plan).await?),
            None,
        )
    } else {
        (None, Some(counts(store, tenant, &c).await?))
    };
    Ok(CampaignView {
        id: c.id,
        state: c.state,
        plan: c.plan,
        estimate,
        counts,
        created_at: c.created_at,
        launched_at: c.launched_at,
        updated_at: c.updated_at,
    })
}
