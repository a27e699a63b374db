//! The compliance officer's search over clients' texts, and the review rules that flag
//! texts by their words.
//!
//! `audit_texts` holds each text's opened body: the one read model with clients' words in
//! clear, so that they can be searched; it is read by the compliance role only, and a
//! client's rows go when the client is erased. PostgreSQL indexes it with a GIN index over
//! `to_tsvector('simple', body)`; SQLite with an FTS5 table kept in step by triggers
//! (migration 0026). Words are matched whole, all of them, in any order.

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, NewJob, Outcome, Worker};
use casewire_bus::{Of, Projection, Reads};
use casewire_events::message::{MessageEvent, AGGREGATE as MESSAGE};
use casewire_events::review::FlagReason;
use casewire_events::{Metadata, RecordedEvent};
use casewire_eventstore::{Backend, EventStore};
use casewire_tenancy::{ReviewRuleSets, ReviewRules};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::flags::{Flag, FlagCommand, FlagError};

/// The tenants' review rules, as the search index reads them.
pub fn review_rules() -> ReviewRuleSets {
    ReviewRuleSets::new("audit_review_rules", "audit_review_rules")
}

/// The queue of texts whose words the review rules flag.
pub const QUEUE: &str = "review_keywords";

/// The most words a search takes.
pub const MAX_WORDS: usize = 10;

/// Indexes each text's opened body, and queues those the tenant's review rules flag.
pub struct SearchIndex;

