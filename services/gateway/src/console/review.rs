//! The compliance officer's review: search the texts (each search recorded, as through the
//! API), flag one, and work the queue of open flags.

use super::words::{t, term};
use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;
use serde_json::json;

use super::api::{self, segment, text};
use super::page::page;
use super::{Person, Shown};
use crate::Gateway;

const REASONS: [(&str, &str); 4] = [
    ("confidentiality", "Confidentiality"),
    ("wrong_recipient", "Wrong recipient"),
    ("tone", "Tone"),
    ("other", "Other"),
];

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
}

pub(crate) async fn search(
    State(gw): State<Gateway>,
    person: Person,
    Query(s): Query<SearchQuery>,
) -> Result<Response, Shown> {
    // The API's rule (`GET /v1/search` is the compliance officer's), said before the empty
    // form rather than after the first search.
    if person.user.role != casewire_tenancy::Role::Compliance {
        let refused = crate::ApiError::forbidden("searching the texts is the compliance officer's");
        return Err(refused.into());
    }
    let q = s.q.unwrap_or_default();
    let found = if q.trim().is_empty() {
        None
    } else {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &q)
            .finish();
        let path = format!("/v1/search?{query}");
        Some(api::call(&gw, &person, Method::GET, &path, None).await?)
    };
    let items = found
        .as_ref()
        .and_then(|f| f["items"].as_array().cloned())
        .unwrap_or_default();
    let content = html! {
        form.inline method="get" action="/console/search" role="search" {
            label { (t("Words in the texts")) input type="search" name="q" value=(q) required; }
            button type="submit" { (t("Search")) }
        }
        @if found.is_some() {
            p role="status" { (items.len()) " texts found (newest first). This search is recorded in the trail." }
        }
        @for m in &items {
            section.text aria-label={ (t("Text ")) (text(&m["message_id"])) } {
                p.meta { (term(text(&m["direction"]))) " · " (text(&m["phone"]))
                    @if let Some(case) = m["case_id"].as_str() { " · case " a href={ "/console/cases/" (segment(case)) } { (case) } }
                    " · " span.when { (text(&m["at"])) } }
                p.body { (text(&m["body"])) }
                form.inline method="post" action={ "/console/messages/" (segment(text(&m["message_id"]))) "/flags" } {
                    input type="hidden" name="csrf" value=(person.csrf);
                    label { (t("Reason")) select name="reason" {
                        @for (value, label) in REASONS { option value=(value) { (t(label)) } } } }
                    label { (t("Note")) input name="note" maxlength="2000"; }
                    button type="submit" { (t("Flag")) }
                }
            }
        }
    };
    Ok(Html(page(t("Search the texts"), Some(&person), content).into_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct FlagForm {
    csrf: String,
    reason: String,
    note: Option<String>,
}

pub(crate) async fn flag(
    State(gw): State<Gateway>,
    person: Person,
    Path(message_id): Path<String>,
    Form(f): Form<FlagForm>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let note = f.note.filter(|n| !n.trim().is_empty());
    let path = format!("/v1/messages/{}/flags", segment(&message_id));
    api::call(
        &gw,
        &person,
        Method::POST,
        &path,
        Some(json!({"reason": f.reason, "note": note})),
    )
    .await?;
    Ok(Redirect::to("/console/flags").into_response())
}

pub(crate) async fn flags(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let open = api::call(&gw, &person, Method::GET, "/v1/flags?state=open", None).await?;
    let open = open.as_array().cloned().unwrap_or_default();
    let content = html! {
        @if open.is_empty() { p { (t("No open flags.")) } }
        @for f in &open {
            section.text aria-label={ (t("Flag ")) (text(&f["id"])) } {
                p.meta { (term(text(&f["reason"])))
                    @if let Some(case) = f["case_id"].as_str() { " · case " a href={ "/console/cases/" (segment(case)) } { (case) } }
                    " · " span.when { (text(&f["created_at"])) } }
                @if let Some(note) = f["note"].as_str() { p.body { (note) } }
                form.inline method="post" action={ "/console/flags/" (segment(text(&f["id"]))) "/resolve" } {
                    input type="hidden" name="csrf" value=(person.csrf);
                    label { (t("What was done")) input name="note" maxlength="2000"; }
                    button type="submit" { (t("Resolve")) }
                }
            }
        }
    };
    Ok(Html(page(t("Open flags"), Some(&person), content).into_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ResolveForm {
    csrf: String,
    note: Option<String>,
}

pub(crate) async fn resolve(
    State(gw): State<Gateway>,
    person: Person,
    Path(flag_id): Path<String>,
    Form(f): Form<ResolveForm>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let note = f.note.filter(|n| !n.trim().is_empty());
    let path = format!("/v1/flags/{}/resolve", segment(&flag_id));
    api::call(
        &gw,
        &person,
        Method::POST,
        &path,
        Some(json!({"note": note})),
    )
    .await?;
    Ok(Redirect::to("/console/flags").into_response())
}
