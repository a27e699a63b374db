//! What texting costs, for an admin: segments per month as bars, and a table of texts,
//! segments and cost per month and purpose, from `GET /v1/usage`.

use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::api::{self, text};
use super::charts;
use super::page::page;
use super::words::{t, term};
use super::{Person, Shown};
use crate::Gateway;

#[derive(Deserialize)]
pub(crate) struct UsageForm {
    /// The first month, as the month field sends it ("2026-01"); a year back when empty.
    #[serde(default)]
    from: String,
}

pub(crate) async fn show(
    State(gw): State<Gateway>,
    person: Person,
    Query(f): Query<UsageForm>,
) -> Result<Response, Shown> {
    let from = f.from.trim();
    let path = match from {
        "" => "/v1/usage".to_string(),
        month => format!("/v1/usage?from={}", api::segment(month)),
    };
    let (status, usage, problem) = match api::call(&gw, &person, Method::GET, &path, None)
        .await
        .map_err(api::Refusal::from)
    {
        Ok(usage) => (axum::http::StatusCode::OK, usage, None),
        Err(api::Refusal::Said(status, message)) => (status, Value::Null, Some(message)),
        Err(api::Refusal::Failed(e)) => return Err(e.into()),
    };
    let content = usage_page(from, &usage, problem.as_deref());
    Ok((
        status,
        Html(page(t("Usage"), Some(&person), content).into_string()),
    )
        .into_response())
}

/// One month's texts, segments and cost: the sums of its purposes' rows.
#[derive(Default)]
struct Month<'a> {
    month: &'a str,
    rows: Vec<&'a Value>,
    texts: u64,
    segments: u64,
    cost: f64,
}

/// The API's rows (newest month first) gathered by month.
fn months(rows: &[Value]) -> Vec<Month<'_>> {
    let mut months: Vec<Month> = Vec::new();
    for row in rows {
        let month = text(&row["month"]);
        if months.last().is_none_or(|m| m.month != month) {
            months.push(Month {
                month,
                ..Month::default()
            });
        }
        let m = months.last_mut().expect("pushed above");
        m.texts += row["texts"].as_u64().unwrap_or(0);
        m.segments += row["segments"].as_u64().unwrap_or(0);
        m.cost += row["cost_usd"].as_f64().unwrap_or(0.0);
        m.rows.push(row);
    }
    months
}

fn usage_page(from: &str, usage: &Value, problem: Option<&str>) -> Markup {
    let rows = usage["rows"].as_array().cloned().unwrap_or_default();
    let months = months(&rows);
    // Oldest first in the chart, as time reads left to right and top to bottom.
    let bars: Vec<(String, u32)> = months
        .iter()
        .rev()
        .map(|m| {
            (
                m.month.to_string(),
                u32::try_from(m.segments).unwrap_or(u32::MAX),
            )
        })
        .collect();
    let total: f64 = months.iter().map(|m| m.cost).sum();
    html! {
        p { (t("Texts Twilio took and texts received, by month (UTC). The cost is the price per segment each text was sent at; Twilio bills received texts at its own inbound rate, not counted here.")) }
        @if let Some(problem) = problem { p.error role="alert" { (problem) } }
        form.card method="get" action="/console/admin/usage" {
            label { (t("From the month")) input type="month" name="from" value=(from) placeholder="2026-01"; }
            button type="submit" { (t("Show")) }
        }
        @if months.is_empty() {
            @if problem.is_none() { p { (t("No texts in these months.")) } }
        } @else {
            p { (t("Total")) ": " (format!("${total:.2}")) }
            (charts::bars(t("Segments per month"), &bars))
            table {
                caption { (t("Texts, segments and cost per month and purpose")) }
                thead { tr {
                    th scope="col" { (t("Month")) } th scope="col" { (t("Purpose")) }
                    th scope="col" { (t("Texts")) } th scope="col" { (t("Segments")) } th scope="col" { (t("Cost")) }
                } }
                tbody {
                    @for m in &months {
                        @for row in &m.rows {
                            tr {
                                td { (m.month) } td { (term(text(&row["purpose"]))) }
                                td { (row["texts"]) } td { (row["segments"]) }
                                td { (format!("${:.4}", row["cost_usd"].as_f64().unwrap_or(0.0))) }
                            }
                        }
                        tr.total {
                            th scope="row" { (m.month) } td { (t("All")) }
                            td { (m.texts) } td { (m.segments) } td { (format!("${:.4}", m.cost)) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_are_summed_per_month_and_charted_oldest_first() {
        let usage = json!({"from": "2026-10", "rows": [
            {"month": "2026-11", "purpose": "bulk", "texts": 3, "segments": 6, "cost_usd": 0.0498},
            {"month": "2026-11", "purpose": "inbound", "texts": 2, "segments": 2, "cost_usd": 0.0},
            {"month": "2026-10", "purpose": "conversation", "texts": 1, "segments": 1, "cost_usd": 0.0083},
        ]});
        let rows = usage["rows"].as_array().unwrap();
        let m = months(rows);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].month, m[0].texts, m[0].segments), ("2026-11", 5, 8));
        let html = usage_page("2026-10", &usage, None).into_string();
        assert!(html.contains("Total: $0.06"), "{html}");
        assert!(
            html.contains("<td>All</td><td>5</td><td>8</td><td>$0.0498</td>"),
            "{html}"
        );
        let chart = html.find("aria-label=\"Segments per month. 2026-10: 1, 2026-11: 8\"");
        assert!(chart.is_some(), "{html}");
    }
}
