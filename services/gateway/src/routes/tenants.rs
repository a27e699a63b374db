use axum::extract::State;
use axum::http::StatusCode;
use casewire_tenancy::{
    ApiKeySecret, Policy, ReminderPolicy, Retention, ReviewRules, Role, Tenant, TenantCommand,
};
use serde::{Deserialize, Serialize};

use crate::extract::{Json, Path};
use crate::{ApiError, Auth, Gateway, TenantView};

/// Who may read a tenant's settings: its admins and CMS integrations, and its compliance
/// officers, who read everything and change nothing.
const SETTINGS_READERS: &[Role] = &[Role::Admin, Role::Integration, Role::Compliance];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTenant {
    /// The organization's name, as clients will see it in texts.
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// IANA time zone, e.g. America/Chicago: the default for quiet hours and reminders.
    #[schema(min_length = 1, max_length = 64)]
    timezone: String,
}

/// Creates a tenant: a legal-aid organization.
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", security(("operator" = [])), request_body = CreateTenant, responses(
    (status = 201, body = TenantView),
    (status = 401, description = "no or bad credential"),
    (status = 403, description = "not the operator"),
    (status = 422, description = "invalid name or time zone"),
))]
pub(crate) async fn create(
    State(gw): State<Gateway>,
    auth: Auth,
    Json(body): Json<CreateTenant>,
) -> Result<(StatusCode, axum::Json<TenantView>), ApiError> {
    auth.require_operator()?;
    let id = uuid::Uuid::new_v4().to_string();
    gw.execute::<Tenant>(
        &auth,
        &id,
        &id,
        TenantCommand::Create {
            name: body.name,
            timezone: body.timezone,
        },
    )
    .await?;
    let view = gw
        .tenant(&id)
        .await?
        .ok_or_else(|| ApiError::internal("created tenant not in read model"))?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Every tenant, oldest first (the operator only).
#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", security(("operator" = [])), responses(
    (status = 200, body = [TenantView]),
    (status = 403, description = "not the operator"),
))]
pub(crate) async fn list(
    State(gw): State<Gateway>,
    auth: Auth,
) -> Result<axum::Json<Vec<TenantView>>, ApiError> {
    auth.require_operator()?;
    Ok(axum::Json(gw.tenants().await?))
}

/// Shows a tenant.
#[utoipa::path(get, path = "/v1/tenants/{tenant_id}", tag = "tenants", security(("operator" = []), ("api_key" = [])), responses(
    (status = 200, body = TenantView),
    (status = 404, description = "no such tenant (or another tenant's)"),
))]
pub(crate) async fn show(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
) -> Result<axum::Json<TenantView>, ApiError> {
    auth.require(
        &gw,
        &tenant_id,
        &[
            Role::Admin,
            Role::Advocate,
            Role::Compliance,
            Role::Integration,
        ],
    )
    .await?;
    gw.tenant(&tenant_id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("no such tenant"))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueKey {
    /// What the key is for, e.g. "LegalServer integration".
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    role: Role,
    /// Binds an advocate key to one advocate (their id in the CMS): the key then sees and
    /// texts only the cases that list them, and every event it causes names them.
    #[schema(min_length = 1, max_length = 128)]
    advocate_id: Option<String>,
}

/// A new key. `key` is shown this once: casewire keeps only its hash.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct IssuedKey {
    id: String,
    key: String,
    name: String,
    role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    advocate_id: Option<String>,
    prefix: String,
}

