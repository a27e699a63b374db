//! What a text asks before it goes, in one place for the advocate's send, the dispatcher's
//! second look, and the reminder scheduler: consent's answer, the end of the client's quiet
//! hours, and the tenant's price. [`facts`] gathers what they need in one statement; the
//! answers are pure functions of those facts.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::message::Price;
use casewire_events::consent::State;
use casewire_events::message::Purpose;
use casewire_eventstore::EventStore;
use casewire_tenancy::{ConsentAnswer, Policies, Policy, SmsProviders, SmsSettings};
use chrono::{DateTime, Utc};

/// A tenant's and a number's facts as messaging's read models hold them.
#[derive(Clone)]
pub(crate) struct Facts {
    pub policy: Policy,
    /// `None` when the tenant set no SMS provider.
    pub provider: Option<SmsSettings>,
    /// The number's consent, as messaging's reader has applied it (consents.rs). A STOP
    /// recorded a moment ago and not applied yet is not seen: callers that must see it catch
    /// the reader up first.
    pub consent: State,
    tenant_zone: Option<String>,
    /// Why the provider refuses the tenant's credentials, while it does (refusals.rs).
    pub refused: Option<String>,
}

/// The facts for a text to `phone`, in one statement.
pub(crate) async fn facts(store: &EventStore, tenant: &str, phone: &str) -> anyhow::Result<Facts> {
    static BY_PHONE: LazyLock<String> = LazyLock::new(|| format!("SELECT {}", gathered("$2")));
    let (policy, provider, consent, tenant_zone, refused) = sqlx::query_as(&BY_PHONE)
        .bind(tenant)
        .bind(phone)
        .fetch_one(store.db().reader())
        .await?;
    open(
        store,
        tenant,
        policy,
        provider,
        consent,
        tenant_zone,
        refused,
    )
    .await
}

/// [`facts`] for many numbers of one tenant, by number, in two statements: the tenant's
/// facts, then the numbers' consents.
pub(crate) async fn facts_for_numbers(
    store: &EventStore,
    tenant: &str,
    phones: &[&str],
) -> anyhow::Result<HashMap<String, Facts>> {
    let facts = facts(store, tenant, "").await?;
    let consents = consents(store, tenant, phones).await?;
    Ok(phones
        .iter()
        .map(|phone| {
            let consent = consents.get(*phone).copied().unwrap_or_default();
            let facts = Facts {
                consent,
                ..facts.clone()
            };
            (phone.to_string(), facts)
        })
        .collect())
}

/// The consent of each of `phones` (a number with none recorded is left out), in a
/// statement per 500.
pub(crate) async fn consents(
    store: &EventStore,
    tenant: &str,
    phones: &[&str],
) -> anyhow::Result<HashMap<String, State>> {
    let mut out = HashMap::new();
    for phones in phones.chunks(500) {
        let sql = format!(
            "SELECT phone, state FROM messaging_consents WHERE tenant_id = $1 AND phone IN ({})",
            casewire_eventstore::sql::list(phones.len(), 2)
        );
        let sql = casewire_eventstore::sql::positional(store.db().backend(), &sql);
        let mut query = sqlx::query_as::<_, (String, String)>(&sql).bind(tenant);
        for phone in phones {
            query = query.bind(*phone);
        }
        for (phone, state) in query.fetch_all(store.db().reader()).await? {
            if let Some(state) = State::named(&state) {
                out.insert(phone, state);
            }
        }
    }
    Ok(out)
}

/// A case's client, with the facts for a text to them, in one statement: (the number, the
/// client's own time zone when the case has one, the facts). `None` for a case messaging
/// does not know.
pub(crate) async fn facts_for_case(
    store: &EventStore,
    tenant: &str,
    case_id: &str,
) -> anyhow::Result<Option<(String, Option<String>, Facts)>> {
    static BY_CASE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT c.phone, c.time_zone, {} FROM messaging_cases c \
             WHERE c.tenant_id = $1 AND c.case_id = $2",
            gathered("c.phone")
        )
    });
    let row: Option<CaseRow> = sqlx::query_as(&BY_CASE)
        .bind(tenant)
        .bind(case_id)
        .fetch_optional(store.db().reader())
        .await?;
    let Some((phone, own_zone, policy, provider, consent, tenant_zone, refused)) = row else {
        return Ok(None);
    };
    let facts = open(
        store,
        tenant,
        policy,
        provider,
        consent,
        tenant_zone,
        refused,
    )
    .await?;
    Ok(Some((phone, own_zone, facts)))
}

