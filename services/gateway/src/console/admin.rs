//! The admin's pages: the organization's quiet hours and contact (the texting policy),
//! and its console users, invited here with a link to hand over.

use super::words::{t, term};
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{self, text};
use super::page::{page, shown_once};
use super::{Csrf, Person, Shown};
use crate::Gateway;

fn policy_path(person: &Person) -> String {
    format!("/v1/tenants/{}/policy", person.user.tenant_id)
}

fn policy_page(person: &Person, policy: &Value, problem: Option<&str>) -> Markup {
    let quiet = &policy["quiet_hours"];
    page(
        t("Texting policy"),
        Some(person),
        html! {
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
            form.card method="post" action="/console/admin/policy" {
                input type="hidden" name="csrf" value=(person.csrf);
                fieldset {
                    legend { (t("Quiet hours (in each client's time zone): reminders and bulk texts wait them out")) }
                    label { (t("From (HH:MM)")) input name="quiet_start" value=(text(&quiet["start"])) placeholder="21:00"; }
                    label { (t("Until (HH:MM)")) input name="quiet_end" value=(text(&quiet["end"])) placeholder="08:00"; }
                    p { small { (t("Leave both empty for no quiet hours.")) } }
                }
                label { (t("How clients reach you (said in the HELP reply)"))
                    input name="contact" value=(text(&policy["contact"])) maxlength="100"; }
                @let origins: Vec<&str> = policy["embed_origins"].as_array().map(|o| o.iter().map(text).collect()).unwrap_or_default();
                label { (t("Your CMS's addresses that may show a case's thread inside their pages (https://…, separated by commas; no other site may)"))
                    input name="embed_origins" value=(origins.join(", ")) placeholder="https://cms.example.org"; }
                button type="submit" { (t("Save the policy")) }
            }
        },
    )
}

