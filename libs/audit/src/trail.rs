//! Reading the trail a page at a time, filtered through [`crate::AuditIndex`]: events
//! oldest first, exactly as stored and hashed.

use casewire_events::review::TrailFilter;
use casewire_events::RecordedEvent;
use casewire_eventstore::{event_columns, event_from_row, EventStore, StoreError};

/// The most events one page holds.
pub const MAX_PAGE: i64 = 1000;

/// A filter that was checked: its instants are in the log's own format, so that they
/// compare with `recorded_at` as text.
#[derive(Debug)]
pub struct Query {
    pub filter: TrailFilter,
    from: Option<String>,
    to: Option<String>,
}

impl Query {
    /// `from`, in the log's format.
    pub fn from(&self) -> Option<&str> {
        self.from.as_deref()
    }

    /// `to`, in the log's format.
    pub fn to(&self) -> Option<&str> {
        self.to.as_deref()
    }
}

/// Checks a filter, and says what is wrong with it.
pub fn query(filter: TrailFilter) -> Result<Query, String> {
    let instant = |what: &str, v: &Option<String>| -> Result<Option<String>, String> {
        v.as_deref()
            .map(|v| {
                chrono::DateTime::parse_from_rfc3339(v)
                    .map(|t| casewire_events::timestamp(t.with_timezone(&chrono::Utc)))
                    .map_err(|_| format!("{what} must be an RFC 3339 instant such as 2026-11-02T09:00:00Z, not {v:?}"))
            })
            .transpose()
    };
    if filter.after_seq.is_some_and(|s| s < 0) {
        return Err("after_seq counts from 0".into());
    }
    for (what, v) in [
        ("case_id", &filter.case_id),
        ("advocate", &filter.advocate),
        ("type", &filter.event_type),
    ] {
        if v.as_deref().is_some_and(|v| v.is_empty() || v.len() > 128) {
            return Err(format!("{what} must be 1 to 128 characters"));
        }
    }
    if let Some(phone) = &filter.phone {
        if !(phone.starts_with('+')
            && (8..=16).contains(&phone.len())
            && phone[1..].bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!(
                "phone must be a number in E.164 form, such as +13125550100, not {phone:?}"
            ));
        }
    }
    Ok(Query {
        from: instant("from", &filter.from)?,
        to: instant("to", &filter.to)?,
        filter,
    })
}

/// Up to `limit` events of the tenant's trail that the query picks, after its `after_seq`,
/// oldest first. A case, a number or a person is looked up in the index and joined to the
/// log by its keys; a type or a time is a condition on the log's own indexes.
pub async fn read(
    store: &EventStore,
    tenant: &str,
    q: &Query,
    limit: i64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let f = &q.filter;
    let mut binds: Vec<String> = vec![tenant.to_string()];
    let mut bind = |v: &str| {
        binds.push(v.to_string());
        format!("${}", binds.len())
    };
    let mut joins = String::new();
    let mut conditions = String::new();
    for (kind, value) in [("case", &f.case_id), ("phone", &f.phone)] {
        if let Some(value) = value {
            let (k, v) = (bind(kind), bind(value));
            joins.push_str(&format!(
                " JOIN audit_links l_{kind} ON l_{kind}.tenant_id = e.tenant_id AND l_{kind}.kind = {k} \
                 AND l_{kind}.value = {v} AND l_{kind}.aggregate_type = e.aggregate_type \
                 AND l_{kind}.aggregate_id = e.aggregate_id"
            ));
        }
    }
    if let Some(person) = &f.advocate {
        let p = bind(person);
        joins.push_str(&format!(
            " JOIN audit_people p ON p.tenant_id = e.tenant_id AND p.person = {p} AND p.seq = e.tenant_seq"
        ));
    }
    if let Some(t) = &f.event_type {
        conditions.push_str(&format!(" AND e.event_type = {}", bind(t)));
    }
    if let Some(from) = &q.from {
        conditions.push_str(&format!(" AND e.recorded_at >= {}", bind(from)));
    }
    if let Some(to) = &q.to {
        conditions.push_str(&format!(" AND e.recorded_at < {}", bind(to)));
    }
    let n = binds.len();
    let statement = format!(
        "SELECT {} FROM events e{joins} WHERE e.tenant_id = $1 AND e.tenant_seq > ${}{conditions} \
         ORDER BY e.tenant_seq LIMIT ${}",
        event_columns("e"),
        n + 1,
        n + 2
    );
    let mut query = sqlx::query(&statement);
    for b in binds {
        query = query.bind(b);
    }
    query
        .bind(f.after_seq.unwrap_or(0))
        .bind(limit)
        .fetch_all(store.db().reader())
        .await?
        .iter()
        .map(event_from_row)
        .collect()
}

