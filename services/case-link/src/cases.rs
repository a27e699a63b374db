//! case-link's read model of cases: the phone to route by, the status, when it last texted.

use std::collections::BTreeMap;

use async_trait::async_trait;
use casewire_bus::{Of, Projection, Reads};
use casewire_contract::audience::{CaseFacts, Filter, StatusFilter};
use casewire_events::case::{CaseDetails, CaseEvent};
use casewire_events::message::MessageEvent;
use casewire_events::RecordedEvent;
use casewire_eventstore::EventStore;
use sqlx::{Any, Transaction};

pub struct Cases;

#[async_trait]
impl Projection for Cases {
    fn name(&self) -> &'static str {
        "caselink_cases"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[
            Of::all(casewire_events::case::AGGREGATE),
            Of::only(casewire_events::message::AGGREGATE, &["OutboundQueued"]),
        ];
        Reads::Only(OF)
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        if e.aggregate_type == casewire_events::case::AGGREGATE {
            let (CaseEvent::CaseLinked { details } | CaseEvent::CaseUpdated { details }) =
                e.decode()?;
            let sealed = e
                .sealed_at(&format!("/{}/details", e.event_type))
                .unwrap_or_default();
            sqlx::query(
                "INSERT INTO caselink_cases (tenant_id, case_id, phone, status, details, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (tenant_id, case_id) DO UPDATE SET \
                 phone = excluded.phone, status = excluded.status, details = excluded.details, updated_at = excluded.updated_at",
            )
            .bind(&e.tenant_id)
            .bind(&e.aggregate_id)
            .bind(&details.client.phone)
            .bind(details.status.as_str())
            .bind(sealed)
            .bind(&e.recorded_at)
            .execute(&mut **tx)
            .await?;
        } else {
            texted(tx, &[e]).await?;
        }
        Ok(())
    }

    /// A batch's texts mark their cases in one statement per moment, after its case events
    /// (which never touch `last_texted_at`, and come before any text of their case).
    async fn apply_all(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        events: &[&RecordedEvent],
    ) -> anyhow::Result<()> {
        let (texts, cases): (Vec<&RecordedEvent>, Vec<&RecordedEvent>) = events
            .iter()
            .partition(|e| e.aggregate_type == casewire_events::message::AGGREGATE);
        casewire_bus::apply_each(self, tx, store, &cases).await?;
        texted(tx, &texts).await
    }
}

/// Marks when each text's case was last texted: a statement per tenant and moment, the
/// later moments last.
async fn texted(
    tx: &mut Transaction<'static, Any>,
    events: &[&RecordedEvent],
) -> anyhow::Result<()> {
    let mut by_moment: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.event_type == "OutboundQueued") {
        if let MessageEvent::OutboundQueued {
            case_id: Some(case_id),
            ..
        } = e.decode()?
        {
            by_moment
                .entry((&e.tenant_id, &e.recorded_at))
                .or_default()
                .push(case_id);
        }
    }
    for ((tenant, at), cases) in by_moment {
        for chunk in cases.chunks(500) {
            let sql = format!(
                "UPDATE caselink_cases SET last_texted_at = $1 WHERE tenant_id = $2 AND case_id IN ({})",
                casewire_eventstore::sql::list(chunk.len(), 3)
            );
            let sql =
                casewire_eventstore::sql::positional(casewire_eventstore::Backend::of(tx), &sql);
            let mut update = sqlx::query(&sql).bind(at).bind(tenant);
            for case_id in chunk {
                update = update.bind(case_id);
            }
            update.execute(&mut **tx).await?;
        }
    }
    Ok(())
}

pub use casewire_contract::case_link::{CaseView, ClientView};

/// A case's row as the read model keeps it: `(details, created_at, updated_at,
/// last_texted_at)`, the details with the client's name still sealed.
type Row = (String, String, String, Option<String>);

/// One case of a tenant, with the client's name opened.
pub async fn find(
    store: &EventStore,
    tenant: &str,
    case_id: &str,
) -> anyhow::Result<Option<CaseView>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT details, created_at, updated_at, last_texted_at FROM caselink_cases WHERE tenant_id = $1 AND case_id = $2",
    )
    .bind(tenant)
    .bind(case_id)
    .fetch_optional(store.db().reader())
    .await?;
    match row {
        Some(row) => Ok(Some(view(store, tenant, case_id, row).await?)),
        None => Ok(None),
    }
}

/// How many rows a list reads at a time while it looks for a page of matching cases.
const SCAN: i64 = 500;

/// A page of the tenant's cases that `filter` admits, in the order of their ids, from the
/// first id after `after`: at most `limit`. The filter reads each row's details as stored
/// (it never opens a name); only the cases on the page are opened.
pub async fn list(
    store: &EventStore,
    tenant: &str,
    filter: &Filter,
    after: &str,
    limit: usize,
) -> anyhow::Result<Vec<CaseView>> {
    let status = match filter.status {
        Some(StatusFilter::Open) => "open",
        Some(StatusFilter::Closed) => "closed",
        None | Some(StatusFilter::Any) => "",
    };
    let mut page = Vec::new();
    let mut from = after.to_string();
    loop {
        let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT case_id, details, created_at, updated_at, last_texted_at FROM caselink_cases \
             WHERE tenant_id = $1 AND case_id > $2 AND ($3 = '' OR status = $3) ORDER BY case_id LIMIT $4",
        )
        .bind(tenant)
        .bind(&from)
        .bind(status)
        .bind(SCAN)
        .fetch_all(store.db().reader())
        .await?;
        let scanned = rows.len() as i64;
        for (case_id, details, created_at, updated_at, last_texted_at) in rows {
            from.clone_from(&case_id);
            let facts: CaseFacts = serde_json::from_str(&details)?;
            if filter.admits(&case_id, &facts) {
                let row = (details, created_at, updated_at, last_texted_at);
                page.push(view(store, tenant, &case_id, row).await?);
                if page.len() == limit {
                    return Ok(page);
                }
            }
        }
        if scanned < SCAN {
            return Ok(page);
        }
    }
}

async fn view(
    store: &EventStore,
    tenant: &str,
    case_id: &str,
    (sealed, created_at, updated_at, last_texted_at): Row,
) -> anyhow::Result<CaseView> {
    let d: CaseDetails = serde_json::from_value(store.open_payload(tenant, &sealed).await?)?;
    Ok(CaseView {
        id: case_id.to_string(),
        client: ClientView {
            name: d.client.name.value().cloned(),
            phone: d.client.phone,
            language: d.client.language,
        },
        status: d.status.as_str().to_string(),
        problem_code: d.problem_code,
        office: d.office,
        advocates: d.advocates,
        time_zone: d.time_zone,
        opened_at: d.opened_at,
        closed_at: d.closed_at,
        created_at,
        updated_at,
        last_texted_at,
    })
}
