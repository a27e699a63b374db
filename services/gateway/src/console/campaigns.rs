//! Campaigns in the console: the list, a new campaign with its audience and cost shown as
//! it is written, a campaign's life (launch, approve, pause, resume, cancel), its progress
//! while it runs, and a survey's results as charts, with the CSV for a funder's report.
//!
//! The form drafts what most campaigns are: an audience by the filters, a text in English
//! and in Spanish, a rate, and up to three questions without branching. A sending window,
//! a start time, other languages and branching are the API's (`POST /v1/campaigns`);
//! docs/console.md says why.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use casewire_contract::campaigns::CampaignStep;
use casewire_tenancy::Role;
use maud::{html, Markup};
use serde::Serialize;
use serde_json::{json, Value};

use super::api::{self, segment, text};
use super::charts;
use super::compose;
use super::page::page;
use super::words::{t, term};
use super::{Csrf, Fields, Person, Shown};
use crate::Gateway;

/// The languages the form writes a text in.
const LANGUAGES: [(&str, &str); 2] = [("en", "English"), ("es", "Español")];

/// How many questions the form takes.
const QUESTIONS: usize = 3;

/// The new-campaign form's parts, as the API takes them.
impl Fields {
    /// The audience part of the form, as `POST /v1/audiences/preview` takes it.
    fn audience(&self) -> Value {
        let mut filter = json!({});
        for key in [
            "problem_codes",
            "offices",
            "advocates",
            "languages",
            "case_ids",
        ] {
            let values = self.list(key);
            if !values.is_empty() {
                filter[key] = json!(values);
            }
        }
        if matches!(self.get("status"), "open" | "closed") {
            filter["status"] = json!(self.get("status"));
        }
        for range in ["opened", "closed"] {
            let mut dates = json!({});
            for end in ["from", "to"] {
                let day = self.get(&format!("{range}_{end}"));
                if !day.is_empty() {
                    dates[end] = json!(day);
                }
            }
            if dates != json!({}) {
                filter[range] = dates;
            }
        }
        let mut audience = json!({ "filter": filter });
        if let Some(within) = self.within() {
            audience["exclude_texted_within"] = json!(within);
        }
        audience
    }

    /// "Leave out clients texted in the last N days", as the API's period.
    fn within(&self) -> Option<String> {
        let days = self.get("exclude_days");
        (!days.is_empty()).then(|| format!("P{days}D"))
    }

    /// The campaign's plan, as `POST /v1/campaigns` takes it, or what is wrong with a
    /// field the API would not name as the person typed it.
    fn plan(&self) -> Result<Value, String> {
        let audience = self.audience();
        let messages: serde_json::Map<String, Value> = LANGUAGES
            .iter()
            .filter(|(code, _)| !self.get(&format!("message_{code}")).is_empty())
            .map(|(code, _)| {
                (
                    code.to_string(),
                    json!(self.get(&format!("message_{code}"))),
                )
            })
            .collect();
        let mut plan = json!({
            "name": self.get("name"),
            "kind": if self.get("kind") == "survey" { "survey" } else { "announcement" },
            "filter": audience["filter"],
            "messages": messages,
        });
        if let Some(within) = self.within() {
            plan["exclude_texted_within"] = json!(within);
        }
        let per_second = self.get("per_second");
        if !per_second.is_empty() {
            let rate: f64 = per_second
                .parse()
                .map_err(|_| t("Rate: a number of segments a second, such as 1 or 0.5"))?;
            plan["rate"] = json!({ "per_second": rate });
        }
        if plan["kind"] == "survey" {
            let mut questions = Vec::new();
            for i in 1..=QUESTIONS {
                if let Some(q) = self.question(i)? {
                    questions.push(q);
                }
            }
            let mut survey = json!({ "questions": questions });
            let days = self.get("expires_days");
            if !days.is_empty() {
                survey["expires"] = json!(format!("P{days}D"));
            }
            plan["survey"] = survey;
        }
        Ok(plan)
    }