/// Everything that happened on a case, oldest first, a page at a time: the events of every
/// aggregate that names the case (the case, its texts with every step, routing,
/// reminders), and the consent of its client's number.
pub async fn timeline(
    store: &EventStore,
    tenant: &str,
    case_id: &str,
    phone: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let statement = format!(
        "SELECT {} FROM audit_links l JOIN events e ON e.tenant_id = l.tenant_id \
         AND e.aggregate_type = l.aggregate_type AND e.aggregate_id = l.aggregate_id \
         WHERE l.tenant_id = $1 AND ((l.kind = 'case' AND l.value = $2) \
         OR (l.kind = 'phone' AND l.value = $3 AND l.aggregate_type = $4)) \
         AND e.tenant_seq > $5 ORDER BY e.tenant_seq LIMIT $6",
        event_columns("e")
    );
    sqlx::query(&statement)
        .bind(tenant)
        .bind(case_id)
        .bind(phone)
        .bind(casewire_events::consent::AGGREGATE)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(store.db().reader())
        .await?
        .iter()
        .map(event_from_row)
        .collect()
}

/// Whether each of `events` hashes to the hash the trail records for it, and links to the
/// one before it where their seqs follow: the first that does not, by seq.
pub fn rows_hold(events: &[RecordedEvent]) -> Result<(), i64> {
    let mut before: Option<&RecordedEvent> = None;
    for e in events {
        let mut prev = [0u8; 32];
        let linked = hex::decode_to_slice(&e.prev_hash, &mut prev).is_ok()
            && before.is_none_or(|b| b.tenant_seq + 1 != e.tenant_seq || b.hash == e.prev_hash);
        if !linked
            || casewire_eventstore::chain::to_hex(&casewire_eventstore::chain::event_hash(&prev, e))
                != e.hash
        {
            return Err(e.tenant_seq);
        }
        before = Some(e);
    }
    Ok(())
}

/// The seq of the tenant's first checkpoint at or after `seq`, and when it was signed.
pub async fn checkpoint_after(
    store: &EventStore,
    tenant: &str,
    seq: i64,
) -> Result<Option<(i64, String)>, StoreError> {
    let (found,): (Option<i64>,) = sqlx::query_as(
        "SELECT MIN(CAST(aggregate_id AS BIGINT)) FROM events WHERE tenant_id = $1 \
         AND event_type = 'CheckpointSigned' AND CAST(aggregate_id AS BIGINT) >= $2",
    )
    .bind(tenant)
    .bind(seq)
    .fetch_one(store.db().reader())
    .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    let signed: Option<(String,)> = sqlx::query_as(
        "SELECT recorded_at FROM events WHERE tenant_id = $1 AND aggregate_type = 'checkpoint' \
         AND aggregate_id = $2",
    )
    .bind(tenant)
    .bind(found.to_string())
    .fetch_optional(store.db().reader())
    .await?;
    Ok(signed.map(|(at,)| (found, at)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_says_what_is_wrong_with_it() {
        let bad = |f: TrailFilter| query(f).unwrap_err();
        assert!(bad(TrailFilter {
            from: Some("yesterday".into()),
            ..Default::default()
        })
        .starts_with("from must be"));
        assert!(bad(TrailFilter {
            phone: Some("312 555".into()),
            ..Default::default()
        })
        .starts_with("phone must be"));
        assert!(bad(TrailFilter {
            after_seq: Some(-1),
            ..Default::default()
        })
        .starts_with("after_seq"));
        assert!(bad(TrailFilter {
            case_id: Some(String::new()),
            ..Default::default()
        })
        .starts_with("case_id"));
        let q = query(TrailFilter {
            from: Some("2026-11-02T09:00:00-06:00".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            q.from.as_deref(),
            Some("2026-11-02T15:00:00.000000Z"),
            "in the log's own format"
        );
    }
}
