//! The gateway: casewire's only public HTTP surface. It authenticates, resolves the tenant
//! from the credential, validates input, turns requests into commands, and answers from
//! read models. The rules live in the aggregates, not here.

mod auth;
mod console;
mod error;
mod extract;
mod idempotency;
mod metrics;
pub mod openapi;
mod routes;
mod serve;
mod sso;

use std::sync::Arc;
use std::time::Duration;

/// Every request is answered within this (503 after it): no handler runs longer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

use axum::Router;
use casewire_bus::{Bus, Projection, Reader};
use casewire_eventstore::EventStore;
use casewire_tenancy::{
    ApiKeys, Policies, Policy, ReminderPolicies, ReminderPolicy, Role, SmsProviders, SmsSettings,
    SsoConfigs, SsoSettings, TenantDirectory, TenantSetting, TenantSettings,
};
use cqrs_es::Aggregate;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use auth::{Auth, Caller};
pub use error::{ApiError, DomainError};

pub const SERVICE: &str = "gateway";

pub struct GatewaySettings {
    pub operator_token: String,
    /// The URL Twilio calls: its signatures are over this plus the path.
    pub public_url: Option<String>,
    /// A tenant with no SMS provider texts through the sandbox (`casewire dev`).
    pub sandbox_by_default: bool,
    /// The name of the key that signs audit checkpoints.
    pub audit_key_name: String,
}

/// The gateway's state, shared by every request.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    store: EventStore,
    bus: Bus,
    operator_token_hash: String,
    public_url: Option<String>,
    sandbox_by_default: bool,
    audit_key_name: String,
    reader: Reader,
}

/// The gateway's reader of the log, feeding its read models like any service's. The same
/// reader goes to `Wiring::new` and to [`Gateway::new`].
pub fn reader(store: &EventStore, cadence: casewire_audit::Cadence) -> Reader {
    let projections: Vec<Arc<dyn Projection>> = vec![
        Arc::new(TenantDirectory::new("gateway_tenants", "gateway_tenants")),
        Arc::new(ApiKeys),
        Arc::new(sms_providers()),
        Arc::new(policies()),
        Arc::new(reminder_policies()),
        Arc::new(sso_configs()),
        Arc::new(casewire_audit::AuditIndex { cadence }),
        Arc::new(casewire_audit::flags::Flags),
        Arc::new(casewire_audit::erasure::Holds),
        Arc::new(casewire_audit::search::SearchIndex),
        Arc::new(casewire_audit::search::review_rules()),
        Arc::new(casewire_audit::retention::retentions()),
        Arc::new(casewire_people::Directory),
    ];
    Reader::new(store, SERVICE, projections)
}

fn reminder_policies() -> ReminderPolicies {
    ReminderPolicies::new("gateway_reminder_policies", "gateway_reminder_policies")
}

fn policies() -> Policies {
    Policies::new("gateway_policies", "gateway_policies")
}

fn sso_configs() -> SsoConfigs {
    SsoConfigs::new("gateway_sso", "gateway_sso")
}

fn sms_providers() -> SmsProviders {
    SmsProviders::new("gateway_sms_providers", "gateway_sms_providers")
}

/// A tenant as the API shows it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    /// IANA time zone, e.g. America/Chicago.
    pub timezone: String,
    /// RFC 3339.
    pub created_at: String,
}

