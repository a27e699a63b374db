//! The person's own account: two-step sign-in with an authenticator app, turned on by
//! scanning a code and typing what the app shows, turned off with a code too.

use super::words::t;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use casewire_people::{directory, totp, UserCommand};
use maud::{html, Markup};
use serde::Deserialize;

use super::page::page;
use super::sign_in::execute;
use super::{Person, Shown};
use crate::{ApiError, Gateway};

fn account_page(
    person: &Person,
    secret: Option<&str>,
    problem: Option<&str>,
) -> Result<Markup, Shown> {
    let content = match secret {
        // Off: a new secret to scan, and a code to show it was.
        Some(secret) => {
            let (url, qr) =
                totp::enrollment(secret, &person.user.email).map_err(ApiError::internal)?;
            html! {
                p { (t("Two-step sign-in is ")) strong { (t("off")) } ". Turn it on: scan this code with an authenticator app
                    (or type the key), then type the six digits it shows." }
                img src={ "data:image/png;base64," (qr) } alt="A QR code for your authenticator app" width="200" height="200";
                p { (t("Key: ")) code { (secret) } }
                details { summary { (t("The link, for apps that take one")) } p { code { (url) } } }
                @if let Some(problem) = problem { p.error role="alert" { (problem) } }
                form.card method="post" action="/console/account/two-step" {
                    input type="hidden" name="csrf" value=(person.csrf);
                    input type="hidden" name="secret" value=(secret);
                    label { (t("Code from the app")) input name="code" autocomplete="one-time-code" inputmode="numeric" required maxlength="8"; }
                    button type="submit" { (t("Turn on two-step sign-in")) }
                }
            }
        }
        None => html! {
            p { (t("Two-step sign-in is ")) strong { (t("on")) } ": you sign in with your password and a code from your app." }
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
            form.card method="post" action="/console/account/two-step/off" {
                input type="hidden" name="csrf" value=(person.csrf);
                label { (t("Code from the app")) input name="code" autocomplete="one-time-code" inputmode="numeric" required maxlength="8"; }
                button type="submit" { (t("Turn off two-step sign-in")) }
            }
        },
    };
    Ok(page(t("Your account"), Some(person), content))
}

pub(crate) async fn show(person: Person) -> Result<Response, Shown> {
    let secret = (!person.user.two_step).then(totp::new_secret);
    Ok(Html(account_page(&person, secret.as_deref(), None)?.into_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct TurnOn {
    csrf: String,
    secret: String,
    code: String,
}

fn now_unix() -> u64 {
    u64::try_from(casewire_events::utc_now().timestamp()).unwrap_or_default()
}

pub(crate) async fn turn_on(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<TurnOn>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    if totp::matching_step(&f.secret, &f.code, now_unix()).is_none() {
        let page = account_page(&person, Some(&f.secret), Some(t("That code is not the app's: check the app's clock, and type the code it shows now.")))?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response());
    }
    execute(&gw, &person.user, UserCommand::AddTotp { secret: f.secret }).await?;
    Ok(Redirect::to("/console/account").into_response())
}

#[derive(Deserialize)]
pub(crate) struct TurnOff {
    csrf: String,
    code: String,
}

pub(crate) async fn turn_off(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<TurnOff>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let secret = directory::totp_secret(gw.store(), &person.user)
        .await
        .map_err(ApiError::internal)?;
    let matches = secret.is_some_and(|s| totp::matching_step(&s, &f.code, now_unix()).is_some());
    if !matches {
        let page = account_page(&person, None, Some(t("That code is not your app's.")))?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response());
    }
    execute(&gw, &person.user, UserCommand::RemoveTotp).await?;
    Ok(Redirect::to("/console/account").into_response())
}
