//! The compliance officer's trail: a verification badge over the events, filtered, a
//! page at a time, through `GET /v1/audit/verify` and `GET /v1/audit/events` (each page
//! read is recorded in the trail, as the API records it).

use super::words::t;
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use super::api::{self, text};
use super::page::page;
use super::{Person, Shown};
use crate::Gateway;

/// The trail's filters, as the form sends them (empty fields are left out).
#[derive(Deserialize, Default)]
pub(crate) struct Filters {
    after_seq: Option<String>,
    case_id: Option<String>,
    phone: Option<String>,
    advocate: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    /// Days (`YYYY-MM-DD`, UTC), both included.
    from: Option<String>,
    to: Option<String>,
}

/// A day of the date filter as the API's instant: `from` a day's start, `to` the next
/// day's (the API's `to` is exclusive), so both days are included. A day that does not
/// read as one is left for the API to refuse, as it came.
fn instant(day: &str, end: bool) -> String {
    match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(d) => {
            let d = if end { d.succ_opt().unwrap_or(d) } else { d };
            format!("{d}T00:00:00Z")
        }
        Err(_) => day.to_string(),
    }
}

const PAGE: u32 = 50;

pub(crate) async fn trail(
    State(gw): State<Gateway>,
    person: Person,
    Query(f): Query<Filters>,
) -> Result<Response, Shown> {
    let filters: Vec<(&str, &str)> = [
        ("case_id", &f.case_id),
        ("phone", &f.phone),
        ("advocate", &f.advocate),
        ("type", &f.event_type),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k, v.as_deref().map(str::trim).filter(|v| !v.is_empty())?)))
    .collect();
    let days: Vec<(&str, String)> = [("from", &f.from, false), ("to", &f.to, true)]
        .into_iter()
        .filter_map(|(k, v, end)| {
            let day = v.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            Some((k, instant(day, end)))
        })
        .collect();
    // The serializer is not Send: made and dropped before the first await.
    let filtered = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&filters)
        .extend_pairs(&days)
        .finish();
    // The next page's link carries the form's own fields, days as typed.
    let shown = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&filters)
        .extend_pairs(
            [("from", &f.from), ("to", &f.to)]
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.as_deref()?))),
        )
        .finish();
    let verified = api::call(&gw, &person, Method::GET, "/v1/audit/verify", None).await?;
    let after = f
        .after_seq
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let events = api::call(
        &gw,
        &person,
        Method::GET,
        &format!("/v1/audit/events?limit={PAGE}&after_seq={after}&{filtered}"),
        None,
    )
    .await?;
    let value = |f: &Option<String>| f.clone().unwrap_or_default();
    let items = events["items"].as_array().cloned().unwrap_or_default();
    let names = super::names::Names::of_tenant(&gw, &person.user.tenant_id).await?;
    let content = html! {
        (badge(&verified))
        form.filters method="get" action="/console/trail" aria-label="Filter the trail" {
            label { (t("Case")) input name="case_id" value=(value(&f.case_id)); }
            label { (t("Client's number")) input name="phone" type="tel" value=(value(&f.phone)); }
            label { (t("Advocate")) input name="advocate" value=(value(&f.advocate)); }
            label { (t("Event type")) input name="type" value=(value(&f.event_type)); }
            label { (t("From (day, UTC)")) input name="from" type="date" value=(value(&f.from)); }
            label { (t("To (day, UTC)")) input name="to" type="date" value=(value(&f.to)); }
            button type="submit" { (t("Filter")) }
        }
        table {
            caption { (t("Events, oldest first")) }
            thead { tr { th scope="col" { (t("Seq")) } th scope="col" { (t("When (UTC)")) } th scope="col" { (t("Event")) }
                th scope="col" { (t("By")) } th scope="col" { "Hash" } } }
            tbody {
                @for e in &items {
                    tr {
                        td { a href={ "/console/trail/" (e["seq"]) } { (e["seq"]) } }
                        td.when { (text(&e["recorded_at"])) }
                        td { (text(&e["type"])) " " small { (text(&e["aggregate_type"])) " " (text(&e["aggregate_id"])) } }
                        td { (names.of(text(&e["actor"])))
                            @if let Some(person) = e["on_behalf_of"].as_str() { " for " (person) } }
                        td.hash { (text(&e["hash"]).get(..16).unwrap_or_default()) "…" }
                    }
                }
            }
        }
        @if items.is_empty() { p { (t("No events match.")) } }
        @if let Some(next) = events["next_after"].as_i64() {
            p { a href={ "/console/trail?after_seq=" (next) "&" (shown) } { (t("Next ")) (PAGE) (t(" events")) } }
        }
    };
    Ok(Html(page(t("Audit trail"), Some(&person), content).into_string()).into_response())
}

/// "Intact up to seq N with hash h", or "Broken at seq N" with why.
fn badge(report: &Value) -> maud::Markup {
    html! {
        @match report["status"].as_str() {
            Some("intact") => p.badge.intact role="status" {
                (t("Intact: ")) (report["events"]) (t(" events, up to seq ")) (report["head_seq"])
                (t(" with hash ")) (text(&report["head_hash"]).get(..16).unwrap_or_default()) "…"
            },
            _ => p.badge.broken role="alert" {
                (t("Broken at seq ")) (report["seq"]) ": " (text(&report["reason"]))
            },
        }
    }
}