impl Gateway {
    pub fn new(reader: Reader, bus: Bus, settings: GatewaySettings) -> Self {
        Gateway {
            inner: Arc::new(Inner {
                store: reader.store().clone(),
                reader,
                bus,
                operator_token_hash: casewire_crypto::hash_secret(&settings.operator_token),
                public_url: settings.public_url,
                sandbox_by_default: settings.sandbox_by_default,
                audit_key_name: settings.audit_key_name,
            }),
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.inner.store
    }

    /// The platform's checkpoint signing keys, made on first use.
    pub(crate) async fn audit_keys(&self) -> Result<casewire_audit::checkpoint::Keys, ApiError> {
        casewire_audit::checkpoint::keys(&self.inner.store, &self.inner.audit_key_name)
            .await
            .map_err(ApiError::internal)
    }

    pub fn bus(&self) -> &Bus {
        &self.inner.bus
    }

    pub fn router(&self) -> Router {
        routes::router()
            .merge(console::router())
            .route_layer(axum::middleware::from_fn(metrics::measure))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                idempotency::layer,
            ))
            .with_state(self.clone())
            .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
            .layer(axum::middleware::from_fn(error::in_shape))
            .layer(
                TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                    let span = tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or(""),
                    );
                    // A CMS that traces its own requests sees casewire's work in its trace.
                    let carrier = ["traceparent", "tracestate"]
                        .into_iter()
                        .filter_map(|k| Some((k.to_string(), req.headers().get(k)?.to_str().ok()?.to_string())))
                        .collect();
                    casewire_telemetry::continue_from(&span, &carrier);
                    span
                }),
            )
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
    }

    /// Serves HTTP on `listener` until `stop`, then finishes the requests in flight.
    pub async fn serve(
        &self,
        listener: TcpListener,
        stop: CancellationToken,
    ) -> std::io::Result<()> {
        serve::serve(listener, self.router(), stop).await
    }

    /// Runs a command on an aggregate of `tenant`, then brings the gateway's own read models
    /// up to date so the answer (and the next request) sees what the command did.
    pub async fn execute<A>(
        &self,
        auth: &Auth,
        tenant: &str,
        aggregate_id: &str,
        command: A::Command,
    ) -> Result<(), ApiError>
    where
        A: Aggregate<Services = ()>,
        A::Error: DomainError,
    {
        casewire_eventstore::framework::<A>(&self.inner.store, tenant, ())
            .execute_with_metadata(aggregate_id, command, auth.metadata().into_map())
            .await?;
        self.caught_up(tenant).await
    }

    /// Waits (bounded) until the gateway's read models hold what was appended for `tenant`.
    pub(crate) async fn caught_up(&self, tenant: &str) -> Result<(), ApiError> {
        casewire_bus::caught_up(&self.inner.reader, tenant).await?;
        Ok(())
    }

    /// Records a look at the trail or at clients' texts in the trail itself, naming the
    /// caller.
    pub(crate) async fn record_look(
        &self,
        auth: &Auth,
        tenant: &str,
        what: casewire_events::review::ReviewEvent,
    ) -> Result<(), ApiError> {
        casewire_audit::review::record(&self.inner.store, tenant, what, auth.metadata()).await?;
        Ok(())
    }

    /// Records that a signed webhook of `tenant`'s provider was refused, and why.
    pub(crate) async fn refuse_webhook(
        &self,
        metadata: casewire_events::Metadata,
        tenant: &str,
        webhook: &str,
        reason: &str,
    ) -> Result<(), ApiError> {
        let refuse = casewire_tenancy::TenantCommand::RefuseWebhook {
            webhook: webhook.to_string(),
            reason: reason.to_string(),
        };
        casewire_eventstore::framework::<casewire_tenancy::Tenant>(&self.inner.store, tenant, ())
            .execute_with_metadata(tenant, refuse, metadata.into_map())
            .await?;
        Ok(())
    }

    /// Sends a command to a service on behalf of `auth`, for `tenant` (from the credential).
    /// Sends `command` to the service that answers it, on behalf of the credential's holder.
    pub async fn ask<C: casewire_bus::Command>(
        &self,
        auth: &Auth,
        tenant: &str,
        command: C,
    ) -> Result<C::Answer, ApiError> {
        self.ask_as(auth.metadata(), tenant, command).await
    }

    /// [`Gateway::ask`] with the metadata of a caller that holds no API key (Twilio).
    pub(crate) async fn ask_as<C: casewire_bus::Command>(
        &self,
        metadata: casewire_events::Metadata,
        tenant: &str,
        command: C,
    ) -> Result<C::Answer, ApiError> {
        Ok(self
            .inner
            .bus
            .ask(tenant, metadata.into_map(), command)
            .await?)
    }

    /// A tenant's SMS provider with its auth token opened, if it configured one.
    pub async fn sms_settings(&self, tenant: &str) -> Result<Option<SmsSettings>, ApiError> {
        sms_providers()
            .get(&self.inner.store, tenant)
            .await
            .map_err(ApiError::internal)
    }

    /// A tenant's OpenID Connect provider with its client secret opened, if it set one.
    pub async fn sso(&self, tenant: &str) -> Result<Option<SsoSettings>, ApiError> {
        sso_configs()
            .get(&self.inner.store, tenant)
            .await
            .map_err(ApiError::internal)
    }

    /// A tenant's texting policy: casewire's defaults until it sets one.
    pub async fn policy(&self, tenant: &str) -> Result<Policy, ApiError> {
        self.setting(&policies(), tenant).await
    }

    /// A tenant's reminder policy: casewire's defaults until it sets one.
    pub async fn reminder_policy(&self, tenant: &str) -> Result<ReminderPolicy, ApiError> {
        self.setting(&reminder_policies(), tenant).await
    }

    async fn setting<T: TenantSetting + Default>(
        &self,
        table: &TenantSettings<T>,
        tenant: &str,
    ) -> Result<T, ApiError> {
        Ok(table
            .get(&self.inner.store, tenant)
            .await
            .map_err(ApiError::internal)?
            .unwrap_or_default())
    }

    pub fn public_url(&self) -> Option<&str> {
        self.inner.public_url.as_deref()
    }

    pub fn sandbox_by_default(&self) -> bool {
        self.inner.sandbox_by_default
    }

    /// Every tenant, oldest first: the operator's list.
    pub async fn tenants(&self) -> Result<Vec<TenantView>, ApiError> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT id, name, timezone, created_at FROM gateway_tenants ORDER BY created_at, id",
        )
        .fetch_all(self.inner.store.db().reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, timezone, created_at)| TenantView {
                id,
                name,
                timezone,
                created_at,
            })
            .collect())
    }

    pub async fn tenant(&self, id: &str) -> Result<Option<TenantView>, ApiError> {
        let row: Option<(String, String, String, String)> = sqlx::query_as(
            "SELECT id, name, timezone, created_at FROM gateway_tenants WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.inner.store.db().reader())
        .await?;
        Ok(row.map(|(id, name, timezone, created_at)| TenantView {
            id,
            name,
            timezone,
            created_at,
        }))
    }

    /// The hash of the operator's token: the console's operator sessions are sealed under
    /// it, so a new token ends them all.
    pub(crate) fn operator_token_hash(&self) -> &str {
        &self.inner.operator_token_hash
    }

    pub(crate) async fn authenticate(&self, token: &str) -> Result<Caller, ApiError> {
        let hash = casewire_crypto::hash_secret(token);
        if casewire_crypto::constant_time_eq(
            hash.as_bytes(),
            self.inner.operator_token_hash.as_bytes(),
        ) {
            return Ok(Caller::Operator);
        }
        // Looked up by hash: a timing difference here reveals nothing about a key's secret.
        let row: Option<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, tenant_id, role, advocate_id FROM gateway_api_keys WHERE secret_hash = $1 AND revoked_at IS NULL",
        )
        .bind(&hash)
        .fetch_optional(self.inner.store.db().reader())
        .await?;
        match row {
            Some((key_id, tenant_id, role, advocate)) => Ok(Caller::Member {
                actor: casewire_events::Actor::ApiKey(key_id),
                tenant_id,
                advocate,
                role: Role::parse(&role)
                    .ok_or_else(|| ApiError::internal(format!("stored role {role:?}")))?,
            }),
            None => Err(ApiError::unauthorized("invalid or revoked credential")),
        }
    }
}