#[async_trait]
impl Projection for SearchIndex {
    fn name(&self) -> &'static str {
        "audit_search"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[
            Of::only(MESSAGE, &["OutboundQueued", "InboundReceived"]),
            Of::only(casewire_events::case::ROUTE_AGGREGATE, &["InboundRouted"]),
        ];
        Reads::Only(OF)
    }

    fn feeds(&self) -> &'static [&'static str] {
        &[QUEUE]
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        self.apply_all(tx, store, &[e]).await
    }

    /// A batch in a few statements whatever its size: its texts in one insert (a
    /// thousand at a time), each tenant's rules read once, its flags queued at once, then
    /// its routing. A text is always indexed before its routing names it: both in one
    /// batch, the insert comes first.
    async fn apply_all(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        events: &[&RecordedEvent],
    ) -> anyhow::Result<()> {
        let mut texts: Vec<Text> = Vec::new();
        let mut routed: Vec<(String, String, String)> = Vec::new();
        for e in events {
            if e.aggregate_type == casewire_events::case::ROUTE_AGGREGATE {
                // A client's text filed on a case: searchable by that case from now on.
                if let casewire_events::case::InboundRouteEvent::InboundRouted {
                    message_id,
                    case_id,
                    ..
                } = e.decode()?
                {
                    routed.push((e.tenant_id.clone(), message_id, case_id));
                }
                continue;
            }
            let opened = store.open_payload(&e.tenant_id, &e.payload).await?;
            let (case_id, phone, direction, body) = match serde_json::from_value(opened)? {
                MessageEvent::OutboundQueued {
                    case_id, to, body, ..
                } => (case_id, to, "outbound", body),
                MessageEvent::InboundReceived { from, body, .. } => (None, from, "inbound", body),
                _ => continue,
            };
            // Erased before it was indexed: nothing to search.
            if let Some(body) = body.value() {
                texts.push(Text {
                    event: e,
                    case_id,
                    phone,
                    direction,
                    body: body.clone(),
                });
            }
        }
        for chunk in texts.chunks(ROWS_AT_ONCE) {
            let statement = format!(
                "INSERT INTO audit_texts (tenant_id, message_id, case_id, phone, direction, at, body) \
                 VALUES {} ON CONFLICT (tenant_id, message_id) DO NOTHING",
                casewire_eventstore::sql::rows(chunk.len(), 7, 1)
            );
            let statement = casewire_eventstore::sql::positional(
                casewire_eventstore::Backend::of(tx),
                &statement,
            );
            let mut insert = sqlx::query(&statement);
            for t in chunk {
                insert = insert
                    .bind(&t.event.tenant_id)
                    .bind(&t.event.aggregate_id)
                    .bind(&t.case_id)
                    .bind(&t.phone)
                    .bind(t.direction)
                    .bind(&t.event.recorded_at)
                    .bind(&t.body);
            }
            insert.execute(&mut **tx).await?;
        }
        self.flag(tx, &texts).await?;
        for (tenant, message_id, case_id) in routed {
            sqlx::query(
                "UPDATE audit_texts SET case_id = $1 WHERE tenant_id = $2 AND message_id = $3",
            )
            .bind(case_id)
            .bind(tenant)
            .bind(message_id)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

/// Rows of one statement: seven values a text, well under SQLite's 32,766 parameters.
const ROWS_AT_ONCE: usize = 1000;

/// A text of a batch, opened, for the index.
struct Text<'a> {
    event: &'a RecordedEvent,
    case_id: Option<String>,
    phone: String,
    direction: &'static str,
    body: String,
}

impl SearchIndex {
    /// Queues a keyword flag for each text whose tenant's review rules it matches; each
    /// tenant's rules read once.
    async fn flag(
        &self,
        tx: &mut Transaction<'static, Any>,
        texts: &[Text<'_>],
    ) -> anyhow::Result<()> {
        let mut rules: std::collections::HashMap<&str, Option<ReviewRules>> =
            std::collections::HashMap::new();
        let mut flags: Vec<(&str, &str, String)> = Vec::new();
        for t in texts {
            let tenant = t.event.tenant_id.as_str();
            if !rules.contains_key(tenant) {
                let row: Option<(String,)> =
                    sqlx::query_as("SELECT settings FROM audit_review_rules WHERE tenant_id = $1")
                        .bind(tenant)
                        .fetch_optional(&mut **tx)
                        .await?;
                let parsed = row.map(|(r,)| serde_json::from_str(&r)).transpose()?;
                rules.insert(tenant, parsed);
            }
            let Some(Some(rules)) = rules.get(tenant) else {
                continue;
            };
            let keywords = rules.matches(&t.body);
            if !keywords.is_empty() {
                let flag = KeywordFlag {
                    message_id: t.event.aggregate_id.clone(),
                    case_id: t.case_id.clone(),
                    keywords,
                    cause: t.event.event_id.clone(),
                };
                flags.push((tenant, &t.event.aggregate_id, serde_json::to_string(&flag)?));
            }
        }
        let now = casewire_events::utc_now();
        let jobs: Vec<NewJob> = flags
            .iter()
            .map(|(tenant, id, payload)| NewJob {
                tenant,
                id,
                payload: payload.clone(),
                due_at: now,
                behind: false,
            })
            .collect();
        jobs::enqueue_all(tx, QUEUE, &jobs).await
    }
}

/// A text the review rules flag, queued for [`KeywordFlagger`].
#[derive(Serialize, Deserialize)]
struct KeywordFlag {
    message_id: String,
    case_id: Option<String>,
    keywords: Vec<String>,
    /// The text's event that held the words.
    cause: String,
}

/// Raises the review rules' flags: one per text, named `keyword:<message id>`, by
/// `system`, caused by the text's event.
pub struct KeywordFlagger;

#[async_trait]
impl Worker for KeywordFlagger {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let flag: KeywordFlag = serde_json::from_value(job.payload.clone())?;
        let metadata = Metadata::system(Some(&flag.cause));
        let raise = FlagCommand::Raise {
            message_id: flag.message_id.clone(),
            case_id: flag.case_id,
            reason: FlagReason::Keyword,
            note: None,
            keywords: flag.keywords,
        };
        let raised = casewire_eventstore::framework::<Flag>(store, &job.tenant_id, ())
            .execute_with_metadata(
                &format!("keyword:{}", flag.message_id),
                raise,
                metadata.into_map(),
            )
            .await;
        match raised {
            Ok(()) | Err(cqrs_es::AggregateError::UserError(FlagError::AlreadyRaised)) => {
                Ok(Outcome::Done)
            }
            Err(e) => Err(anyhow::anyhow!("raising a keyword flag: {e}")),
        }
    }
}

/// What a search asks for.
#[derive(Debug, Default)]
pub struct Search {
    pub words: Vec<String>,
    pub case_id: Option<String>,
    /// RFC 3339 instants, in the log's format.
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: i64,
}

/// A text a search found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Found {
    pub message_id: String,
    pub case_id: Option<String>,
    pub phone: String,
    /// inbound or outbound.
    pub direction: String,
    pub at: String,
    pub body: String,
}

