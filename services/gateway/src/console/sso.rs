//! Signing in with the organization's own account (OpenID Connect): the person names
//! their email, goes to their organization's provider, and comes back signed in. Only
//! people already invited (and who accepted) sign in this way, with their casewire role;
//! the provider says who they are, never what they may do.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use casewire_people::{directory, session, user, UserCommand};
use maud::html;
use serde::{Deserialize, Serialize};

use super::page::page;
use super::person::{cookie, visitor};
use super::sign_in::{execute, locked, sign_in_page};
use super::words::t;
use super::Shown;
use crate::sso::Pending;
use crate::{ApiError, Gateway};

const COOKIE: &str = "casewire_sso";
const PATH: &str = "/console/sso";
/// How long a person has at their provider before the sign-in must start again.
const LASTS: chrono::Duration = chrono::Duration::minutes(10);

/// What the browser keeps, sealed, while the person is at their provider.
#[derive(Serialize, Deserialize)]
struct Journey {
    tenant_id: String,
    user_id: String,
    until: i64,
    pending: Pending,
}

/// The journey's cookie. Lax, not Strict: the provider's redirect back is a navigation
/// from another site, which a Strict cookie would not come with. It holds no session.
fn journey_cookie(value: String) -> Cookie<'static> {
    Cookie::build((COOKIE, value))
        .path(PATH)
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .build()
}

/// Where the provider sends the person back: the registered redirect URI.
fn callback(gw: &Gateway, headers: &HeaderMap) -> String {
    let base = match gw.public_url() {
        Some(base) => base.trim_end_matches('/').to_string(),
        // `casewire dev` on this machine: the address the browser used.
        None => {
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    format!("{base}{PATH}/callback")
}

/// The sign-in page again, saying why single sign-on did not go through.
fn refused(jar: CookieJar, status: StatusCode, why: &str) -> Response {
    let (jar, token) = visitor(jar.remove(journey_cookie(String::new())));
    let body = sign_in_page(&session::csrf(&token), "/console", "", Some(why));
    (status, jar, Html(body.into_string())).into_response()
}

#[derive(Deserialize)]
pub(crate) struct Start {
    email: String,
}

/// Sends the person to their organization's provider. An address unknown, or of an
/// organization without single sign-on, gets the same answer (who is a user is not told).
pub(crate) async fn start(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<Start>,
) -> Result<Response, Shown> {
    let none = t("No single sign-on for this address: sign in with your password.");
    let email = user::email(&q.email).unwrap_or_default();
    let people = directory::by_email(gw.store(), &email)
        .await
        .map_err(ApiError::internal)?;
    let [person] = people.as_slice() else {
        return Ok(refused(jar, StatusCode::UNPROCESSABLE_ENTITY, none));
    };
    let Some(settings) = gw.sso(&person.tenant_id).await? else {
        return Ok(refused(jar, StatusCode::UNPROCESSABLE_ENTITY, none));
    };
    let back = callback(&gw, &headers);
    let (url, pending) = match crate::sso::start(&settings, &back).await {
        Ok(started) => started,
        Err(why) => return Ok(refused(jar, StatusCode::BAD_GATEWAY, &why)),
    };
    let journey = Journey {
        tenant_id: person.tenant_id.clone(),
        user_id: person.id.clone(),
        until: (casewire_events::utc_now() + LASTS).timestamp(),
        pending,
    };
    let sealed = serde_json::to_vec(&journey).map_err(ApiError::internal)?;
    let value = gw.store().seal_token("console-sso", &sealed);
    Ok((jar.add(journey_cookie(value)), Redirect::to(&url)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct Back {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The provider sends the person back: the journey's state checked, the code exchanged,
/// the ID token verified, its email the invited person's; then a session as a password
/// sign-in makes one (`SignedIn` in the trail).
pub(crate) async fn finish(
    State(gw): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<Back>,
) -> Result<Response, Shown> {
    let opened = jar
        .get(COOKIE)
        .and_then(|c| gw.store().open_token("console-sso", c.value()))
        .and_then(|plain| serde_json::from_slice::<Journey>(&plain).ok())
        .filter(|j| casewire_events::utc_now().timestamp() < j.until);
    let Some(journey) = opened else {
        let why = t("This sign-in took too long or did not start here: try again.");
        return Ok(refused(jar, StatusCode::FORBIDDEN, why));
    };
    let state = q.state.unwrap_or_default();
    let same =
        casewire_crypto::constant_time_eq(state.as_bytes(), journey.pending.state.as_bytes());
    if !same || q.error.is_some() {
        let why = t("Your organization's sign-in did not go through: try again.");
        return Ok(refused(jar, StatusCode::FORBIDDEN, why));
    }
    let person = directory::get(gw.store(), &journey.tenant_id, &journey.user_id)
        .await
        .map_err(ApiError::internal)?;
    let (Some(person), Some(settings)) = (person, gw.sso(&journey.tenant_id).await?) else {
        let why = t("Your organization's sign-in did not go through: try again.");
        return Ok(refused(jar, StatusCode::FORBIDDEN, why));
    };
    let code = q.code.unwrap_or_default();
    let back = callback(&gw, &headers);
    let verified = match crate::sso::finish(&settings, &back, &code, journey.pending).await {
        Ok(verified) => verified,
        Err(why) => return Ok(refused(jar, StatusCode::FORBIDDEN, &why)),
    };
    if user::email(&verified.email).ok().as_deref() != Some(person.email.as_str()) {
        let why = t("Your organization signed in someone else: sign out there and try again.");
        return Ok(refused(jar, StatusCode::FORBIDDEN, why));
    }
    if let Some(until) = &person.locked_until {
        return Ok(refused(jar, StatusCode::TOO_MANY_REQUESTS, &locked(until)));
    }
    let token = session::token();
    let begin = UserCommand::SignIn {
        session_hash: session::hash(&token),
        address: peer.ip().to_string(),
        totp_step: None,
        now: casewire_events::utc_now(),
    };
    match execute(&gw, &person, begin).await {
        // The account's own rules (two-step sign-in on, a lock that came meanwhile).
        Err(Shown::Error(e)) if e.status().is_client_error() => {
            return Ok(refused(jar, StatusCode::FORBIDDEN, e.message()))
        }
        other => other?,
    }
    let jar = jar
        .remove(journey_cookie(String::new()))
        .add(cookie(session::COOKIE, token));
    // A page of casewire's own leads on: the session cookie is Strict, and the redirect
    // chain began at the provider's site, so a redirect from here would go without it.
    let content = html! {
        meta http-equiv="refresh" content="0;url=/console";
        p { (t("Signed in.")) " " a href="/console" { (t("Continue to the console")) } }
    };
    let body = page(t("Signed in"), None, content).into_string();
    Ok((jar, Html(body)).into_response())
}