    /// Question `i` of the form, when its answer kind is chosen.
    fn question(&self, i: usize) -> Result<Option<Value>, String> {
        let field = |name: &str| self.get(&format!("q{i}_{name}"));
        let answer = match field("answer") {
            "" => return Ok(None),
            "yes_no" => json!("yes_no"),
            "free_text" => json!("free_text"),
            "scale" => {
                let (min, max) = field("options")
                    .split_once('-')
                    .and_then(|(a, b)| {
                        Some((a.trim().parse::<i64>().ok()?, b.trim().parse::<i64>().ok()?))
                    })
                    .ok_or_else(|| {
                        format!(
                            "{} {i}: {}",
                            t("Question"),
                            t("a scale is written as its ends, such as 1-5")
                        )
                    })?;
                json!({ "scale": { "min": min, "max": max } })
            }
            _ => {
                let options: Vec<&str> = field("options")
                    .split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .collect();
                json!({ "choice": { "options": options } })
            }
        };
        let text: serde_json::Map<String, Value> = LANGUAGES
            .iter()
            .filter(|(code, _)| !field(&format!("text_{code}")).is_empty())
            .map(|(code, _)| (code.to_string(), json!(field(&format!("text_{code}")))))
            .collect();
        Ok(Some(
            json!({ "id": format!("q{i}"), "text": text, "answer": answer }),
        ))
    }
}

pub(crate) async fn list(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let found = api::call(&gw, &person, Method::GET, "/v1/campaigns?limit=100", None).await?;
    let campaigns = found["items"].as_array().cloned().unwrap_or_default();
    let content = html! {
        @if sends(&person) { p { a href="/console/campaigns/new" { (t("New campaign")) } } }
        table {
            caption { (t("Campaigns, newest first")) }
            thead { tr { th scope="col" { (t("Name")) } th scope="col" { (t("Kind")) } th scope="col" { (t("State")) }
                th scope="col" { (t("Recipients")) } th scope="col" { (t("Sent")) } th scope="col" { (t("Replied")) } } }
            tbody {
                @for c in &campaigns {
                    tr {
                        td { a href={ "/console/campaigns/" (segment(text(&c["id"]))) } { (text(&c["plan"]["name"])) } }
                        td { (term(text(&c["plan"]["kind"]))) }
                        td { (term(text(&c["state"]))) }
                        td { (c["counts"]["recipients"].as_u64().or(c["estimate"]["recipients"].as_u64()).unwrap_or(0)) }
                        td { (c["counts"]["sent"].as_u64().unwrap_or(0)) }
                        td { (c["counts"]["replied"].as_u64().unwrap_or(0)) }
                    }
                }
            }
        }
        @if campaigns.is_empty() { p { (t("No campaigns yet.")) } }
    };
    Ok(Html(page(t("Campaigns"), Some(&person), content).into_string()).into_response())
}

/// Whether the person may draft and run campaigns: an admin or an advocate who sees the
/// whole organization (the API's rule; the page only leaves out what would be refused).
fn sends(person: &Person) -> bool {
    matches!(person.user.role, Role::Admin | Role::Advocate) && person.user.advocate_id.is_none()
}

pub(crate) async fn new(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let form = form_page(&gw, &person, &Fields::default(), None, None).await?;
    Ok(Html(form.into_string()).into_response())
}

