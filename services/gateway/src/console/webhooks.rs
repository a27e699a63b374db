//! The CMS's webhook endpoints, for an admin: the list, a new one (its secret shown once),
//! and an endpoint's delivery log with a button that sends it a test event.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use casewire_events::case::WEBHOOK_EVENT_TYPES;
use maud::{html, Markup};
use serde_json::{json, Value};

use super::api::{self, segment, text};
use super::page::{page, shown_once};
use super::words::{t, term};
use super::{Csrf, Person, Shown};
use crate::Gateway;

pub(crate) async fn list(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let endpoints = endpoints_now(&gw, &person).await?;
    Ok(Html(list_page(&person, &endpoints, None, None).into_string()).into_response())
}

/// Adds an endpoint from the form (the URL and the ticked event types: one field each,
/// so the form arrives as pairs) and shows its secret, once.
pub(crate) async fn create(
    State(gw): State<Gateway>,
    person: Person,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, Shown> {
    let field = |name: &'static str| {
        fields
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.trim())
    };
    person.check_csrf(field("csrf").next().unwrap_or_default())?;
    let url = field("url").next().unwrap_or_default();
    let events: Vec<&str> = field("events").collect();
    let body = json!({"url": url, "events": events});
    let answer = api::call(
        &gw,
        &person,
        Method::POST,
        "/v1/webhook-endpoints",
        Some(body),
    )
    .await
    .map_err(api::Refusal::from);
    let endpoints = endpoints_now(&gw, &person).await?;
    match answer {
        Ok(created) => {
            let page = list_page(&person, &endpoints, Some(&created), None);
            Ok((StatusCode::CREATED, Html(page.into_string())).into_response())
        }
        Err(api::Refusal::Said(status, message)) => {
            let page = list_page(&person, &endpoints, None, Some(&message));
            Ok((status, Html(page.into_string())).into_response())
        }
        Err(api::Refusal::Failed(e)) => Err(e.into()),
    }
}

async fn endpoints_now(gw: &Gateway, person: &Person) -> Result<Vec<Value>, Shown> {
    let found = api::call(gw, person, Method::GET, "/v1/webhook-endpoints", None).await?;
    Ok(found.as_array().cloned().unwrap_or_default())
}

fn list_page(
    person: &Person,
    endpoints: &[Value],
    created: Option<&Value>,
    problem: Option<&str>,
) -> Markup {
    let content = html! {
        p { (t("casewire POSTs each event the CMS subscribed to, signed per Standard Webhooks, and retries for about a day.")) }
        @if let Some(created) = created {
            (shown_once(t("The endpoint's signing secret, shown this once: the CMS checks every delivery with it."),
                t("The signing secret"), text(&created["secret"])))
        }
        @if let Some(problem) = problem { p.error role="alert" { (problem) } }
        table {
            caption { (t("Where casewire sends events")) }
            thead { tr { th scope="col" { (t("Address")) } th scope="col" { (t("Events")) } th scope="col" { (t("Created")) } } }
            tbody {
                @for e in endpoints {
                    tr {
                        td { a href={ "/console/admin/webhooks/" (segment(text(&e["id"]))) } { (text(&e["url"])) } }
                        td { (events_of(e)) }
                        td.when { (text(&e["created_at"])) }
                    }
                }
            }
        }
        @if endpoints.is_empty() { p { (t("No endpoints yet.")) } }
        h2 { (t("Add an endpoint")) }
        form.card method="post" action="/console/admin/webhooks" {
            input type="hidden" name="csrf" value=(person.csrf);
            label { (t("Address (https://)")) input name="url" type="url" required maxlength="2048"; }
            fieldset {
                legend { (t("Events to send")) }
                @for kind in WEBHOOK_EVENT_TYPES {
                    label.check { input type="checkbox" name="events" value=(kind); (kind) }
                }
            }
            button type="submit" { (t("Add the endpoint")) }
        }
    };
    page(t("Webhook endpoints"), Some(person), content)
}

fn events_of(endpoint: &Value) -> String {
    let events = endpoint["events"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = events.iter().map(text).collect();
    names.join(", ")
}

pub(crate) async fn show(
    State(gw): State<Gateway>,
    person: Person,
    Path(id): Path<String>,
) -> Result<Response, Shown> {
    let path = format!("/v1/webhook-endpoints/{}", segment(&id));
    let endpoint = api::call(&gw, &person, Method::GET, &path, None).await?;
    let log = api::call(
        &gw,
        &person,
        Method::GET,
        &format!("{path}/deliveries"),
        None,
    )
    .await?;
    let deliveries = log.as_array().cloned().unwrap_or_default();
    Ok(Html(endpoint_page(&person, &endpoint, &deliveries).into_string()).into_response())
}

fn endpoint_page(person: &Person, endpoint: &Value, deliveries: &[Value]) -> Markup {
    let id = segment(text(&endpoint["id"]));
    let content = html! {
        p { (t("Address")) ": " code { (text(&endpoint["url"])) } }
        p { (t("Events")) ": " (events_of(endpoint)) }
        form method="post" action={ "/console/admin/webhooks/" (id) "/test" } {
            input type="hidden" name="csrf" value=(person.csrf);
            button type="submit" { (t("Send a test event")) }
        }
        table {
            caption { (t("Deliveries, newest first")) }
            thead { tr {
                th scope="col" { (t("Event")) } th scope="col" { (t("State")) } th scope="col" { (t("Attempts")) }
                th scope="col" { (t("Last answer")) } th scope="col" { (t("Next attempt")) } th scope="col" { (t("Created")) }
            } }
            tbody {
                @for d in deliveries {
                    tr {
                        td { (text(&d["event_type"])) }
                        td { (term(text(&d["status"]))) }
                        td { (d["attempts"]) }
                        td {
                            @if let Some(code) = d["last_status_code"].as_u64() { "HTTP " (code) " " }
                            (text(&d["last_error"]))
                        }
                        td.when { (text(&d["next_attempt_at"])) }
                        td.when { (text(&d["created_at"])) }
                    }
                }
            }
        }
        @if deliveries.is_empty() { p { (t("Nothing sent yet.")) } }
        p { a href="/console/admin/webhooks" { (t("All endpoints")) } }
    };
    page(t("Webhook endpoint"), Some(person), content)
}

/// Asks for a test delivery and comes back to the log, where it shows as pending, then
/// delivered (or why not).
pub(crate) async fn test(
    State(gw): State<Gateway>,
    person: Person,
    Path(id): Path<String>,
    Form(f): Form<Csrf>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let path = format!("/v1/webhook-endpoints/{}/test", segment(&id));
    api::call(&gw, &person, Method::POST, &path, None).await?;
    Ok(Redirect::to(&format!("/console/admin/webhooks/{}", segment(&id))).into_response())
}