/// The facts from the columns of [`gathered`], sealed settings opened.
async fn open(
    store: &EventStore,
    tenant: &str,
    policy: Option<String>,
    provider: Option<String>,
    consent: Option<String>,
    tenant_zone: Option<String>,
    refused: Option<String>,
) -> anyhow::Result<Facts> {
    Ok(Facts {
        policy: Policies::open(store, tenant, policy)
            .await?
            .unwrap_or_default(),
        provider: SmsProviders::open(store, tenant, provider).await?,
        consent: consent.and_then(|s| State::named(&s)).unwrap_or_default(),
        tenant_zone,
        refused,
    })
}

type CaseRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The columns of the tenant's facts and the number's consent, `phone` naming the number.
fn gathered(phone: &str) -> String {
    format!(
        "(SELECT settings FROM messaging_policies WHERE tenant_id = $1), \
         (SELECT settings FROM messaging_sms_providers WHERE tenant_id = $1), \
         (SELECT state FROM messaging_consents WHERE tenant_id = $1 AND phone = {phone}), \
         (SELECT timezone FROM messaging_tenants WHERE id = $1), \
         (SELECT reason FROM messaging_sms_refusals WHERE tenant_id = $1)"
    )
}

impl Facts {
    /// Whether a text for `purpose` may go to `phone`, by the tenant's policy.
    pub fn consent(&self, purpose: Purpose, phone: &str) -> ConsentAnswer {
        self.policy.answer(purpose, self.consent, phone)
    }

    /// When quiet hours let a text for `purpose` go, now, to someone in the zone `own`
    /// (else the tenant's): `None` at once.
    pub fn release(&self, purpose: Purpose, own: Option<&str>) -> Option<DateTime<Utc>> {
        if !self.policy.holds(purpose) {
            return None;
        }
        let zone = resolve_zone(own, self.tenant_zone.as_deref());
        self.policy
            .release(purpose, casewire_events::utc_now(), zone)
    }

    /// How long the provider may hold a text for `purpose` sent now before it must drop
    /// it (`Policy::valid_for`), to someone in the zone `own` (else the tenant's).
    pub fn valid_for(&self, purpose: Purpose, own: Option<&str>) -> u32 {
        let zone = resolve_zone(own, self.tenant_zone.as_deref());
        self.policy
            .valid_for(purpose, casewire_events::utc_now(), zone)
    }

    /// The tenant's prices, or `None` when it set no provider.
    pub fn price(&self) -> Option<Price> {
        self.provider.as_ref().map(Price::of)
    }
}

/// The zone a client's local times are in: `own` (the appointment's or the case's), else
/// the tenant's, else New York (a tenant always has one; the fallback is for safety).
fn resolve_zone(own: Option<&str>, tenant: Option<&str>) -> chrono_tz::Tz {
    [own, tenant]
        .into_iter()
        .flatten()
        .find_map(|z| z.parse().ok())
        .unwrap_or(chrono_tz::America::New_York)
}

/// [`resolve_zone`] for a caller that needs only the zone (an appointment's times).
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
    Ok(resolve_zone(
        None,
        tenant_zone.as_ref().map(|(z,)| z.as_str()),
    ))
}

/// The tenant's prices, or `None` when it set no provider.
pub(crate) async fn price(store: &EventStore, tenant: &str) -> anyhow::Result<Option<Price>> {
    Ok(crate::providers()
        .get(store, tenant)
        .await?
        .as_ref()
        .map(Price::of))
}
