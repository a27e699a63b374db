//! The compliance officer's evidence: one event of the trail in full (its payload opened,
//! the look recorded, as through the API), the trail exported to a file, and the signed
//! checkpoints to keep outside casewire.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, Method};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use super::api::{self, text};
use super::page::page;
use super::words::t;
use super::{Csrf, Person, Shown};
use crate::{ApiError, Gateway};

pub(crate) async fn event(
    State(gw): State<Gateway>,
    person: Person,
    Path(seq): Path<i64>,
) -> Result<Response, Shown> {
    let path = format!("/v1/audit/events?after_seq={}&limit=1", seq.max(1) - 1);
    let found = api::call(&gw, &person, Method::GET, &path, None).await?;
    let Some(e) = found["items"].get(0).filter(|e| e["seq"] == seq) else {
        return Err(ApiError::not_found("no such event in the trail").into());
    };
    let names = super::names::Names::of_tenant(&gw, &person.user.tenant_id).await?;
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let content = html! {
        p role="status" { (t("Opening an event is recorded in the trail.")) }
        dl.fields {
            dt { (t("Seq")) } dd { (seq) }
            dt { (t("Event")) } dd { (text(&e["type"])) " " (text(&e["aggregate_type"])) " " (text(&e["aggregate_id"])) }
            dt { (t("When (UTC)")) } dd { (text(&e["recorded_at"])) }
            dt { (t("By")) } dd { (names.of(text(&e["actor"])))
                @if let Some(p) = e["on_behalf_of"].as_str() { " for " (p) } }
            dt { (t("Hash")) } dd.hash { (text(&e["hash"])) }
            dt { (t("Previous hash")) } dd.hash { (text(&e["prev_hash"])) }
        }
        h2 { (t("Payload, sealed fields opened")) }
        pre { (pretty(&e["payload"])) }
        h2 { (t("Metadata")) }
        pre { (pretty(&e["metadata"])) }
        p { a href="/console/trail" { (t("Back to the trail")) } }
    };
    let title = format!("{}{seq}", t("Event "));
    Ok(Html(page(&title, Some(&person), content).into_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ExportQuery {
    redacted: Option<String>,
}

/// The trail as a file (JSON Lines, verifiable offline with `casewire audit verify
/// --file`), redacted unless asked otherwise; the API records the export.
pub(crate) async fn export(
    State(gw): State<Gateway>,
    person: Person,
    Query(q): Query<ExportQuery>,
) -> Result<Response, Shown> {
    let redacted = q.redacted.as_deref() != Some("false");
    let path = format!("/v1/audit/export?redacted={redacted}");
    let mut response = api::raw(&gw, &person, &path).await?;
    let name = format!(
        "attachment; filename=\"casewire-trail-{}.jsonl\"",
        person.user.tenant_id
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

pub(crate) async fn checkpoints(
    State(gw): State<Gateway>,
    person: Person,
) -> Result<Response, Shown> {
    let list = api::call(
        &gw,
        &person,
        Method::GET,
        "/v1/audit/checkpoints?limit=1000",
        None,
    )
    .await?;
    let keys = api::call(&gw, &person, Method::GET, "/v1/audit/public-key", None).await?;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let content = html! {
        p { (t("A checkpoint is the trail's head signed by casewire. Keep the notes somewhere casewire's administrators cannot write: they prove the trail was not rewritten before them.")) }
        p { (t("Verifier key: ")) code { (text(&keys["key"])) } }
        form method="post" action="/console/checkpoints" {
            input type="hidden" name="csrf" value=(person.csrf);
            button type="submit" { (t("Sign a checkpoint now")) }
        }
        p { a href="/console/trail/export" { (t("Download the trail (redacted)")) } " · "
            a href="/console/trail/export?redacted=false" { (t("Download the trail with texts opened")) } }
        @for c in items.iter().rev().take(20) {
            section.text aria-label={ (t("Checkpoint at seq ")) (c["seq"]) } {
                p.meta { (t("Checkpoint at seq ")) (c["seq"]) " · " span.when { (text(&c["signed_at"])) } }
                pre { (text(&c["note"])) }
            }
        }
        @if items.is_empty() { p { (t("No checkpoints yet.")) } }
    };
    Ok(Html(page(t("Signed checkpoints"), Some(&person), content).into_string()).into_response())
}

pub(crate) async fn sign(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<Csrf>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    match api::call(&gw, &person, Method::POST, "/v1/audit/checkpoints", None).await {
        // Nothing new since the last one: that one stands.
        Err(e) if e.status() == axum::http::StatusCode::CONFLICT => {}
        other => drop(other?),
    }
    Ok(Redirect::to("/console/checkpoints").into_response())
}