/// The new-campaign page: the form as typed, the audience it reaches (when asked), and
/// what the API said was wrong.
async fn form_page(
    gw: &Gateway,
    person: &Person,
    f: &Fields,
    reach: Option<&str>,
    problem: Option<&str>,
) -> Result<Markup, Shown> {
    let micros = compose::price(gw, &person.user.tenant_id).await?;
    let field = |label: &'static str, name: &'static str, hint: &'static str| {
        html! { label { (t(label)) input name=(name) value=(f.get(name)) placeholder=(hint); } }
    };
    let day = |label: &'static str, name: &'static str| {
        html! { label { (t(label)) input name=(name) type="date" value=(f.get(name)); } }
    };
    let status = f.get("status");
    let kind = f.get("kind");
    let content = html! {
        @if let Some(problem) = problem { p.error role="alert" { (problem) } }
        form.card.wide method="post" action="/console/campaigns" data-audience="/console/campaigns/audience" {
            input type="hidden" name="csrf" value=(person.csrf);
            label { (t("Name (for you; clients do not see it)")) input name="name" required maxlength="200" value=(f.get("name")); }
            fieldset {
                legend { (t("Kind")) }
                label.check { input type="radio" name="kind" value="announcement" checked[kind != "survey"]; (t("An announcement")) }
                label.check { input type="radio" name="kind" value="survey" checked[kind == "survey"]; (t("A survey: the text opens it, its questions follow")) }
            }
            fieldset {
                legend { (t("Who gets it: cases that match every filter you fill (commas between values)")) }
                (field("Problem codes", "problem_codes", "63, 01"))
                label { (t("Case status"))
                    select name="status" {
                        option value="any" selected[status != "open" && status != "closed"] { (t("Open or closed")) }
                        option value="open" selected[status == "open"] { (t("Open")) }
                        option value="closed" selected[status == "closed"] { (t("Closed")) }
                    }
                }
                (field("Offices", "offices", ""))
                (field("Advocates (their ids in the CMS)", "advocates", ""))
                (field("Client languages", "languages", "es"))
                (day("Opened from", "opened_from")) (day("Opened until", "opened_to"))
                (day("Closed from", "closed_from")) (day("Closed until", "closed_to"))
                (field("Case ids", "case_ids", ""))
                label { (t("Leave out clients texted in the last (days)"))
                    input name="exclude_days" type="number" min="1" max="90" value=(f.get("exclude_days")); }
            }
            p { output id="reach" aria-live="polite" { (reach.unwrap_or(t("Preview the audience to see whom it reaches and what it costs."))) } }
            fieldset {
                legend { (t("The text, with {client.first_name} and {organization.name} if you like; a client whose language has none gets the English")) }
                @for (code, language) in LANGUAGES {
                    @let name = format!("message_{code}");
                    label { (language)
                        textarea name=(name) rows="3" maxlength="1600" lang=(code) data-counter={ "count-" (code) } { (f.get(&name)) } }
                    p.hint { output id={ "count-" (code) } { (compose::said(f.get(&name), micros)) } }
                }
            }
            label { (t("Rate: at most this many segments a second (the organization's own limit holds too)"))
                input name="per_second" inputmode="decimal" value=(f.get("per_second")) placeholder="1"; }
            fieldset {
                legend { (t("Survey questions (a survey only), asked in order")) }
                @for i in 1..=QUESTIONS {
                    @let answer = f.get(&format!("q{i}_answer"));
                    fieldset {
                        legend { (t("Question")) " " (i) }
                        @for (code, language) in LANGUAGES {
                            @let name = format!("q{i}_text_{code}");
                            label { (language) input name=(name) lang=(code) value=(f.get(&name)) maxlength="1000"; }
                        }
                        label { (t("Answer"))
                            select name={ "q" (i) "_answer" } {
                                option value="" selected[answer.is_empty()] { (t("(no question)")) }
                                option value="yes_no" selected[answer == "yes_no"] { (t("Yes or no")) }
                                option value="scale" selected[answer == "scale"] { (t("A number on a scale")) }
                                option value="choice" selected[answer == "choice"] { (t("One of some options")) }
                                option value="free_text" selected[answer == "free_text"] { (t("In their own words")) }
                            }
                        }
                        @let options = format!("q{i}_options");
                        label { (t("The scale's ends (1-5) or the options (commas between)")) input name=(options) value=(f.get(&options)); }
                    }
                }
                label { (t("Replies answer for (days)")) input name="expires_days" type="number" min="1" max="30" value=(f.get("expires_days")) placeholder="3"; }
            }
            div.actions {
                button type="submit" name="action" value="preview" { (t("Preview the audience")) }
                button type="submit" name="action" value="draft" { (t("Save the draft")) }
            }
        }
    };
    Ok(page(t("New campaign"), Some(person), content))
}

#[derive(Serialize)]
pub(crate) struct Reach {
    /// "412 clients, about $3.26 at one segment a text. Left out: …", as the form shows it.
    said: String,
}