pub(crate) async fn policy(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let policy = api::call(&gw, &person, Method::GET, &policy_path(&person), None).await?;
    Ok(Html(policy_page(&person, &policy, None).into_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct PolicyForm {
    csrf: String,
    quiet_start: String,
    quiet_end: String,
    contact: String,
    #[serde(default)]
    embed_origins: String,
}

/// Saves the policy: the current one with the form's fields changed, so what the form
/// does not show (keywords, replies, rates) stays as it was.
pub(crate) async fn save_policy(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<PolicyForm>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let path = policy_path(&person);
    let mut policy = api::call(&gw, &person, Method::GET, &path, None).await?;
    let (start, end) = (f.quiet_start.trim(), f.quiet_end.trim());
    policy["quiet_hours"] = if start.is_empty() && end.is_empty() {
        Value::Null
    } else {
        json!({"start": start, "end": end})
    };
    let contact = f.contact.trim();
    policy["contact"] = if contact.is_empty() {
        Value::Null
    } else {
        json!(contact)
    };
    let origins = f
        .embed_origins
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty());
    policy["embed_origins"] = origins.collect::<Vec<_>>().into();
    match api::call(&gw, &person, Method::PUT, &path, Some(policy.clone())).await {
        Ok(_) => Ok(Redirect::to("/console/admin/policy").into_response()),
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let page = policy_page(&person, &policy, Some(e.message()));
            Ok((e.status(), Html(page.into_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

fn users_page(
    person: &Person,
    users: &[Value],
    invited: Option<&Value>,
    problem: Option<&str>,
) -> Markup {
    page(
        t("Console users"),
        Some(person),
        html! {
            @if let Some(invited) = invited {
                (shown_once(
                    &format!("{}{}. {} {} (UTC); {}", t("Invited "), text(&invited["name"]),
                        t("Hand them this link, shown this once: it works once, until"),
                        text(&invited["expires_at"]), t("casewire sends no email.")),
                    t("The invitation link"),
                    text(&invited["invitation_url"]),
                ))
            }
            table {
                caption { (t("People who sign in to the console")) }
                thead { tr { th scope="col" { (t("Name")) } th scope="col" { (t("Email")) } th scope="col" { (t("Role")) } th scope="col" { (t("State")) } } }
                tbody {
                    @for u in users {
                        tr { td { (text(&u["name"])) } td { (text(&u["email"])) }
                             td { (term(text(&u["role"]))) @if let Some(a) = u["advocate_id"].as_str() { " (" (a) ")" } }
                             td { (term(text(&u["state"]))) } }
                    }
                }
            }
            @if person.user.role == casewire_tenancy::Role::Admin {
            h2 { (t("Invite someone")) }
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
            form.card method="post" action="/console/admin/users" {
                input type="hidden" name="csrf" value=(person.csrf);
                label { (t("Name")) input name="name" required maxlength="200"; }
                label { (t("Email")) input type="email" name="email" required; }
                label { (t("Role")) select name="role" {
                    option value="advocate" { (t("Advocate")) }
                    option value="compliance" { (t("Compliance officer")) }
                    option value="admin" { (t("Admin")) } } }
                label { (t("Advocate id in the CMS (advocates only; they then see only their cases)"))
                    input name="advocate_id" maxlength="128"; }
                button type="submit" { (t("Invite")) }
            }
            }
        },
    )
}

pub(crate) async fn users(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let users = api::call(&gw, &person, Method::GET, "/v1/users", None).await?;
    let users = users.as_array().cloned().unwrap_or_default();
    Ok(Html(users_page(&person, &users, None, None).into_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct InviteForm {
    csrf: String,
    name: String,
    email: String,
    role: String,
    advocate_id: Option<String>,
}

/// Invites a person and shows their link, once, on the page that answers.
pub(crate) async fn invite(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<InviteForm>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let advocate_id = f.advocate_id.filter(|a| !a.trim().is_empty());
    let body =
        json!({"name": f.name, "email": f.email, "role": f.role, "advocate_id": advocate_id});
    let answer = api::call(&gw, &person, Method::POST, "/v1/users", Some(body)).await;
    let users = api::call(&gw, &person, Method::GET, "/v1/users", None).await?;
    let users = users.as_array().cloned().unwrap_or_default();
    match answer {
        Ok(invited) => {
            let page = users_page(&person, &users, Some(&invited), None);
            Ok((StatusCode::CREATED, Html(page.into_string())).into_response())
        }
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let page = users_page(&person, &users, None, Some(e.message()));
            Ok((e.status(), Html(page.into_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

fn provider_path(person: &Person) -> String {
    format!("/v1/tenants/{}/sms-provider", person.user.tenant_id)
}

fn twilio_page(person: &Person, provider: &Value, problem: Option<&str>) -> Markup {
    let twilio = provider["kind"] == "twilio";
    page(
        t("Twilio"),
        Some(person),
        html! {
            @if let Some(url) = provider["inbound_webhook_url"].as_str() {
                p { (t("In the Twilio console, set the number's \"A message comes in\" webhook (HTTP POST) to:")) }
                p.copy {
                    input id="inbound-url" readonly value=(url) aria-label=(t("The inbound webhook URL"));
                    button type="button" data-copy="inbound-url" data-copied=(t("Copied")) { (t("Copy")) }
                }
            }
            @if let Some(refused) = provider["refused"].as_object() {
                p.error role="alert" { (t("Twilio refused these credentials; texts wait until they are set again: "))
                    (refused.get("reason").and_then(Value::as_str).unwrap_or_default()) }
            }
            @if provider.is_null() { p { (t("No texting provider is set yet.")) } } @else {
            p { (t("Now: ")) strong { (text(&provider["kind"])) }
                @if twilio { " · " (text(&provider["account_sid"])) " · "
                    (provider["from"].as_str().or(provider["messaging_service_sid"].as_str()).unwrap_or_default()) }
                " · " (provider["price_per_segment_usd"]) (t(" USD a segment")) }
            }
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
            form.card method="post" action="/console/admin/twilio" autocomplete="off" {
                input type="hidden" name="csrf" value=(person.csrf);
                label { (t("Account SID")) input name="account_sid" value=(text(&provider["account_sid"])) required pattern="AC[0-9a-fA-F]{32}"; }
                label { (t("Auth token (never shown again; type it to change it)")) input name="auth_token" type="password" required; }
                label { (t("From number (E.164), or leave empty and give a Messaging Service SID")) input name="from" value=(text(&provider["from"])); }
                label { (t("Messaging Service SID")) input name="messaging_service_sid" value=(text(&provider["messaging_service_sid"])); }
                label { (t("Price of a segment in USD (what Twilio charges you)")) input name="price_per_segment_usd" inputmode="decimal"
                    value=(provider["price_per_segment_usd"].as_f64().map(|p| p.to_string()).unwrap_or_default()); }
                button type="submit" { (t("Save the Twilio settings")) }
            }
        },
    )
}

pub(crate) async fn twilio(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let provider = provider_now(&gw, &person).await?;
    Ok(Html(twilio_page(&person, &provider, None).into_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct TwilioForm {
    csrf: String,
    account_sid: String,
    auth_token: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    messaging_service_sid: String,
    #[serde(default)]
    price_per_segment_usd: String,
}

pub(crate) async fn save_twilio(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<TwilioForm>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let some = |v: &str| Some(v.trim()).filter(|v| !v.is_empty()).map(str::to_string);
    let price = match some(&f.price_per_segment_usd).map(|p| p.parse::<f64>()) {
        Some(Ok(p)) => json!(p),
        Some(Err(_)) => json!(f.price_per_segment_usd),
        None => Value::Null,
    };
    let mut body = json!({
        "kind": "twilio",
        "account_sid": f.account_sid.trim(),
        "auth_token": f.auth_token,
        "from": some(&f.from),
        "messaging_service_sid": some(&f.messaging_service_sid),
    });
    if !price.is_null() {
        body["price_per_segment_usd"] = price;
    }
    let path = provider_path(&person);
    match api::call(&gw, &person, Method::PUT, &path, Some(body)).await {
        Ok(_) => Ok(Redirect::to("/console/admin/twilio").into_response()),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let provider = provider_now(&gw, &person).await?;
            let page = twilio_page(&person, &provider, Some(e.message()));
            Ok((e.status(), Html(page.into_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The texting provider as set now; null when none is set yet. Anything else (a role
/// that may not see it) is the API's refusal, shown as such.
async fn provider_now(gw: &Gateway, person: &Person) -> Result<Value, Shown> {
    match api::call(gw, person, Method::GET, &provider_path(person), None).await {
        Ok(provider) => Ok(provider),
        Err(e) if e.status() == StatusCode::NOT_FOUND => Ok(Value::Null),
        Err(e) => Err(e.into()),
    }
}

fn keys_path(person: &Person) -> String {
    format!("/v1/tenants/{}/api-keys", person.user.tenant_id)
}

fn keys_page(
    person: &Person,
    keys: &[Value],
    issued: Option<&Value>,
    problem: Option<&str>,
) -> Markup {
    page(
        t("API keys"),
        Some(person),
        html! {
            @if let Some(issued) = issued {
                (shown_once(t("The new key, shown this once (casewire keeps only its hash): put it in the CMS now."),
                    t("The new key"), text(&issued["key"])))
            }
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
            table {
                caption { (t("Keys the CMS and other systems use")) }
                thead { tr { th scope="col" { (t("Name")) } th scope="col" { (t("Role")) } th scope="col" { (t("Prefix")) }
                    th scope="col" { (t("Created")) } th scope="col" { (t("State")) } } }
                tbody {
                    @for k in keys {
                        tr {
                            td { (text(&k["name"])) }
                            td { (term(text(&k["role"]))) @if let Some(a) = k["advocate_id"].as_str() { " (" (a) ")" } }
                            td { code { (text(&k["prefix"])) } }
                            td.when { (text(&k["created_at"])) }
                            td {
                                @if k["revoked_at"].is_null() {
                                    form method="post" action={ "/console/admin/keys/" (text(&k["id"])) "/revoke" } {
                                        input type="hidden" name="csrf" value=(person.csrf);
                                        button type="submit" { (t("Revoke")) }
                                    }
                                } @else { (t("revoked")) " " span.when { (text(&k["revoked_at"])) } }
                            }
                        }
                    }
                }
            }
            h2 { (t("Issue a key")) }
            form.card method="post" action="/console/admin/keys" {
                input type="hidden" name="csrf" value=(person.csrf);
                label { (t("Name (what it is for)")) input name="name" required maxlength="200"; }
                label { (t("Role")) select name="role" {
                    option value="integration" { (t("Integration (a CMS)")) }
                    option value="advocate" { (t("Advocate")) }
                    option value="compliance" { (t("Compliance officer")) }
                    option value="admin" { (t("Admin")) } } }
                label { (t("Advocate id in the CMS (advocates only; they then see only their cases)"))
                    input name="advocate_id" maxlength="128"; }
                button type="submit" { (t("Issue the key")) }
            }
        },
    )
}

async fn keys_now(gw: &Gateway, person: &Person) -> Result<Vec<Value>, Shown> {
    let keys = api::call(gw, person, Method::GET, &keys_path(person), None).await?;
    Ok(keys.as_array().cloned().unwrap_or_default())
}

pub(crate) async fn keys(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let keys = keys_now(&gw, &person).await?;
    Ok(Html(keys_page(&person, &keys, None, None).into_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct KeyForm {
    csrf: String,
    name: String,
    role: String,
    advocate_id: Option<String>,
}

/// Issues a key and shows it, once, on the page that answers.
pub(crate) async fn issue_key(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<KeyForm>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let advocate_id = f.advocate_id.filter(|a| !a.trim().is_empty());
    let body = json!({"name": f.name, "role": f.role, "advocate_id": advocate_id});
    let answer = api::call(&gw, &person, Method::POST, &keys_path(&person), Some(body)).await;
    let keys = keys_now(&gw, &person).await?;
    match answer {
        Ok(issued) => {
            let page = keys_page(&person, &keys, Some(&issued), None);
            Ok((StatusCode::CREATED, Html(page.into_string())).into_response())
        }
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let page = keys_page(&person, &keys, None, Some(e.message()));
            Ok((e.status(), Html(page.into_string())).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn revoke_key(
    State(gw): State<Gateway>,
    person: Person,
    axum::extract::Path(key_id): axum::extract::Path<String>,
    Form(f): Form<Csrf>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let id: String = form_urlencoded::byte_serialize(key_id.as_bytes()).collect();
    let path = format!("{}/{id}", keys_path(&person));
    api::call(&gw, &person, Method::DELETE, &path, None).await?;
    Ok(Redirect::to("/console/admin/keys").into_response())
}
