//! A tenant whose provider refused its credentials (Twilio's 20003, after an auth token was
//! rotated in the Twilio console, say). Failing every queued text would lose them; instead
//! the dispatcher holds the tenant's texts, queued, and looks again every few minutes,
//! while the admin is told (`GET /v1/tenants/{id}/sms-provider`, `refused`). Setting the
//! provider again ends it.

use async_trait::async_trait;
use casewire_bus::{Of, Projection, Reads};
use casewire_events::RecordedEvent;
use casewire_eventstore::EventStore;
use casewire_tenancy::TenantEvent;
use serde::Serialize;
use sqlx::{Any, Transaction};

pub struct Refusals;

#[async_trait]
impl Projection for Refusals {
    fn name(&self) -> &'static str {
        "messaging_sms_refusals"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[Of::only(
            <casewire_tenancy::Tenant as cqrs_es::Aggregate>::TYPE,
            &["SmsCredentialsRefused", "SmsProviderConfigured"],
        )];
        Reads::Only(OF)
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        match e.decode()? {
            TenantEvent::SmsCredentialsRefused { code, reason } => {
                sqlx::query(
                    "INSERT INTO messaging_sms_refusals (tenant_id, code, reason, since) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant_id) DO NOTHING",
                )
                .bind(&e.tenant_id)
                .bind(code)
                .bind(reason)
                .bind(&e.recorded_at)
                .execute(&mut **tx)
                .await?;
            }
            TenantEvent::SmsProviderConfigured { .. } => {
                sqlx::query("DELETE FROM messaging_sms_refusals WHERE tenant_id = $1")
                    .bind(&e.tenant_id)
                    .execute(&mut **tx)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// The provider's refusal of a tenant's credentials, as an admin reads it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Refusal {
    /// Twilio's error code (20003).
    pub code: String,
    pub reason: String,
    /// Since when the tenant's texts have been waiting.
    pub since: String,
}

/// The refusal that holds `tenant`'s texts, if any.
pub async fn find(store: &EventStore, tenant: &str) -> anyhow::Result<Option<Refusal>> {
    Ok(sqlx::query_as(
        "SELECT code, reason, since FROM messaging_sms_refusals WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(store.db().reader())
    .await?)
}
