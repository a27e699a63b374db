//! Signing in and out, and the invitation that sets a person's password. Each attempt is
//! an event on the person (`SignedIn`, `SignInFailed`, `LockedOut`, `SignedOut`); an
//! address that fails too often is slowed whatever emails it tries.

use super::words::t;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use casewire_events::{Actor, Metadata};
use casewire_people::{directory, password, session, user, UserCommand, UserError, UserRow};
use casewire_tenancy::Role;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::page::page;
use super::person::{cookie, visitor};
use super::{Csrf, Person, Shown};
use crate::{ApiError, Gateway};

/// Failed sign-ins from one address within [`user::FAILURE_WINDOW`] before it must wait
/// for the window to pass: enough for an office behind one address, too few to guess.
const ADDRESS_FAILURES: i64 = 20;

/// The console's home: who is signed in, and where their role may go.
pub(crate) async fn home(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let organization = gw
        .tenant(&person.user.tenant_id)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let content = html! {
        p { (t("Signed in to ")) strong { (organization) } (t(" as ")) (person.user.email) "." }
        ul {
            @if matches!(person.user.role, Role::Compliance | Role::Admin) {
                li { a href="/console/trail" { (t("The audit trail")) } ", verified" }
            }
        }
    };
    Ok(Html(page(t("Home"), Some(&person), content).into_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct Then {
    then: Option<String>,
}

/// Where to go after signing in: a console page, never another site.
fn then(asked: Option<&str>) -> String {
    asked
        .filter(|t| t.starts_with("/console") && !t.starts_with("//"))
        .unwrap_or("/console")
        .to_string()
}

pub(crate) fn sign_in_page(csrf: &str, then: &str, email: &str, error: Option<&str>) -> Markup {
    page(
        t("Sign in"),
        None,
        html! {
            @if let Some(error) = error { p.error role="alert" id="problem" { (error) } }
            form.card method="post" action="/console/sign-in" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="then" value=(then);
                label { (t("Email")) input type="email" name="email" autocomplete="username" required value=(email); }
                label { (t("Password")) input type="password" name="password" autocomplete="current-password" required; }
                label { (t("Code from your authenticator app (only if you turned on two-step sign-in)"))
                    input name="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 ]*" maxlength="8"; }
                button type="submit" { (t("Sign in")) }
            }
            h2 { (t("Or with your organization's account")) }
            form.card method="get" action="/console/sso" {
                label { (t("Where your organization signs you in with its own account (Microsoft 365, Google): your email"))
                    input type="email" name="email" autocomplete="username" required; }
                button type="submit" { (t("Sign in with your organization's account")) }
            }
        },
    )
}

pub(crate) async fn form(jar: CookieJar, Query(q): Query<Then>) -> impl IntoResponse {
    let (jar, token) = visitor(jar);
    let body = sign_in_page(&session::csrf(&token), &then(q.then.as_deref()), "", None);
    (jar, Html(body.into_string()))
}

#[derive(Deserialize)]
pub(crate) struct SignIn {
    email: String,
    password: String,
    #[serde(default)]
    code: String,
    csrf: String,
    then: Option<String>,
}

/// The CSRF check of a visitor's form: the visitor cookie's token, or a 403 that says to
/// reload the page.
pub(crate) fn visitor_csrf(jar: &CookieJar, sent: &str) -> Result<(), Shown> {
    let fresh = jar
        .get(session::VISITOR_COOKIE)
        .is_some_and(|c| session::csrf_matches(c.value(), sent));
    if fresh {
        Ok(())
    } else {
        Err(expired_form())
    }
}

pub(crate) fn expired_form() -> Shown {
    Shown::Error(ApiError::forbidden(t(
        "This form has expired or did not come from casewire. Reload the page and try again.",
    )))
}

pub(crate) async fn submit(
    State(gw): State<Gateway>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(f): Form<SignIn>,
) -> Result<Response, Shown> {
    visitor_csrf(&jar, &f.csrf)?;
    let (jar, token) = visitor(jar);
    let back = then(f.then.as_deref());
    let address = peer.ip().to_string();
    let refuse = |status: StatusCode, error: &str| -> Result<Response, Shown> {
        let body = sign_in_page(&session::csrf(&token), &back, &f.email, Some(error));
        Ok((status, jar.clone(), Html(body.into_string())).into_response())
    };
    let now = casewire_events::utc_now();
    if let Some(wait) = address_waits(&gw, &address, now).await? {
        return refuse(StatusCode::TOO_MANY_REQUESTS, &wait);
    }
    let wrong = t("The email or the password is wrong.");
    let email = user::email(&f.email).unwrap_or_default();
    let people = directory::by_email(gw.store(), &email)
        .await
        .map_err(ApiError::internal)?;
    // One person per email (POST /v1/users sees to it); two, from a race, sign in nowhere.
    let [person] = people.as_slice() else {
        check(f.password.clone(), None).await?;
        address_failed(&gw, &address, now).await?;
        return refuse(StatusCode::UNAUTHORIZED, wrong);
    };
    if let Some(until) = &person.locked_until {
        return refuse(StatusCode::TOO_MANY_REQUESTS, &locked(until));
    }
    if !check(f.password.clone(), person.password_hash.clone()).await? {
        address_failed(&gw, &address, now).await?;
        let fail = UserCommand::FailSignIn {
            address: address.clone(),
            now,
        };
        execute(&gw, person, fail).await?;
        // The fifth failure locks the account: say so now, with when it ends.
        let after = directory::get(gw.store(), &person.tenant_id, &person.id)
            .await
            .map_err(ApiError::internal)?;
        return match after.and_then(|p| p.locked_until) {
            Some(until) => refuse(StatusCode::TOO_MANY_REQUESTS, &locked(&until)),
            None => refuse(StatusCode::UNAUTHORIZED, wrong),
        };
    }
    // Two-step sign-in on: the code must be of this step or one beside it, and unused.
    let secret = directory::totp_secret(gw.store(), person)
        .await
        .map_err(ApiError::internal)?;
    let totp_step = match secret {
        None => None,
        Some(secret) => {
            let unix = u64::try_from(now.timestamp()).unwrap_or_default();
            match casewire_people::totp::matching_step(&secret, &f.code, unix) {
                Some(step) => Some(step),
                None => {
                    address_failed(&gw, &address, now).await?;
                    let fail = UserCommand::FailSignIn {
                        address: address.clone(),
                        now,
                    };
                    execute(&gw, person, fail).await?;
                    return refuse(
                        StatusCode::UNAUTHORIZED,
                        t("The code from your authenticator app is missing or wrong."),
                    );
                }
            }
        }
    };
    let token = session::token();
    let begin = UserCommand::SignIn {
        session_hash: session::hash(&token),
        address,
        totp_step,
        now,
    };
    match execute(&gw, person, begin).await {
        // A code used already (or a lock that came as this request ran).
        Err(Shown::Error(e)) if e.status() == StatusCode::CONFLICT => {
            return refuse(StatusCode::UNAUTHORIZED, e.message())
        }
        other => other?,
    }
    let jar = jar.add(cookie(session::COOKIE, token));
    Ok((jar, Redirect::to(&back)).into_response())
}

pub(crate) fn locked(until: &str) -> String {
    let said = t("Too many failed sign-ins: this account is locked until");
    format!("{said} {until} (UTC).")
}

/// Whether `password` is the one `phc` was made from, off the request's thread (argon2id
/// takes tens of milliseconds of CPU). No hash: the same time spent, and false.
async fn check(password: String, phc: Option<String>) -> Result<bool, Shown> {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => password::verify(&password, &phc),
        None => {
            password::verify_nothing(&password);
            false
        }
    })
    .await
    .map_err(|e| Shown::Error(ApiError::internal(e)))
}

