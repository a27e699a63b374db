//! The operator's console: whoever holds `CASEWIRE_OPERATOR_TOKEN` signs in with it, lists
//! the organizations, creates one, and invites its first admin (who does the rest).
//!
//! The operator belongs to no organization, so has no user and no session row: the cookie
//! is the session, sealed by casewire (what it holds cannot be read or forged) under a
//! purpose named by the token's hash, so a new token ends every session of the old one.
//! It lasts eight hours; signing out drops it. What the operator does goes through the API
//! as the operator, and the events it records name `operator`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use casewire_people::session;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::api::{self, segment, text, Speaks};
use super::page::{page, shown_once};
use super::person::{cookie, visitor};
use super::sign_in::{address_failed, address_waits, expired_form, visitor_csrf};
use super::words::t;
use super::{Csrf, Fields, Shown};
use crate::{ApiError, Caller, Gateway};

const COOKIE: &str = "casewire_operator";

/// How long an operator's session lasts.
const LASTS: chrono::Duration = chrono::Duration::hours(8);

/// The operator, signed in, with the CSRF token of their pages' forms.
pub(crate) struct Operator {
    csrf: String,
}

impl Speaks for Operator {
    fn caller(&self) -> Caller {
        Caller::Operator
    }
}

/// What the operator's cookie holds, sealed.
#[derive(Serialize, Deserialize)]
struct Sealed {
    /// Unix seconds.
    until: i64,
    /// Makes each session's cookie, and so its CSRF token, its own.
    nonce: String,
}

fn purpose(gw: &Gateway) -> String {
    format!("console-operator:{}", gw.operator_token_hash())
}

impl Operator {
    /// The operator of this request's cookie, while it lasts.
    fn of(gw: &Gateway, jar: &CookieJar) -> Option<Operator> {
        let value = jar.get(COOKIE)?.value();
        let opened = gw.store().open_token(&purpose(gw), value)?;
        let sealed: Sealed = serde_json::from_slice(&opened).ok()?;
        (casewire_events::utc_now().timestamp() < sealed.until).then(|| Operator {
            csrf: session::csrf(value),
        })
    }

    fn check_csrf(&self, sent: &str) -> Result<(), Shown> {
        if casewire_crypto::constant_time_eq(self.csrf.as_bytes(), sent.as_bytes()) {
            Ok(())
        } else {
            Err(expired_form())
        }
    }
}

fn sign_in_form(jar: CookieJar, status: StatusCode, problem: Option<&str>) -> Response {
    let (jar, token) = visitor(jar);
    let content = html! {
        p { (t("For the platform's operator: the token set as CASEWIRE_OPERATOR_TOKEN.")) }
        @if let Some(problem) = problem { p.error role="alert" { (problem) } }
        form.card method="post" action="/console/operator/sign-in" {
            input type="hidden" name="csrf" value=(session::csrf(&token));
            label { (t("Operator token")) input type="password" name="token" autocomplete="off" required; }
            button type="submit" { (t("Sign in")) }
        }
    };
    let body = page(t("Operator sign-in"), None, content).into_string();
    (status, jar, Html(body)).into_response()
}

#[derive(Deserialize)]
pub(crate) struct SignIn {
    csrf: String,
    token: String,
}

/// Signs the operator in with the token, compared as the API compares it; failures count
/// against the address, as a person's do.
pub(crate) async fn sign_in(
    State(gw): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(f): Form<SignIn>,
) -> Result<Response, Shown> {
    visitor_csrf(&jar, &f.csrf)?;
    let address = peer.ip().to_string();
    let now = casewire_events::utc_now();
    if let Some(wait) = address_waits(&gw, &address, now).await? {
        return Ok(sign_in_form(
            jar,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&wait),
        ));
    }
    if !matches!(gw.authenticate(&f.token).await, Ok(Caller::Operator)) {
        address_failed(&gw, &address, now).await?;
        let wrong = t("That is not the operator's token.");
        return Ok(sign_in_form(jar, StatusCode::UNAUTHORIZED, Some(wrong)));
    }
    let sealed = Sealed {
        until: (now + LASTS).timestamp(),
        nonce: casewire_crypto::random_token(16),
    };
    let plain = serde_json::to_vec(&sealed).map_err(ApiError::internal)?;
    let value = gw.store().seal_token(&purpose(&gw), &plain);
    tracing::info!("the operator signed in to the console");
    let jar = jar.add(cookie(COOKIE, value));
    Ok((jar, Redirect::to("/console/operator")).into_response())
}

pub(crate) async fn sign_out(
    State(gw): State<Gateway>,
    jar: CookieJar,
    Form(f): Form<Csrf>,
) -> Result<Response, Shown> {
    if let Some(operator) = Operator::of(&gw, &jar) {
        operator.check_csrf(&f.csrf)?;
    }
    let jar = jar.remove(cookie(COOKIE, String::new()));
    Ok((jar, Redirect::to("/console/operator")).into_response())
}

/// The operator's page: every organization, and the form to add one.
pub(crate) async fn tenants(State(gw): State<Gateway>, jar: CookieJar) -> Result<Response, Shown> {
    let Some(operator) = Operator::of(&gw, &jar) else {
        return Ok(sign_in_form(jar, StatusCode::OK, None));
    };
    tenants_page(&gw, &operator, StatusCode::OK, &Fields::default(), None).await
}

