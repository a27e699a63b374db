//! What a text asks before it goes, in one place for the advocate's send, the dispatcher's
//! second look at a text held by quiet hours, and the reminder scheduler: consent's answer,
//! the end of the client's quiet hours, and the tenant's price.

use casewire_events::message::Purpose;
use casewire_eventstore::EventStore;
use casewire_tenancy::{ConsentAnswer, Policy};
use chrono::{DateTime, Utc};

/// The tenant's texting policy: read once for a text, then asked by [`consent`] and
/// [`release`].
pub(crate) async fn policy(store: &EventStore, tenant: &str) -> anyhow::Result<Policy> {
    Ok(crate::policies()
        .get(store, tenant)
        .await?
        .unwrap_or_default())
}

/// Whether a text for `purpose` may go to `phone`: the number's consent as messaging's
/// reader has applied it (consents.rs), by the tenant's policy. A STOP that consent recorded
/// a moment ago and the reader has not applied yet is not seen: callers that must see it
/// catch the reader up first.
pub(crate) async fn consent(
    store: &EventStore,
    tenant: &str,
    policy: &Policy,
    phone: &str,
    purpose: Purpose,
) -> anyhow::Result<ConsentAnswer> {
    let state = crate::consents::state(store, tenant, phone).await?;
    Ok(policy.answer(purpose, state, phone))
}

/// The zone a client's local times are in: `own` (the appointment's or the case's), else
/// the tenant's, else New York (a tenant always has one; the fallback is for safety).
pub(crate) async fn zone(
    store: &EventStore,
    tenant: &str,
    own: Option<&str>,
) -> anyhow::Result<chrono_tz::Tz> {
    if let Some(z) = own.and_then(|z| z.parse().ok()) {
        return Ok(z);
    }
    let tenant_zone: Option<(String,)> =
        sqlx::query_as("SELECT timezone FROM messaging_tenants WHERE id = $1")
            .bind(tenant)
            .fetch_optional(store.db().reader())
            .await?;
    Ok(tenant_zone
        .and_then(|(z,)| z.parse().ok())
        .unwrap_or(chrono_tz::America::New_York))
}

/// When the tenant's quiet hours let a text for `purpose` go, now, to someone in the zone
/// `own` (else the tenant's): `None` at once.
pub(crate) async fn release(
    store: &EventStore,
    tenant: &str,
    policy: &Policy,
    own: Option<&str>,
    purpose: Purpose,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    if !policy.holds(purpose) {
        return Ok(None); // no need to know where the client is
    }
    let zone = zone(store, tenant, own).await?;
    Ok(policy.release(purpose, casewire_events::utc_now(), zone))
}

/// The tenant's price per segment in micro-dollars, or `None` when it set no provider.
pub(crate) async fn price(store: &EventStore, tenant: &str) -> anyhow::Result<Option<u64>> {
    Ok(crate::providers()
        .get(store, tenant)
        .await?
        .map(|s| s.price_per_segment_micros))
}