/// Issues an API key for a tenant.
#[utoipa::path(post, path = "/v1/tenants/{tenant_id}/api-keys", tag = "tenants", security(("operator" = []), ("api_key" = [])), request_body = IssueKey, responses(
    (status = 201, body = IssuedKey),
    (status = 403, description = "needs the admin role"),
    (status = 404, description = "no such tenant (or another tenant's)"),
    (status = 422, description = "invalid name or role"),
))]
pub(crate) async fn issue_key(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
    Json(body): Json<IssueKey>,
) -> Result<(StatusCode, axum::Json<IssuedKey>), ApiError> {
    auth.require(&gw, &tenant_id, &[Role::Admin]).await?;
    let secret = ApiKeySecret::generate();
    let id = uuid::Uuid::new_v4().to_string();
    let command = TenantCommand::IssueApiKey {
        key_id: id.clone(),
        name: body.name.clone(),
        role: body.role,
        advocate_id: body.advocate_id.clone(),
        prefix: secret.prefix.clone(),
        secret_hash: secret.hash.clone(),
    };
    gw.execute::<Tenant>(&auth, &tenant_id, &tenant_id, command)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(IssuedKey {
            id,
            key: secret.token,
            name: body.name.trim().to_string(),
            role: body.role,
            advocate_id: body.advocate_id.map(|a| a.trim().to_string()),
            prefix: secret.prefix,
        }),
    ))
}

/// A key as listings show it: never its secret.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct KeyView {
    id: String,
    name: String,
    role: String,
    /// The advocate a bound advocate key acts for.
    advocate_id: Option<String>,
    prefix: String,
    created_at: String,
    revoked_at: Option<String>,
}

/// Lists a tenant's API keys (admins, and compliance officers, who may not issue them).
#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/api-keys", tag = "tenants", security(("operator" = []), ("api_key" = [])), responses(
    (status = 200, body = [KeyView]),
    (status = 404, description = "no such tenant (or another tenant's)"),
))]
pub(crate) async fn list_keys(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
) -> Result<axum::Json<Vec<KeyView>>, ApiError> {
    auth.require(&gw, &tenant_id, &[Role::Admin, Role::Compliance])
        .await?;
    type Row = (
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, name, role, advocate_id, prefix, created_at, revoked_at FROM gateway_api_keys \
         WHERE tenant_id = $1 ORDER BY created_at, id",
    )
    .bind(&tenant_id)
    .fetch_all(gw.store().db().reader())
    .await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(
                |(id, name, role, advocate_id, prefix, created_at, revoked_at)| KeyView {
                    id,
                    name,
                    role,
                    advocate_id,
                    prefix,
                    created_at,
                    revoked_at,
                },
            )
            .collect(),
    ))
}

