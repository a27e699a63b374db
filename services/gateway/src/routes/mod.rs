use axum::routing::{delete, get, post, put};
use axum::Router;

use crate::Gateway;

pub(crate) mod audiences;
pub(crate) mod audit;
pub(crate) mod campaigns;
pub(crate) mod cases;
pub(crate) mod clients;
pub(crate) mod consents;
pub(crate) mod flags;
pub(crate) mod health;
pub(crate) mod reminders;
pub(crate) mod sandbox;
pub(crate) mod sso;
pub(crate) mod survey_rules;
pub(crate) mod tenants;
pub(crate) mod transcript;
pub(crate) mod twilio;
pub(crate) mod usage;
pub(crate) mod users;
pub(crate) mod webhook_endpoints;

pub(crate) fn router() -> Router<Gateway> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(health::openapi))
        .route("/v1/status", get(health::status))
        .route("/v1/tenants", post(tenants::create).get(tenants::list))
        .route("/v1/tenants/{tenant_id}", get(tenants::show))
        .route(
            "/v1/tenants/{tenant_id}/api-keys",
            post(tenants::issue_key).get(tenants::list_keys),
        )
        .route(
            "/v1/tenants/{tenant_id}/api-keys/{key_id}",
            delete(tenants::revoke_key),
        )
        .route(
            "/v1/tenants/{tenant_id}/sms-provider",
            put(tenants::put_sms_provider).get(tenants::get_sms_provider),
        )
        .route(
            "/v1/tenants/{tenant_id}/policy",
            put(tenants::put_policy).get(tenants::get_policy),
        )
        .route(
            "/v1/tenants/{tenant_id}/reminder-policy",
            put(tenants::put_reminder_policy).get(tenants::get_reminder_policy),
        )
        .route("/v1/users", post(users::invite).get(users::list))
        .route("/v1/users/{user_id}", delete(users::remove))
        .route("/v1/audiences/preview", post(audiences::preview))
        .route("/v1/usage", get(usage::usage))
        .route("/v1/tenants/{tenant_id}/sso", put(sso::put).get(sso::get))
        .route(
            "/v1/campaigns",
            post(campaigns::create).get(campaigns::list),
        )
        .route("/v1/campaigns/{campaign_id}", get(campaigns::show))
        .route("/v1/campaigns/{campaign_id}/{step}", post(campaigns::step))
        .route(
            "/v1/campaigns/{campaign_id}/results",
            get(campaigns::results),
        )
        .route(
            "/v1/campaigns/{campaign_id}/results.csv",
            get(campaigns::results_csv),
        )
        .route(
            "/v1/survey-rules",
            post(survey_rules::create_rule).get(survey_rules::list_rules),
        )
        .route(
            "/v1/survey-rules/{rule_id}",
            get(survey_rules::show_rule).delete(survey_rules::delete_rule),
        )
        .route("/v1/cases", get(cases::list))
        .route("/v1/cases/{case_id}", put(cases::put).get(cases::show))
        .route(
            "/v1/cases/{case_id}/messages",
            post(cases::send).get(cases::thread),
        )
        .route("/v1/cases/{case_id}/timeline", get(cases::timeline))
        .route(
            "/v1/cases/{case_id}/transcript.html",
            get(transcript::transcript),
        )
        .route(
            "/v1/cases/{case_id}/appointments/{appointment_id}",
            put(reminders::put).delete(reminders::cancel),
        )
        .route(
            "/v1/cases/{case_id}/reminders",
            get(reminders::list).put(reminders::set),
        )
        .route("/v1/templates/preview", post(reminders::preview))
        .route("/v1/messages/{message_id}", get(cases::message))
        .route("/v1/messages/{message_id}/case", put(cases::file_on_case))
        .route("/v1/inbox/unrouted", get(cases::unrouted))
        .route("/v1/inbox/flagged", get(cases::flagged))
        .route("/v1/messages/{message_id}/media/{n}", get(cases::media))
        .route(
            "/v1/cases/{case_id}/attachments",
            // An MMS carries at most 5 MB; the rest of the API stays at axum's 2 MB.
            post(cases::upload).layer(axum::extract::DefaultBodyLimit::max(
                casewire_messaging::media::MAX_BYTES as usize,
            )),
        )
        .route(
            "/webhooks/twilio/media/{token}",
            get(cases::attachment_by_link),
        )
        .route("/v1/consents", get(consents::list))
        .route(
            "/v1/consents/{phone}",
            get(consents::show).put(consents::record),
        )
        .route("/v1/consents/{phone}/request", post(consents::request))
        .route(
            "/v1/webhook-endpoints",
            post(webhook_endpoints::create).get(webhook_endpoints::list),
        )
        .route(
            "/v1/webhook-endpoints/{endpoint_id}/test",
            post(webhook_endpoints::test),
        )
        .route(
            "/v1/webhook-endpoints/{endpoint_id}",
            get(webhook_endpoints::show),
        )
        .route(
            "/v1/webhook-endpoints/{endpoint_id}/deliveries",
            get(webhook_endpoints::deliveries),
        )
        .route("/v1/sandbox/messages", get(sandbox::messages))
        .route("/v1/sandbox/inbound", post(sandbox::inbound))
        .route(
            "/webhooks/twilio/{tenant_id}/inbound",
            post(twilio::inbound),
        )
        .route("/webhooks/twilio/{tenant_id}/status", post(twilio::status))
        .route("/v1/audit/verify", get(audit::verify))
        .route("/v1/audit/head", get(audit::head))
        .route("/v1/audit/events", get(audit::events))
        .route(
            "/v1/audit/checkpoints",
            post(audit::checkpoint).get(audit::checkpoints),
        )
        .route("/v1/audit/public-key", get(audit::public_key))
        .route("/v1/audit/export", get(audit::export))
        .route("/v1/messages/{message_id}/flags", post(flags::raise))
        .route("/v1/flags", get(flags::list))
        .route("/v1/search", get(audit::search))
        .route(
            "/v1/legal-holds",
            post(clients::place_hold).get(clients::holds),
        )
        .route("/v1/legal-holds/{hold_id}", delete(clients::lift_hold))
        .route("/v1/clients/erase", post(clients::erase))
        .route(
            "/v1/tenants/{tenant_id}/retention",
            put(tenants::put_retention),
        )
        .route(
            "/v1/tenants/{tenant_id}/retention/report",
            get(tenants::retention_report),
        )
        .route(
            "/v1/tenants/{tenant_id}/review-rules",
            put(tenants::put_review_rules).get(tenants::get_review_rules),
        )
        .route("/v1/flags/{flag_id}/resolve", post(flags::resolve))
        .fallback(|| async { crate::ApiError::not_found("no such endpoint; see /openapi.json") })
}
