use async_trait::async_trait;
use casewire_bus::{Of, Projection, Reads};
use casewire_events::RecordedEvent;
use casewire_eventstore::EventStore;
use cqrs_es::Aggregate;
use sqlx::{Any, Transaction};

use crate::{Tenant, TenantEvent};

/// Tenants' events are few: their projections read them all and pick.
const TENANT_EVENTS: Reads = Reads::Only(&[Of::all(Tenant::TYPE)]);

fn tenant_event(e: &RecordedEvent) -> anyhow::Result<Option<TenantEvent>> {
    if e.aggregate_type != Tenant::TYPE {
        return Ok(None);
    }
    Ok(Some(e.decode()?))
}

/// A service's own directory of tenants (id, name, time zone), in its own table.
pub struct TenantDirectory {
    name: &'static str,
    insert: String,
}

impl TenantDirectory {
    /// `table` has columns (id, name, timezone, created_at); `name` names the cursor.
    pub fn new(name: &'static str, table: &'static str) -> Self {
        TenantDirectory {
            name,
            insert: format!(
                "INSERT INTO {table} (id, name, timezone, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING"
            ),
        }
    }
}

#[async_trait]
impl Projection for TenantDirectory {
    fn name(&self) -> &'static str {
        self.name
    }

    fn reads(&self) -> Reads {
        TENANT_EVENTS
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        if let Some(TenantEvent::TenantCreated { name, timezone }) = tenant_event(e)? {
            sqlx::query(&self.insert)
                .bind(&e.tenant_id)
                .bind(name)
                .bind(timezone)
                .bind(&e.recorded_at)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

/// The gateway's table of API keys, by which it authenticates every request.
pub struct ApiKeys;

#[async_trait]
impl Projection for ApiKeys {
    fn name(&self) -> &'static str {
        "gateway_api_keys"
    }

    fn reads(&self) -> Reads {
        TENANT_EVENTS
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        match tenant_event(e)? {
            Some(TenantEvent::ApiKeyIssued {
                key_id,
                name,
                role,
                advocate_id,
                prefix,
                secret_hash,
            }) => {
                sqlx::query(
                    "INSERT INTO gateway_api_keys (id, tenant_id, name, role, advocate_id, prefix, secret_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
                )
                .bind(key_id)
                .bind(&e.tenant_id)
                .bind(name)
                .bind(role.as_str())
                .bind(advocate_id)
                .bind(prefix)
                .bind(secret_hash)
                .bind(&e.recorded_at)
                .execute(&mut **tx)
                .await?;
            }
            Some(TenantEvent::ApiKeyRevoked { key_id }) => {
                sqlx::query(
                    "UPDATE gateway_api_keys SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3",
                )
                .bind(&e.recorded_at)
                .bind(key_id)
                .bind(&e.tenant_id)
                .execute(&mut **tx)
                .await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// A setting a tenant records whole in one event, kept by the services that read it.
pub trait TenantSetting: serde::de::DeserializeOwned + Send + Sync + 'static {
    /// The tenant event that records it, and the event's field that holds it.
    const EVENT: &'static str;
    const FIELD: &'static str;
}

impl TenantSetting for crate::SmsSettings {
    const EVENT: &'static str = "SmsProviderConfigured";
    const FIELD: &'static str = "settings";
}

impl TenantSetting for crate::Policy {
    const EVENT: &'static str = "PolicySet";
    const FIELD: &'static str = "policy";
}

impl TenantSetting for crate::ReminderPolicy {
    const EVENT: &'static str = "ReminderPolicySet";
    const FIELD: &'static str = "policy";
}

impl TenantSetting for crate::Retention {
    const EVENT: &'static str = "RetentionSet";
    const FIELD: &'static str = "retention";
}

impl TenantSetting for crate::SsoSettings {
    const EVENT: &'static str = "SsoConfigured";
    const FIELD: &'static str = "settings";
}

impl TenantSetting for crate::ReviewRules {
    const EVENT: &'static str = "ReviewRulesSet";
    const FIELD: &'static str = "rules";
}

/// A service's copy of a tenant setting, the latest one, as recorded: sealed fields (the
/// Twilio auth token) stay encrypted at rest and are opened on read.
pub struct TenantSettings<T> {
    name: &'static str,
    upsert: String,
    select: String,
    setting: std::marker::PhantomData<fn() -> T>,
}

/// Each tenant's SMS provider.
pub type SmsProviders = TenantSettings<crate::SmsSettings>;
/// Each tenant's texting policy.
pub type Policies = TenantSettings<crate::Policy>;
/// Each tenant's reminder policy.
pub type ReminderPolicies = TenantSettings<crate::ReminderPolicy>;
/// Each tenant's review rules.
pub type ReviewRuleSets = TenantSettings<crate::ReviewRules>;
/// Each tenant's retention policy.
pub type Retentions = TenantSettings<crate::Retention>;
/// Each tenant's OpenID Connect provider.
pub type SsoConfigs = TenantSettings<crate::SsoSettings>;

impl<T: TenantSetting> TenantSettings<T> {
    /// `table` has columns (tenant_id, settings, updated_at); `name` names the cursor.
    pub fn new(name: &'static str, table: &'static str) -> Self {
        TenantSettings {
            name,
            upsert: format!(
                "INSERT INTO {table} (tenant_id, settings, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at"
            ),
            select: format!("SELECT settings FROM {table} WHERE tenant_id = $1"),
            setting: std::marker::PhantomData,
        }
    }

    /// A tenant's setting with sealed fields opened, or `None` when it set none.
    pub async fn get(&self, store: &EventStore, tenant: &str) -> anyhow::Result<Option<T>> {
        let row: Option<(String,)> = sqlx::query_as(&self.select)
            .bind(tenant)
            .fetch_optional(store.db().reader())
            .await?;
        Self::open(store, tenant, row.map(|(s,)| s)).await
    }

    /// A setting as its table holds it (sealed), opened: for a caller that read the column
    /// together with other facts in one statement.
    pub async fn open(
        store: &EventStore,
        tenant: &str,
        sealed: Option<String>,
    ) -> anyhow::Result<Option<T>> {
        match sealed {
            None => Ok(None),
            Some(sealed) => Ok(Some(serde_json::from_value(
                store.open_payload(tenant, &sealed).await?,
            )?)),
        }
    }
}

#[async_trait]
impl<T: TenantSetting> Projection for TenantSettings<T> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn reads(&self) -> Reads {
        TENANT_EVENTS
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        if e.aggregate_type == Tenant::TYPE && e.event_type == T::EVENT {
            // Kept as recorded (sealed), not as parsed.
            let payload: serde_json::Value = serde_json::from_str(&e.payload)?;
            sqlx::query(&self.upsert)
                .bind(&e.tenant_id)
                .bind(payload[T::EVENT][T::FIELD].to_string())
                .bind(&e.recorded_at)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