/// Revokes an API key, at once. Revoking a revoked key changes nothing.
#[utoipa::path(delete, path = "/v1/tenants/{tenant_id}/api-keys/{key_id}", tag = "tenants", security(("operator" = []), ("api_key" = [])), responses(
    (status = 204, description = "revoked"),
    (status = 404, description = "no such key or tenant (or another tenant's)"),
))]
pub(crate) async fn revoke_key(
    State(gw): State<Gateway>,
    auth: Auth,
    Path((tenant_id, key_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    auth.require(&gw, &tenant_id, &[Role::Admin]).await?;
    gw.execute::<Tenant>(
        &auth,
        &tenant_id,
        &tenant_id,
        TenantCommand::RevokeApiKey { key_id },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutSmsProvider {
    /// twilio or sandbox.
    #[schema(pattern = "^(twilio|sandbox)$")]
    kind: String,
    /// Twilio: the Account SID (AC…).
    account_sid: Option<String>,
    /// Twilio: the auth token. Stored encrypted; never shown again.
    #[schema(max_length = 128)]
    auth_token: Option<String>,
    /// Twilio: the number texts come from (E.164 or a US number) …
    from: Option<String>,
    /// … or the Messaging Service (MG…) that picks it.
    messaging_service_sid: Option<String>,
    /// The estimated price of one segment in US dollars (default 0.0083).
    price_per_segment_usd: Option<f64>,
    /// The estimated price of one MMS (a text with attachments) in US dollars (default 0.02).
    price_per_mms_usd: Option<f64>,
}

/// A tenant's SMS provider as the API shows it: never the auth token.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SmsProviderView {
    kind: String,
    account_sid: Option<String>,
    from: Option<String>,
    messaging_service_sid: Option<String>,
    price_per_segment_usd: f64,
    price_per_mms_usd: f64,
    /// Whether an auth token is stored (its value is never returned).
    auth_token_set: bool,
    /// Where to point the number's "A message comes in" webhook in the Twilio console.
    inbound_webhook_url: Option<String>,
    /// The provider refused these credentials (Twilio's 20003: a token rotated in its
    /// console?): the tenant's texts wait, queued, until they are set again.
    refused: Option<casewire_messaging::refusals::Refusal>,
}

fn provider_view(gw: &Gateway, tenant: &str, s: casewire_tenancy::SmsSettings) -> SmsProviderView {
    let price = s.price_per_segment_micros as f64 / 1e6;
    let mms = s.price_per_mms_micros as f64 / 1e6;
    match s.provider {
        casewire_tenancy::SmsProvider::Sandbox => SmsProviderView {
            kind: "sandbox".into(),
            account_sid: None,
            from: None,
            messaging_service_sid: None,
            price_per_segment_usd: price,
            price_per_mms_usd: mms,
            auth_token_set: false,
            inbound_webhook_url: None,
            refused: None,
        },
        casewire_tenancy::SmsProvider::Twilio {
            account_sid,
            from,
            messaging_service_sid,
            ..
        } => SmsProviderView {
            kind: "twilio".into(),
            account_sid: Some(account_sid),
            from,
            messaging_service_sid,
            price_per_segment_usd: price,
            price_per_mms_usd: mms,
            auth_token_set: true,
            inbound_webhook_url: gw
                .public_url()
                .map(|u| format!("{u}/webhooks/twilio/{tenant}/inbound")),
            refused: None,
        },
    }
}

/// Sets the tenant's SMS provider: Twilio (its auth token is stored encrypted) or the sandbox.
#[utoipa::path(put, path = "/v1/tenants/{tenant_id}/sms-provider", tag = "tenants", security(("operator" = []), ("api_key" = [])), request_body = PutSmsProvider, responses(
    (status = 200, body = SmsProviderView),
    (status = 403, description = "needs the admin role"),
    (status = 404, description = "no such tenant (or another tenant's)"),
    (status = 422, description = "what is wrong with the settings"),
))]
pub(crate) async fn put_sms_provider(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
    Json(body): Json<PutSmsProvider>,
) -> Result<axum::Json<SmsProviderView>, ApiError> {
    auth.require(&gw, &tenant_id, &[Role::Admin]).await?;
    let input = casewire_tenancy::SmsSettingsInput {
        kind: body.kind,
        account_sid: body.account_sid,
        auth_token: body.auth_token,
        from: body.from,
        messaging_service_sid: body.messaging_service_sid,
        price_per_segment_usd: body.price_per_segment_usd,
        price_per_mms_usd: body.price_per_mms_usd,
    };
    gw.execute::<Tenant>(
        &auth,
        &tenant_id,
        &tenant_id,
        TenantCommand::ConfigureSms(input),
    )
    .await?;
    get_sms_provider(State(gw), auth, Path(tenant_id)).await
}

/// Shows the tenant's SMS provider, without its auth token.
#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/sms-provider", tag = "tenants", security(("operator" = []), ("api_key" = [])), responses(
    (status = 200, body = SmsProviderView),
    (status = 404, description = "no such tenant (or another tenant's), or no provider set and no default"),
))]
pub(crate) async fn get_sms_provider(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
) -> Result<axum::Json<SmsProviderView>, ApiError> {
    auth.require(&gw, &tenant_id, SETTINGS_READERS).await?;
    let settings = match gw.sms_settings(&tenant_id).await? {
        Some(s) => s,
        None if gw.sandbox_by_default() => casewire_tenancy::SmsSettings::sandbox(),
        None => {
            return Err(ApiError::not_found(
                "no SMS provider is set for this tenant: PUT one first",
            ))
        }
    };
    let mut view = provider_view(&gw, &tenant_id, settings);
    view.refused = casewire_messaging::refusals::find(gw.store(), &tenant_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(view))
}

