//! What texting costs: a tenant's texts, segments and price by month and purpose, read
//! from the messages as the projection keeps them.

use casewire_contract::messaging::UsageRow;
use casewire_eventstore::EventStore;

/// The tenant's usage from the start of `from` ("2026-01") on, newest month first: one
/// statement. An outbound text counts once Twilio took it (it has Twilio's id): one that
/// was refused, or waits for quiet hours to end, costs nothing yet.
pub async fn by_month(
    store: &EventStore,
    tenant: &str,
    from: &str,
) -> anyhow::Result<Vec<UsageRow>> {
    let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT substr(created_at, 1, 7), COALESCE(purpose, 'inbound'), COUNT(*), \
           CAST(SUM(segments) AS BIGINT), CAST(SUM(price_micros) AS BIGINT) \
         FROM messaging_messages \
         WHERE tenant_id = $1 AND created_at >= $2 \
           AND (direction = 'inbound' OR provider_sid IS NOT NULL) \
         GROUP BY 1, 2 ORDER BY 1 DESC, 2",
    )
    .bind(tenant)
    .bind(from)
    .fetch_all(store.db().reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(month, purpose, texts, segments, micros)| UsageRow {
            month,
            purpose,
            texts: texts as u64,
            segments: segments as u64,
            cost_usd: micros as f64 / 1e6,
        })
        .collect())
}
