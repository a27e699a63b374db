//! The web console (issue 16): pages for compliance officers, advocates and admins,
//! served at `/console`, on the HTTP API's own rules. A signed-in person is a
//! [`Caller::Member`](crate::Caller) like an API key, and every page that reads or
//! changes the organization's data asks the API's own router in-process (`api`): the same
//! roles, tenant scoping, validation and audit events, by construction. docs/console.md
//! says what was decided.

mod account;
mod admin;
mod api;
mod campaigns;
mod cases;
mod charts;
mod compose;
mod evidence;
mod fields;
mod holds;
mod names;
mod operator;
mod page;
mod person;
mod reminders;
mod review;
mod sign_in;
mod sso;
mod trail;
mod usage;
mod webhooks;
mod words;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::Gateway;

pub(crate) use fields::Fields;
pub(crate) use page::Shown;
pub(crate) use person::{Csrf, Person};

pub(crate) fn router() -> Router<Gateway> {
    Router::new()
        .route("/console", get(sign_in::home))
        .route("/console/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/sso", get(sso::start))
        .route("/console/sso/callback", get(sso::finish))
        .route(
            "/console/invitations/{token}",
            get(sign_in::invitation).post(sign_in::accept),
        )
        .route("/console/trail", get(trail::trail))
        .route("/console/trail/export", get(evidence::export))
        .route("/console/trail/{seq}", get(evidence::event))
        .route("/console/holds", get(holds::show).post(holds::place))
        .route("/console/holds/{hold_id}/lift", post(holds::lift))
        .route("/console/erasures", post(holds::erase))
        .route(
            "/console/checkpoints",
            get(evidence::checkpoints).post(evidence::sign),
        )
        .route("/console/cases", get(cases::list))
        .route("/console/cases/{case_id}", get(cases::show))
        .route("/console/cases/{case_id}/messages", post(cases::send))
        .route("/console/inbox", get(cases::inbox))
        .route("/console/search", get(review::search))
        .route("/console/messages/{message_id}/flags", post(review::flag))
        .route("/console/flags", get(review::flags))
        .route("/console/flags/{flag_id}/resolve", post(review::resolve))
        .route(
            "/console/admin/policy",
            get(admin::policy).post(admin::save_policy),
        )
        .route(
            "/console/admin/users",
            get(admin::users).post(admin::invite),
        )
        .route(
            "/console/admin/twilio",
            get(admin::twilio).post(admin::save_twilio),
        )
        .route(
            "/console/admin/keys",
            get(admin::keys).post(admin::issue_key),
        )
        .route(
            "/console/admin/keys/{key_id}/revoke",
            post(admin::revoke_key),
        )
        .route("/console/admin/usage", get(usage::show))
        .route("/console/operator", get(operator::tenants))
        .route("/console/operator/sign-in", post(operator::sign_in))
        .route("/console/operator/sign-out", post(operator::sign_out))
        .route("/console/operator/tenants", post(operator::create))
        .route(
            "/console/operator/tenants/{tenant_id}",
            get(operator::tenant),
        )
        .route(
            "/console/operator/tenants/{tenant_id}/admins",
            post(operator::invite),
        )
        .route(
            "/console/admin/reminders",
            get(reminders::show).post(reminders::submit),
        )
        .route(
            "/console/admin/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/console/admin/webhooks/{endpoint_id}", get(webhooks::show))
        .route(
            "/console/admin/webhooks/{endpoint_id}/test",
            post(webhooks::test),
        )
        .route("/console/messages/{message_id}/case", post(cases::file))
        .route(
            "/console/campaigns",
            get(campaigns::list).post(campaigns::create),
        )
        .route("/console/campaigns/new", get(campaigns::new))
        .route("/console/campaigns/audience", post(campaigns::audience))
        .route("/console/campaigns/{campaign_id}", get(campaigns::show))
        .route(
            "/console/campaigns/{campaign_id}/progress",
            get(campaigns::progress_part),
        )
        .route(
            "/console/campaigns/{campaign_id}/results.csv",
            get(campaigns::csv),
        )
        .route(
            "/console/campaigns/{campaign_id}/{step}",
            post(campaigns::step),
        )
        .route("/console/segments", post(compose::cost))
        .route("/console/account", get(account::show))
        .route("/console/account/two-step", post(account::turn_on))
        .route("/console/account/two-step/off", post(account::turn_off))
        .route("/console/language", get(language))
        .route("/console/static/console.css", get(stylesheet))
        .route("/console/static/console.js", get(script))
        .layer(axum::middleware::from_fn(headers))
}

/// What every console answer carries: no script but casewire's own files, no framing
/// (the thread page will name the CMS origins a tenant lists), no sniffing, no referrer
/// beyond the origin, and nothing cached that a shared computer's next user could see.
///
/// The request is handled in its language ([`words`]).
/// The console's Content-Security-Policy: nothing but its own script, style and images,
/// forms posted only to itself, and framed only by `frame_ancestors`.
pub(crate) fn csp(frame_ancestors: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {frame_ancestors}"
    )
}

async fn headers(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let lang = words::Lang::of(request.headers());
    let mut response = words::scope(lang, next.run(request)).await;
    let h = response.headers_mut();
    // A page the organization's CMS may frame says so itself (a case's thread);
    // `X-Frame-Options` cannot name an origin, so it is left out there.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        let csp = HeaderValue::from_str(&csp("'none'")).expect("a static policy is a header");
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[derive(serde::Deserialize)]
struct Switch {
    to: String,
}

/// The language link at the foot of each page: keeps the choice in a lasting cookie and
/// goes back to the page it was on (the `Referer`, which `Referrer-Policy: same-origin`
/// sends within casewire), else home.
async fn language(
    jar: axum_extra::extract::cookie::CookieJar,
    headers: axum::http::HeaderMap,
    axum::extract::Query(s): axum::extract::Query<Switch>,
) -> impl IntoResponse {
    let lang = words::Lang::named(&s.to).unwrap_or(words::Lang::En);
    let cookie = axum_extra::extract::cookie::Cookie::build((words::COOKIE, lang.code()))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .permanent()
        .build();
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .and_then(|uri| uri.path_and_query().map(|p| p.as_str().to_string()))
        .filter(|p| p.starts_with("/console") && !p.starts_with("/console/language"))
        .unwrap_or_else(|| "/console".into());
    (jar.add(cookie), axum::response::Redirect::to(&back))
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("console.js"),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("console.css"),
    )
}