/// Sets the tenant's texting policy, whole: which consent each kind of text needs, quiet
/// hours, the HELP contact, and keywords and replies that replace casewire's. A section
/// left out takes its default.
#[utoipa::path(put, path = "/v1/tenants/{tenant_id}/policy", tag = "tenants", security(("operator" = []), ("api_key" = [])), request_body = Policy, responses(
    (status = 200, body = Policy, description = "the policy now in force, defaults filled in"),
    (status = 403, description = "needs the admin role"),
    (status = 404, description = "no such tenant (or another tenant's)"),
    (status = 422, description = "what is wrong with the policy"),
))]
pub(crate) async fn put_policy(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
    Json(policy): Json<Policy>,
) -> Result<axum::Json<Policy>, ApiError> {
    auth.require(&gw, &tenant_id, &[Role::Admin]).await?;
    gw.execute::<Tenant>(
        &auth,
        &tenant_id,
        &tenant_id,
        TenantCommand::SetPolicy(policy),
    )
    .await?;
    get_policy(State(gw), auth, Path(tenant_id)).await
}

/// The tenant's texting policy in force (casewire's defaults until one is set).
#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/policy", tag = "tenants", security(("operator" = []), ("api_key" = [])), responses(
    (status = 200, body = Policy),
    (status = 404, description = "no such tenant (or another tenant's)"),
))]
pub(crate) async fn get_policy(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
) -> Result<axum::Json<Policy>, ApiError> {
    auth.require(&gw, &tenant_id, SETTINGS_READERS).await?;
    Ok(axum::Json(gw.policy(&tenant_id).await?))
}

/// Sets when reminders go before each kind of appointment (ISO 8601 offsets) and their
/// wording by language. A kind left out takes casewire's default; scheduled reminders
/// follow the new policy.
#[utoipa::path(put, path = "/v1/tenants/{tenant_id}/reminder-policy", tag = "tenants", security(("operator" = []), ("api_key" = [])), request_body = ReminderPolicy, responses(
    (status = 200, body = ReminderPolicy, description = "the policy now in force, defaults filled in"),
    (status = 403, description = "needs the admin role"),
    (status = 404, description = "no such tenant (or another tenant's)"),
    (status = 422, description = "what is wrong with the policy"),
))]
pub(crate) async fn put_reminder_policy(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
    Json(policy): Json<ReminderPolicy>,
) -> Result<axum::Json<ReminderPolicy>, ApiError> {
    auth.require(&gw, &tenant_id, &[Role::Admin]).await?;
    gw.execute::<Tenant>(
        &auth,
        &tenant_id,
        &tenant_id,
        TenantCommand::SetReminderPolicy(policy),
    )
    .await?;
    get_reminder_policy(State(gw), auth, Path(tenant_id)).await
}

/// The tenant's reminder policy in force (casewire's defaults until one is set).
#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/reminder-policy", tag = "tenants", security(("operator" = []), ("api_key" = [])), responses(
    (status = 200, body = ReminderPolicy),
    (status = 404, description = "no such tenant (or another tenant's)"),
))]
pub(crate) async fn get_reminder_policy(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
) -> Result<axum::Json<ReminderPolicy>, ApiError> {
    auth.require(&gw, &tenant_id, SETTINGS_READERS).await?;
    Ok(axum::Json(gw.reminder_policy(&tenant_id).await?))
}

/// Who keeps the review rules: the compliance officers whose queue they fill, and admins.
const REVIEW_RULERS: &[Role] = &[Role::Admin, Role::Compliance];