async fn tenants_page(
    gw: &Gateway,
    operator: &Operator,
    status: StatusCode,
    f: &Fields,
    problem: Option<&str>,
) -> Result<Response, Shown> {
    let tenants = api::call(gw, operator, Method::GET, "/v1/tenants", None).await?;
    let tenants = tenants.as_array().cloned().unwrap_or_default();
    let content = html! {
        (sign_out_button(operator))
        table {
            caption { (t("Organizations")) }
            thead { tr { th scope="col" { (t("Name")) } th scope="col" { (t("Time zone")) } th scope="col" { (t("Created")) } } }
            tbody {
                @for tenant in &tenants {
                    tr {
                        td { a href={ "/console/operator/tenants/" (segment(text(&tenant["id"]))) } { (text(&tenant["name"])) } }
                        td { (text(&tenant["timezone"])) }
                        td.when { (text(&tenant["created_at"])) }
                    }
                }
            }
        }
        @if tenants.is_empty() { p { (t("No organizations yet.")) } }
        h2 { (t("Add an organization")) }
        @if let Some(problem) = problem { p.error role="alert" { (problem) } }
        form.card method="post" action="/console/operator/tenants" {
            input type="hidden" name="csrf" value=(operator.csrf);
            label { (t("Name")) input name="name" required maxlength="200" value=(f.get("name")); }
            label { (t("Time zone (IANA, as America/Chicago)")) input name="timezone" required maxlength="64" value=(f.get("timezone")); }
            button type="submit" { (t("Add the organization")) }
        }
    };
    let body = page(t("Organizations"), None, content).into_string();
    Ok((status, Html(body)).into_response())
}

fn sign_out_button(operator: &Operator) -> Markup {
    html! {
        form.inline method="post" action="/console/operator/sign-out" {
            input type="hidden" name="csrf" value=(operator.csrf);
            button type="submit" { (t("Sign out")) }
        }
    }
}

/// Adds an organization, and goes to its page to invite its first admin.
pub(crate) async fn create(
    State(gw): State<Gateway>,
    jar: CookieJar,
    Form(f): Form<Fields>,
) -> Result<Response, Shown> {
    let Some(operator) = Operator::of(&gw, &jar) else {
        return Err(expired_form());
    };
    operator.check_csrf(f.get("csrf"))?;
    let body = json!({"name": f.get("name"), "timezone": f.get("timezone")});
    match api::call(&gw, &operator, Method::POST, "/v1/tenants", Some(body))
        .await
        .map_err(api::Refusal::from)
    {
        Ok(tenant) => {
            let at = format!("/console/operator/tenants/{}", segment(text(&tenant["id"])));
            Ok(Redirect::to(&at).into_response())
        }
        Err(api::Refusal::Said(status, message)) => {
            tenants_page(&gw, &operator, status, &f, Some(&message)).await
        }
        Err(api::Refusal::Failed(e)) => Err(e.into()),
    }
}

/// An organization, and the form to invite an admin to it.
pub(crate) async fn tenant(
    State(gw): State<Gateway>,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<Response, Shown> {
    let Some(operator) = Operator::of(&gw, &jar) else {
        return Ok(sign_in_form(jar, StatusCode::OK, None));
    };
    tenant_page(&gw, &operator, &id, StatusCode::OK, None, None).await
}

async fn tenant_page(
    gw: &Gateway,
    operator: &Operator,
    id: &str,
    status: StatusCode,
    invited: Option<&str>,
    problem: Option<&str>,
) -> Result<Response, Shown> {
    let path = format!("/v1/tenants/{}", segment(id));
    let tenant = api::call(gw, operator, Method::GET, &path, None).await?;
    let content = html! {
        (sign_out_button(operator))
        p { (t("Time zone")) ": " (text(&tenant["timezone"])) ". " (t("Created")) " " span.when { (text(&tenant["created_at"])) } }
        @if let Some(link) = invited {
            (shown_once(t("The invitation link, shown this once: hand it to the admin (casewire sends no email). It works for seven days."),
                t("The invitation link"), link))
        }
        h2 { (t("Invite an admin")) }
        p { (t("The organization's admin sets Twilio, the policies, the keys for its CMS, and invites everyone else.")) }
        @if let Some(problem) = problem { p.error role="alert" { (problem) } }
        form.card method="post" action={ "/console/operator/tenants/" (segment(id)) "/admins" } {
            input type="hidden" name="csrf" value=(operator.csrf);
            label { (t("Name")) input name="name" required maxlength="200"; }
            label { (t("Email")) input name="email" type="email" required; }
            button type="submit" { (t("Invite the admin")) }
        }
        p { a href="/console/operator" { (t("All organizations")) } }
    };
    let body = page(text(&tenant["name"]), None, content).into_string();
    Ok((status, Html(body)).into_response())
}

/// Invites an admin to the organization and shows the link, once.
pub(crate) async fn invite(
    State(gw): State<Gateway>,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, Shown> {
    let Some(operator) = Operator::of(&gw, &jar) else {
        return Err(expired_form());
    };
    operator.check_csrf(f.get("csrf"))?;
    let body =
        json!({"tenant_id": id, "name": f.get("name"), "email": f.get("email"), "role": "admin"});
    match api::call(&gw, &operator, Method::POST, "/v1/users", Some(body))
        .await
        .map_err(api::Refusal::from)
    {
        Ok(invited) => {
            let link = text(&invited["invitation_url"]);
            tenant_page(&gw, &operator, &id, StatusCode::CREATED, Some(link), None).await
        }
        Err(api::Refusal::Said(status, message)) => {
            tenant_page(&gw, &operator, &id, status, None, Some(&message)).await
        }
        Err(api::Refusal::Failed(e)) => Err(e.into()),
    }
}