/// Whom the audience reaches and what it costs, as a sentence.
async fn reach(gw: &Gateway, person: &Person, f: &Fields) -> Result<String, api::Refusal> {
    let preview = api::call(
        gw,
        person,
        Method::POST,
        "/v1/audiences/preview",
        Some(f.audience()),
    )
    .await
    .map_err(api::Refusal::from)?;
    let excluded = &preview["excluded"];
    let left_out: Vec<String> = [
        ("revoked", t("opted out")),
        ("no_consent", t("without consent")),
        ("no_phone", t("without a number")),
        ("duplicate_phone", t("sharing a number (texted once)")),
        ("recently_texted", t("texted lately")),
    ]
    .into_iter()
    .filter_map(|(key, said)| {
        let n = excluded[key].as_u64().filter(|n| *n > 0)?;
        Some(format!("{n} {said}"))
    })
    .collect();
    let mut said = format!(
        "{} {}{:.2}{}",
        preview["recipients"],
        t("clients would get it, about $"),
        preview["cost_estimate_usd"].as_f64().unwrap_or(0.0),
        t(" at one segment a text."),
    );
    if !left_out.is_empty() {
        said.push_str(&format!(" {} {}.", t("Left out:"), left_out.join(", ")));
    }
    Ok(said)
}

/// The form's audience, for its script as the person types: a sentence, or the API's
/// word on what is wrong with the filter.
pub(crate) async fn audience(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<Fields>,
) -> Result<Json<Reach>, Shown> {
    person.check_csrf(f.get("csrf"))?;
    let said = match reach(&gw, &person, &f).await {
        Ok(said) => said,
        Err(api::Refusal::Said(_, message)) => message,
        Err(api::Refusal::Failed(e)) => return Err(e.into()),
    };
    Ok(Json(Reach { said }))
}

/// The form sent: its audience previewed, or the campaign drafted and shown; what the API
/// refuses is shown above the form, kept as typed.
pub(crate) async fn create(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<Fields>,
) -> Result<Response, Shown> {
    person.check_csrf(f.get("csrf"))?;
    let again = |status: StatusCode, reach: Option<String>, problem: Option<String>| {
        let (gw, person, f) = (&gw, &person, &f);
        async move {
            let page = form_page(gw, person, f, reach.as_deref(), problem.as_deref()).await?;
            Ok::<_, Shown>((status, Html(page.into_string())).into_response())
        }
    };
    if f.get("action") == "preview" {
        return match reach(&gw, &person, &f).await {
            Ok(said) => again(StatusCode::OK, Some(said), None).await,
            Err(api::Refusal::Said(status, message)) => again(status, None, Some(message)).await,
            Err(api::Refusal::Failed(e)) => Err(e.into()),
        };
    }
    let plan = match f.plan() {
        Ok(plan) => plan,
        Err(problem) => return again(StatusCode::UNPROCESSABLE_ENTITY, None, Some(problem)).await,
    };
    match api::call(&gw, &person, Method::POST, "/v1/campaigns", Some(plan)).await {
        Ok(made) => Ok(Redirect::to(&format!(
            "/console/campaigns/{}",
            segment(text(&made["id"]))
        ))
        .into_response()),
        Err(e) => match api::Refusal::from(e) {
            api::Refusal::Said(status, message) => again(status, None, Some(message)).await,
            api::Refusal::Failed(e) => Err(e.into()),
        },
    }
}

pub(crate) async fn show(
    State(gw): State<Gateway>,
    person: Person,
    Path(id): Path<String>,
) -> Result<Response, Shown> {
    let page = campaign_page(&gw, &person, &id, None).await?;
    Ok(Html(page.into_string()).into_response())
}