/// Runs a command on a person, as the person, and waits until the directory shows it.
pub(crate) async fn execute(
    gw: &Gateway,
    person: &UserRow,
    command: UserCommand,
) -> Result<(), Shown> {
    let metadata = Metadata::new(Actor::User(person.id.clone()));
    casewire_eventstore::framework::<casewire_people::User>(gw.store(), &person.tenant_id, ())
        .execute_with_metadata(&person.id, command, metadata.into_map())
        .await
        .map_err(ApiError::from)?;
    gw.caught_up(&person.tenant_id).await?;
    Ok(())
}

/// What an address that failed too often is told: when it may try again.
pub(crate) async fn address_waits(
    gw: &Gateway,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, ApiError> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT window_start, failures FROM console_address_failures WHERE address = $1",
    )
    .bind(address)
    .fetch_optional(gw.store().db().reader())
    .await?;
    Ok(row.and_then(|(start, failures)| {
        let start = DateTime::parse_from_rfc3339(&start)
            .ok()?
            .with_timezone(&Utc);
        let until = start + user::FAILURE_WINDOW;
        (failures >= ADDRESS_FAILURES && until > now).then(|| {
            let until = casewire_events::timestamp(until);
            let said = t("Too many failed sign-ins from your address. Try again after");
            format!("{said} {until} (UTC).")
        })
    }))
}

