//! The advocate's pages: their cases, a case's thread with a send box, and the inbox of
//! clients' texts that belong to no case yet (filed on one from here). Each reads and
//! sends through the API as the person: a bound advocate sees their own cases only.

use super::words::{t, term};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{self, segment, text};
use super::names::Names;
use super::page::page;
use super::{Person, Shown};
use crate::{ApiError, Gateway};

pub(crate) async fn list(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let cases = api::call(
        &gw,
        &person,
        Method::GET,
        "/v1/cases?status=open&limit=100",
        None,
    )
    .await?;
    let items = cases["items"].as_array().cloned().unwrap_or_default();
    let content = html! {
        @if items.is_empty() { p { (t("No open cases.")) } } @else {
            table {
                caption { (t("Open cases")) }
                thead { tr { th scope="col" { (t("Case")) } th scope="col" { (t("Client")) } th scope="col" { (t("Advocates")) } th scope="col" { (t("Last texted")) } } }
                tbody {
                    @for c in &items {
                        tr {
                            td { a href={ "/console/cases/" (segment(text(&c["id"]))) } { (text(&c["id"])) } }
                            td { (c["client"]["name"].as_str().unwrap_or("(erased)")) }
                            td { (c["advocates"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()) }
                            td.when { (c["last_texted_at"].as_str().unwrap_or("—")) }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(page(t("Cases"), Some(&person), content).into_string()).into_response())
}

/// A case's thread, both ways, oldest first, with who sent each and its status.
fn thread(texts: &[Value], names: &Names) -> Markup {
    html! {
        ol.thread aria-label="Texts, oldest first" {
            @for m in texts {
                @let inbound = m["direction"] == "inbound";
                li class=(if inbound { "text in" } else { "text out" }) {
                    p.meta {
                        @if inbound { (t("Client")) } @else {
                            (m["sent_by"].as_str().map(|a| names.of(a)).unwrap_or_else(|| "staff".into()))
                            @if let Some(person) = m["on_behalf_of"].as_str() { " for " (person) }
                        }
                        " · " span.when { (text(&m["created_at"])) }
                    }
                    p.body { (m["body"].as_str().unwrap_or("(erased)")) }
                    p.status {
                        (term(text(&m["status"])))
                        @if let Some(reason) = m["error_reason"].as_str() { " — " (reason) }
                        @if let Some(after) = m["deliver_after"].as_str() { " — held by quiet hours until " (after) }
                    }
                }
            }
        }
        @if texts.is_empty() { p { (t("No texts yet.")) } }
    }
}

/// A case's thread page, answered with `status`. The CMS origins the organization lists
/// may show it inside their own pages (`frame-ancestors`); no other site may, and no other
/// console page may be framed at all.
async fn case_page(
    gw: &Gateway,
    person: &Person,
    case_id: &str,
    status: StatusCode,
    problem: Option<(&str, &str)>,
) -> Result<Response, Shown> {
    let path = format!("/v1/cases/{}", segment(case_id));
    let case = api::call(gw, person, Method::GET, &path, None).await?;
    let texts = api::call(gw, person, Method::GET, &format!("{path}/messages"), None).await?;
    let texts = texts.as_array().cloned().unwrap_or_default();
    let client = case["client"]["name"].as_str().unwrap_or("(erased)");
    let names = Names::of_tenant(gw, &person.user.tenant_id).await?;
    let micros = super::compose::price(gw, &person.user.tenant_id).await?;
    let phone: String =
        form_urlencoded::byte_serialize(text(&case["client"]["phone"]).as_bytes()).collect();
    // Consent is by number, across cases: a key or person bound to one advocate may not
    // read it (the API's 403), and the page says nothing of it then.
    let consent = api::call(
        gw,
        person,
        Method::GET,
        &format!("/v1/consents/{phone}"),
        None,
    )
    .await
    .ok();
    let reminders = api::call(gw, person, Method::GET, &format!("{path}/reminders"), None).await?;
    let reminders = reminders.as_array().cloned().unwrap_or_default();
    let typed = problem.map(|(_, body)| body).unwrap_or_default();
    // The organization's rules for this page, read as the console (the API keeps the
    // policy an admin's): when texts wait, and who may frame the page.
    let policy = gw.policy(&person.user.tenant_id).await?;
    let zone = match case["time_zone"].as_str() {
        Some(zone) => zone.to_string(),
        None => gw
            .tenant(&person.user.tenant_id)
            .await?
            .map(|t| t.timezone)
            .unwrap_or_default(),
    };
    let content = html! {
        p { (t("Client ")) strong { (client) } " · " (text(&case["client"]["phone"])) " · " (term(text(&case["status"])))
            @if let Some(zone) = case["time_zone"].as_str() { " · " (zone) } }
        @if let Some(consent) = &consent {
            p { (t("Consent to reminders and bulk texts: ")) strong { (term(text(&consent["state"]))) } }
        }
        p { (quiet_hours(policy.quiet_hours.as_ref(), &zone)) }
        @if !reminders.is_empty() {
            table {
                caption { (t("Reminders")) }
                thead { tr { th scope="col" { (t("Appointment")) } th scope="col" { (t("Before")) }
                    th scope="col" { (t("Goes at (UTC)")) } th scope="col" { (t("State")) } } }
                tbody {
                    @for r in &reminders {
                        tr { td { (text(&r["appointment_id"])) } td { (text(&r["offset"])) }
                             td.when { (r["sends_at"].as_str().unwrap_or("—")) }
                             td { (term(text(&r["state"])))
                                  @if let Some(reason) = r["reason"].as_str() { " — " (reason) } } }
                    }
                }
            }
        }
        (thread(&texts, &names))
        form.card method="post" action={ "/console/cases/" (segment(case_id)) "/messages" } data-cost="/console/segments" {
            input type="hidden" name="csrf" value=(person.csrf);
            @if let Some((error, _)) = problem { p.error role="alert" { (error) } }
            label { (t("Text to ")) (client)
                textarea name="body" rows="4" maxlength="1600" required { (typed) } }
            (super::compose::counter(typed, micros))
            button type="submit" { (t("Send")) }
        }
    };
    let markup = page(&format!("{}{case_id}", t("Case ")), Some(person), content);
    let mut response = (status, Html(markup.into_string())).into_response();
    if !policy.embed_origins.is_empty() {
        let ancestors = format!("'self' {}", policy.embed_origins.join(" "));
        // Checked origins only (the policy refuses anything else), so a valid header.
        let csp = HeaderValue::from_str(&super::csp(&ancestors)).map_err(ApiError::internal)?;
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(response)
}

/// When the case's client is not texted, said for the advocate: quiet hours hold
/// reminders and bulk texts (and conversation texts too, where the policy says so).
fn quiet_hours(quiet: Option<&casewire_tenancy::QuietHours>, zone: &str) -> String {
    match quiet {
        None => t("No quiet hours: every text goes at once.").to_string(),
        Some(q) => {
            let yours = if q.conversation {
                t("your texts wait too.")
            } else {
                t("your texts go at once.")
            };
            format!(
                "{} {} {} {} ({zone}): {}; {yours}",
                t("Quiet hours:"),
                q.start,
                t("to"),
                q.end,
                t("reminders and bulk texts wait until they end")
            )
        }
    }
}

pub(crate) async fn show(
    State(gw): State<Gateway>,
    person: Person,
    Path(case_id): Path<String>,
) -> Result<Response, Shown> {
    case_page(&gw, &person, &case_id, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub(crate) struct SendForm {
    csrf: String,
    body: String,
}

/// Sends the box's text as a conversation text, then shows the thread again; a refusal
/// (no consent, an opt-out, a bad text) is shown above the box, the text kept in it.
pub(crate) async fn send(
    State(gw): State<Gateway>,
    person: Person,
    Path(case_id): Path<String>,
    Form(f): Form<SendForm>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let path = format!("/v1/cases/{}/messages", segment(&case_id));
    match api::call(
        &gw,
        &person,
        Method::POST,
        &path,
        Some(json!({"body": f.body})),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/console/cases/{}", segment(&case_id))).into_response()),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let typed = Some((e.message(), f.body.as_str()));
            case_page(&gw, &person, &case_id, e.status(), typed).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn inbox(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let texts = api::call(&gw, &person, Method::GET, "/v1/inbox/unrouted", None).await?;
    let texts = texts.as_array().cloned().unwrap_or_default();
    let content = html! {
        p { (t("Texts from numbers that belong to no case. File each on its case: the CMS gets it there.")) }
        @if texts.is_empty() { p { (t("Nothing to file.")) } }
        @for m in &texts {
            section.text.in aria-label={ (t("Text from ")) (text(&m["phone"])) } {
                p.meta { (text(&m["phone"])) " · " span.when { (text(&m["created_at"])) } }
                p.body { (m["body"].as_str().unwrap_or("(erased)")) }
                form.inline method="post" action={ "/console/messages/" (segment(text(&m["id"]))) "/case" } {
                    input type="hidden" name="csrf" value=(person.csrf);
                    label { (t("Case id")) input name="case_id" required; }
                    button type="submit" { (t("File on the case")) }
                }
            }
        }
    };
    Ok(Html(page(t("Inbox"), Some(&person), content).into_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct FileForm {
    csrf: String,
    case_id: String,
}

pub(crate) async fn file(
    State(gw): State<Gateway>,
    person: Person,
    Path(message_id): Path<String>,
    Form(f): Form<FileForm>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let path = format!("/v1/messages/{}/case", segment(&message_id));
    let case_id = f.case_id.trim();
    api::call(
        &gw,
        &person,
        Method::PUT,
        &path,
        Some(json!({"case_id": case_id})),
    )
    .await?;
    // The thread is messaging's to show, and with messaging in its own process it shows
    // the filing a moment later: the page waits for it (a few seconds at most), so the
    // advocate lands on a thread that has the text.
    let shown = format!("/v1/messages/{}", segment(&message_id));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while tokio::time::Instant::now() < deadline {
        let message = api::call(&gw, &person, Method::GET, &shown, None).await?;
        if message["case_id"] == case_id {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(Redirect::to(&format!("/console/cases/{}", segment(case_id))).into_response())
}