/// The words of a search (letters and digits, lowercased), or what is wrong with it.
pub fn words(q: &str) -> Result<Vec<String>, String> {
    let words = casewire_tenancy::words(q);
    if words.is_empty() {
        return Err("q: give at least one word to find".into());
    }
    if words.len() > MAX_WORDS || q.chars().count() > 200 {
        return Err(format!("q: at most {MAX_WORDS} words and 200 characters"));
    }
    Ok(words)
}

/// The tenant's texts holding every word, newest first.
pub async fn search(store: &EventStore, tenant: &str, s: &Search) -> anyhow::Result<Vec<Found>> {
    let mut binds: Vec<String> = vec![tenant.to_string()];
    let mut bind = |v: String| {
        binds.push(v);
        format!("${}", binds.len())
    };
    let mut conditions = String::new();
    if let Some(case) = &s.case_id {
        conditions.push_str(&format!(" AND t.case_id = {}", bind(case.clone())));
    }
    if let Some(from) = &s.from {
        conditions.push_str(&format!(" AND t.at >= {}", bind(from.clone())));
    }
    if let Some(to) = &s.to {
        conditions.push_str(&format!(" AND t.at < {}", bind(to.clone())));
    }
    let columns = "t.message_id, t.case_id, t.phone, t.direction, t.at, t.body";
    let limit = s.limit.clamp(1, 100);
    let statement = match store.db().backend() {
        Backend::Postgres => format!(
            "SELECT {columns} FROM audit_texts t WHERE t.tenant_id = $1 \
             AND to_tsvector('simple', t.body) @@ plainto_tsquery('simple', {}){conditions} \
             ORDER BY t.at DESC, t.message_id LIMIT {limit}",
            bind(s.words.join(" "))
        ),
        // FTS5 has no statistics to choose between its index and the newest texts, so the
        // choice is made here. Each word is quoted: FTS5's own syntax is never taken from
        // the officer's input.
        Backend::Sqlite => {
            let words = bind(
                s.words
                    .iter()
                    .map(|w| format!("\"{w}\""))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            if s.case_id.is_some() {
                // A case's texts are few: each is asked whether it holds the words.
                format!(
                    "SELECT {columns} FROM audit_texts t WHERE t.tenant_id = $1{conditions} \
                     AND EXISTS (SELECT 1 FROM audit_texts_fts f WHERE f.rowid = t.rowid \
                     AND audit_texts_fts MATCH {words}) ORDER BY t.at DESC, t.message_id LIMIT {limit}"
                )
            } else {
                // The word index read newest first, stopping at a full page: texts are
                // indexed in the log's order, so the newest rowid is the newest text (a
                // common word's 250,000 matches took 230 ms to gather and sort by time).
                format!(
                    "SELECT {columns} FROM audit_texts_fts f CROSS JOIN audit_texts t \
                     ON t.rowid = f.rowid WHERE t.tenant_id = $1 \
                     AND audit_texts_fts MATCH {words}{conditions} ORDER BY f.rowid DESC LIMIT {limit}"
                )
            }
        }
    };
    // Planned for its own words each time, not once for any: a rare word is best found
    // through the word index, a common one by reading the newest texts until the page is
    // full, and only the words tell which (a cached, generic plan took 3 s for a rare word
    // over 1,000,000 texts).
    let mut query =
        sqlx::query_as::<_, (String, Option<String>, String, String, String, String)>(&statement)
            .persistent(false);
    for b in binds {
        query = query.bind(b);
    }
    Ok(query
        .fetch_all(store.db().reader())
        .await?
        .into_iter()
        .map(|(message_id, case_id, phone, direction, at, body)| Found {
            message_id,
            case_id,
            phone,
            direction,
            at,
            body,
        })
        .collect())
}

/// Drops a client's texts from the index (erasure).
pub async fn forget(
    tx: &mut Transaction<'static, Any>,
    tenant: &str,
    phone: &str,
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM audit_texts WHERE tenant_id = $1 AND phone = $2")
        .bind(tenant)
        .bind(phone)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_search_is_one_to_ten_words() {
        assert_eq!(
            super::words("Lease, EVICTION!").unwrap(),
            ["lease", "eviction"]
        );
        assert!(super::words("  ?! ").unwrap_err().starts_with("q: give"));
        assert!(super::words(&"w ".repeat(11)).is_err());
    }
}