/// Counts a failure of an address: a new window when the last has passed.
pub(crate) async fn address_failed(
    gw: &Gateway,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let start = casewire_events::timestamp(now);
    let stale = casewire_events::timestamp(now - user::FAILURE_WINDOW);
    sqlx::query(
        "INSERT INTO console_address_failures (address, window_start, failures) VALUES ($1, $2, 1) \
         ON CONFLICT (address) DO UPDATE SET \
         failures = CASE WHEN console_address_failures.window_start < $3 THEN 1 ELSE console_address_failures.failures + 1 END, \
         window_start = CASE WHEN console_address_failures.window_start < $3 THEN $2 ELSE console_address_failures.window_start END",
    )
    .bind(address)
    .bind(start)
    .bind(stale)
    .execute(gw.store().db().writer())
    .await?;
    Ok(())
}

pub(crate) async fn sign_out(
    State(gw): State<Gateway>,
    person: Person,
    jar: CookieJar,
    Form(f): Form<Csrf>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let end = UserCommand::SignOut {
        session_hash: person.session_hash.clone(),
        why: casewire_people::SignOutReason::SignedOut,
    };
    execute(&gw, &person.user, end).await?;
    let jar = jar.remove(cookie(session::COOKIE, String::new()));
    Ok((jar, Redirect::to("/console/sign-in")).into_response())
}

fn invitation_page(invited: &UserRow, csrf: &str, error: Option<&str>) -> Markup {
    page(
        "Choose your password",
        None,
        html! {
            p { "Welcome, " (invited.name) ". You were invited to casewire as " (invited.role.as_str())
                " with the email " strong { (invited.email) } "." }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.card method="post" {
                input type="hidden" name="csrf" value=(csrf);
                label { "Password (at least " (password::MIN_LENGTH) " characters; a few unrelated words make a good one)"
                    input type="password" name="password" autocomplete="new-password" required minlength=(password::MIN_LENGTH); }
                label { "The same password again"
                    input type="password" name="again" autocomplete="new-password" required; }
                button type="submit" { "Set my password" }
            }
        },
    )
}

async fn invited(gw: &Gateway, token: &str) -> Result<UserRow, Shown> {
    directory::by_invitation(gw.store(), &session::hash(token))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            Shown::Error(ApiError::not_found(
                UserError::InvitationInvalid.to_string(),
            ))
        })
}

pub(crate) async fn invitation(
    State(gw): State<Gateway>,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Result<Response, Shown> {
    let person = invited(&gw, &token).await?;
    let (jar, visitor) = visitor(jar);
    let body = invitation_page(&person, &session::csrf(&visitor), None);
    Ok((jar, Html(body.into_string())).into_response())
}

#[derive(Deserialize)]
pub(crate) struct Choose {
    csrf: String,
    password: String,
    again: String,
}

pub(crate) async fn accept(
    State(gw): State<Gateway>,
    jar: CookieJar,
    Path(token): Path<String>,
    Form(f): Form<Choose>,
) -> Result<Response, Shown> {
    visitor_csrf(&jar, &f.csrf)?;
    let person = invited(&gw, &token).await?;
    let problem = if f.password != f.again {
        Some("The two passwords differ; type the same one twice.".to_string())
    } else {
        password::check(&f.password, &[&person.email, &person.name]).err()
    };
    if let Some(problem) = problem {
        let csrf = f.csrf.clone();
        let body = invitation_page(&person, &csrf, Some(&problem));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(body.into_string())).into_response());
    }
    let hashed = tokio::task::spawn_blocking(move || password::hash(&f.password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let choose = UserCommand::ChoosePassword {
        invitation_hash: session::hash(&token),
        password_hash: hashed,
        now: casewire_events::utc_now(),
    };
    execute(&gw, &person, choose).await?;
    Ok(Redirect::to("/console/sign-in?then=/console").into_response())
}