/// Sets the words that flag a text for review: each text holding one, sent or received
/// from now on, gets a `keyword` flag (`GET /v1/flags`). The whole list each time.
#[utoipa::path(put, path = "/v1/tenants/{tenant_id}/review-rules", tag = "review", security(("api_key" = [])), request_body = ReviewRules, responses(
    (status = 200, body = ReviewRules, description = "as kept: lowercase, once each"),
    (status = 403, description = "needs the admin or compliance role"),
    (status = 404, description = "no such tenant (or another tenant's)"),
    (status = 422, description = "what is wrong with the words"),
))]
pub(crate) async fn put_review_rules(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
    Json(rules): Json<ReviewRules>,
) -> Result<axum::Json<ReviewRules>, ApiError> {
    auth.require(&gw, &tenant_id, REVIEW_RULERS).await?;
    gw.execute::<Tenant>(
        &auth,
        &tenant_id,
        &tenant_id,
        TenantCommand::SetReviewRules(rules),
    )
    .await?;
    get_review_rules(State(gw), auth, Path(tenant_id)).await
}

/// The words that flag a text for review (none until set).
#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/review-rules", tag = "review", security(("api_key" = [])), responses(
    (status = 200, body = ReviewRules),
    (status = 403, description = "needs the admin or compliance role"),
    (status = 404, description = "no such tenant (or another tenant's)"),
))]
pub(crate) async fn get_review_rules(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
) -> Result<axum::Json<ReviewRules>, ApiError> {
    auth.require(&gw, &tenant_id, REVIEW_RULERS).await?;
    let rules = casewire_audit::search::review_rules()
        .get(gw.store(), &tenant_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(rules.unwrap_or_default()))
}

/// Sets how long clients' data is kept after their cases close: a client whose cases are
/// all closed is erased `erase_closed_cases_after` after the last one closed, once `grace`
/// has passed with them in the report, unless a legal hold covers them. Checked daily.
#[utoipa::path(put, path = "/v1/tenants/{tenant_id}/retention", tag = "erasure", security(("api_key" = [])), request_body = Retention, responses(
    (status = 200, body = Retention),
    (status = 403, description = "needs the admin role"),
    (status = 404, description = "no such tenant (or another tenant's)"),
    (status = 422, description = "a period that is not years, months, weeks or days"),
))]
pub(crate) async fn put_retention(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
    Json(retention): Json<Retention>,
) -> Result<axum::Json<Retention>, ApiError> {
    auth.require(&gw, &tenant_id, &[Role::Admin]).await?;
    gw.execute::<Tenant>(
        &auth,
        &tenant_id,
        &tenant_id,
        TenantCommand::SetRetention(retention),
    )
    .await?;
    let kept = casewire_audit::retention::retentions()
        .get(gw.store(), &tenant_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal("the retention policy set is not in the read model"))?;
    Ok(axum::Json(kept))
}

/// What the retention policy will erase.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RetentionReport {
    retention: Retention,
    /// The clients due, soonest erased first; `held` ones are not erased while the hold
    /// stands.
    clients: Vec<casewire_audit::retention::Due>,
}

/// The report of what the retention policy will erase, and when.
#[utoipa::path(get, path = "/v1/tenants/{tenant_id}/retention/report", tag = "erasure", security(("api_key" = [])), responses(
    (status = 200, body = RetentionReport),
    (status = 403, description = "needs the admin or compliance role"),
    (status = 404, description = "no such tenant, or no retention policy set"),
))]
pub(crate) async fn retention_report(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(tenant_id): Path<String>,
) -> Result<axum::Json<RetentionReport>, ApiError> {
    auth.require(&gw, &tenant_id, REVIEW_RULERS).await?;
    let today = casewire_events::utc_now().date_naive();
    let (retention, clients) = casewire_audit::retention::report(gw.store(), &tenant_id, today)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("this tenant has no retention policy"))?;
    Ok(axum::Json(RetentionReport { retention, clients }))
}