async fn campaign_page(
    gw: &Gateway,
    person: &Person,
    id: &str,
    refused: Option<&str>,
) -> Result<Markup, Shown> {
    let c = api::call(
        gw,
        person,
        Method::GET,
        &format!("/v1/campaigns/{}", segment(id)),
        None,
    )
    .await?;
    let survey = c["plan"]["kind"] == "survey";
    let results = match (survey, c["state"].as_str()) {
        (true, Some(state)) if state != "draft" => Some(
            api::call(
                gw,
                person,
                Method::GET,
                &format!("/v1/campaigns/{}/results", segment(id)),
                None,
            )
            .await?,
        ),
        _ => None,
    };
    let content = html! {
        @if let Some(refused) = refused { p.error role="alert" { (refused) } }
        dl.fields {
            dt { (t("Kind")) } dd { (term(text(&c["plan"]["kind"]))) }
            dt { (t("State")) } dd { (term(text(&c["state"]))) }
            dt { (t("Drafted")) } dd.when { (text(&c["created_at"])) }
            @if let Some(launched) = c["launched_at"].as_str() { dt { (t("Launched")) } dd.when { (launched) } }
            dt { (t("Who")) } dd { (filter_said(&c["plan"]["filter"])) }
        }
        @for (code, language) in LANGUAGES {
            @if let Some(message) = c["plan"]["messages"][code].as_str() {
                h2 { (language) }
                p.text.out lang=(code) { (message) }
            }
        }
        @if let Some(estimate) = c.get("estimate").filter(|e| !e.is_null()) {
            h2 { (t("Estimate")) }
            p { (estimate["recipients"]) " " (t("recipients, about $")) (format!("{:.2}", estimate["cost_usd"].as_f64().unwrap_or(0.0))) }
        }
        @if c["counts"].is_object() { (progress(&c)) }
        (steps(person, &c))
        @if let Some(results) = &results { (survey_results(&c, results)) }
        @if c["state"] != "draft" {
            p { a href={ "/console/campaigns/" (segment(id)) "/results.csv" } download { (t("Download the results (CSV, one row per recipient)")) } }
        }
    };
    Ok(page(text(&c["plan"]["name"]), Some(person), content))
}

/// The audience's filter as a person reads it: "problem_codes: 01; status: open", or
/// every case.
fn filter_said(filter: &Value) -> String {
    let said: Vec<String> = filter
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| {
            let value = match value {
                Value::Array(values) => values
                    .iter()
                    .map(|v| text(v).to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                Value::Object(range) => range
                    .iter()
                    .map(|(end, day)| format!("{end} {}", text(day)))
                    .collect::<Vec<_>>()
                    .join(" "),
                other => text(other).to_string(),
            };
            format!("{key}: {value}")
        })
        .collect();
    if said.is_empty() {
        t("every case").to_string()
    } else {
        said.join("; ")
    }
}

/// Where a launched campaign's texts stand; while it runs the page's script asks for it
/// again every few seconds (`progress_part`).
fn progress(c: &Value) -> Markup {
    let counts = &c["counts"];
    let n = |key: &str| counts[key].as_u64().unwrap_or(0);
    let sum = |key: &str| {
        counts[key]
            .as_object()
            .map_or(0, |m| m.values().filter_map(Value::as_u64).sum::<u64>())
    };
    // Handled: at Twilio or past it (sent, delivered, failed), or left out at send time.
    let done = n("sent") + n("delivered") + sum("failed") + sum("skipped");
    let live = c["state"] == "running";
    let id = segment(text(&c["id"]));
    html! {
        section #progress data-live=[live.then(|| format!("/console/campaigns/{id}/progress"))] aria-labelledby="progress-title" {
            h2 #progress-title { (t("Progress")) }
            p role="status" { (done) " " (t("of")) " " (n("recipients")) " " (t("handled")) }
            progress max=(n("recipients").max(1)) value=(done) aria-labelledby="progress-title" {}
            table {
                caption { (t("Where the texts stand")) }
                tbody {
                    @for (key, label) in [
                        ("recipients", t("Recipients")), ("pending", t("Waiting their turn")),
                        ("queued", t("Queued for Twilio")), ("sent", t("Sent")), ("delivered", t("Delivered")),
                        ("replied", t("Replied")), ("opted_out", t("Opted out")),
                    ] {
                        tr { th scope="row" { (label) } td { (n(key)) } }
                    }
                    @for (group, label) in [("failed", t("failed, Twilio error")), ("skipped", t("skipped"))] {
                        @if let Some(m) = counts[group].as_object() {
                            @for (why, count) in m {
                                tr { th scope="row" { (label) " " (term(why)) } td { (count) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The progress section alone, for the page's script while the campaign runs.
pub(crate) async fn progress_part(
    State(gw): State<Gateway>,
    person: Person,
    Path(id): Path<String>,
) -> Result<Response, Shown> {
    let c = api::call(
        &gw,
        &person,
        Method::GET,
        &format!("/v1/campaigns/{}", segment(&id)),
        None,
    )
    .await?;
    Ok(Html(progress(&c).into_string()).into_response())
}

/// The buttons for the steps the campaign's state allows and the person's role may take.
fn steps(person: &Person, c: &Value) -> Markup {
    if !sends(person) {
        return html! {};
    }
    let state = text(&c["state"]);
    let admin = person.user.role == Role::Admin;
    let allowed: Vec<(&str, &str)> = [
        (
            "launch",
            t("Launch: freeze the audience and start sending"),
            state == "draft",
        ),
        (
            "approve",
            t("Approve the launch"),
            state == "draft" && admin,
        ),
        ("pause", t("Pause"), state == "running"),
        ("resume", t("Resume"), state == "paused"),
        (
            "cancel",
            t("Cancel for good"),
            matches!(state, "draft" | "running" | "paused"),
        ),
    ]
    .into_iter()
    .filter(|(_, _, allowed)| *allowed)
    .map(|(step, label, _)| (step, label))
    .collect();
    let id = segment(text(&c["id"]));
    html! {
        div.actions {
            @for (step, label) in allowed {
                form method="post" action={ "/console/campaigns/" (id) "/" (step) } {
                    input type="hidden" name="csrf" value=(person.csrf);
                    button type="submit" { (label) }
                }
            }
        }
    }
}

/// A step of the campaign's life, asked of the API: back to the campaign when done (so a
/// reload asks nothing again), or the page with what the API refused.
pub(crate) async fn step(
    State(gw): State<Gateway>,
    person: Person,
    Path((id, step)): Path<(String, CampaignStep)>,
    Form(f): Form<Csrf>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let name = serde_json::to_value(step).map_err(crate::ApiError::internal)?;
    let path = format!("/v1/campaigns/{}/{}", segment(&id), text(&name));
    match api::call(&gw, &person, Method::POST, &path, None)
        .await
        .map_err(api::Refusal::from)
    {
        Ok(_) => Ok(Redirect::to(&format!("/console/campaigns/{}", segment(&id))).into_response()),
        Err(api::Refusal::Said(status, message)) => {
            let page = campaign_page(&gw, &person, &id, Some(&message)).await?;
            Ok((status, Html(page.into_string())).into_response())
        }
        Err(api::Refusal::Failed(e)) => Err(e.into()),
    }
}

/// A survey's results: for each question its answers as bars (and a table of the same),
/// and the response rate as it grew after the launch.
fn survey_results(c: &Value, results: &Value) -> Markup {
    let questions = results["questions"].as_array().cloned().unwrap_or_default();
    let over_time: Vec<(u32, f64)> = results["over_time"]
        .as_array()
        .map(|points| {
            points
                .iter()
                .map(|p| {
                    (
                        p["hour"].as_u64().unwrap_or(0) as u32,
                        p["response_rate"].as_f64().unwrap_or(0.0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let percent = |v: &Value| format!("{:.0}%", v.as_f64().unwrap_or(0.0) * 100.0);
    let asked_text = |id: &str| {
        c["plan"]["survey"]["questions"]
            .as_array()
            .and_then(|qs| qs.iter().find(|q| q["id"] == id))
            .and_then(|q| {
                q["text"]["en"]
                    .as_str()
                    .or_else(|| q["text"].as_object()?.values().next()?.as_str())
            })
            .unwrap_or(id)
            .to_string()
    };
    html! {
        h2 { (t("Results")) }
        p { (results["responded"]) " " (t("of")) " " (results["texted"]) " " (t("answered")) " (" (percent(&results["response_rate"])) ")" }
        (charts::steps(t("Response rate, hours after the launch"), "h", &over_time))
        @for q in &questions {
            @let id = text(&q["id"]);
            @let answers: Vec<(String, u32)> = q["answers"].as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0) as u32)).collect()).unwrap_or_default();
            section.question aria-label={ (t("Question")) " " (id) } {
                h3 { (id) ": " (asked_text(id)) }
                p { (q["answered"]) " " (t("of")) " " (q["asked"]) " " (t("answered")) " (" (percent(&q["response_rate"])) ")"
                    @if let Some(seconds) = q["median_seconds_to_answer"].as_f64() {
                        ", " (t("median time to answer")) " " (format!("{:.0}", seconds / 60.0)) " min"
                    }
                }
                @if answers.is_empty() { p { (t("No answers yet.")) } } @else {
                    (charts::bars(&format!("{} {id}", t("Answers to")), &answers))
                    table {
                        caption { (t("Answers to")) " " (id) }
                        thead { tr { th scope="col" { (t("Answer")) } th scope="col" { (t("Clients")) } } }
                        tbody { @for (answer, n) in &answers { tr { td { (term(answer)) } td { (n) } } } }
                    }
                }
            }
        }
    }
}

/// The results' CSV, as the API writes it.
pub(crate) async fn csv(
    State(gw): State<Gateway>,
    person: Person,
    Path(id): Path<String>,
) -> Result<Response, Shown> {
    let path = format!("/v1/campaigns/{}/results.csv", segment(&id));
    Ok(api::raw(&gw, &person, &path).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields::of(pairs)
    }

    #[test]
    fn the_audience_is_built_from_the_filled_fields_only() {
        let f = fields(&[
            ("problem_codes", " 63, 01 ,"),
            ("status", "open"),
            ("opened_from", "2026-01-01"),
            ("offices", ""),
            ("exclude_days", "7"),
        ]);
        assert_eq!(
            f.audience(),
            json!({
                "filter": {"problem_codes": ["63", "01"], "status": "open", "opened": {"from": "2026-01-01"}},
                "exclude_texted_within": "P7D",
            })
        );
        assert_eq!(
            fields(&[("status", "any")]).audience(),
            json!({"filter": {}})
        );
    }

    #[test]
    fn a_survey_plan_has_the_questions_that_were_given() {
        let f = fields(&[
            ("name", "Outcome"),
            ("kind", "survey"),
            ("message_en", "Hi {client.first_name}"),
            ("message_es", ""),
            ("q1_text_en", "Did we help?"),
            ("q1_text_es", "¿Le ayudamos?"),
            ("q1_answer", "yes_no"),
            ("q2_text_en", "How much, 1 to 5?"),
            ("q2_answer", "scale"),
            ("q2_options", "1-5"),
            ("q3_answer", ""),
            ("per_second", "0.5"),
        ]);
        let plan = f.plan().unwrap();
        assert_eq!(plan["messages"], json!({"en": "Hi {client.first_name}"}));
        assert_eq!(plan["rate"], json!({"per_second": 0.5}));
        let questions = plan["survey"]["questions"].as_array().unwrap();
        assert_eq!(questions.len(), 2);
        assert_eq!(questions[0]["text"]["es"], "¿Le ayudamos?");
        assert_eq!(
            questions[1]["answer"],
            json!({"scale": {"min": 1, "max": 5}})
        );
    }

    #[test]
    fn what_the_api_would_not_say_clearly_is_said_here() {
        let rate = fields(&[("name", "x"), ("per_second", "fast")]).plan();
        assert!(rate.unwrap_err().contains("segments a second"));
        let scale = fields(&[
            ("kind", "survey"),
            ("q1_answer", "scale"),
            ("q1_options", "five"),
        ])
        .plan();
        assert!(scale.unwrap_err().contains("1-5"));
        // An announcement has no survey, whatever the question fields hold.
        let plan = fields(&[("kind", "announcement"), ("q1_answer", "yes_no")])
            .plan()
            .unwrap();
        assert!(plan.get("survey").is_none());
    }
}
