//! The reminder policy, for an admin: for court dates, meetings and deadlines, how long
//! before each reminder goes and its wording in English and Spanish; and any wording tried
//! on a case, as its client would read it, before it is saved.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use chrono::{Duration, NaiveDateTime, NaiveTime, TimeZone};
use maud::{html, Markup};
use serde_json::{json, Value};

use super::api::{self, segment, text};
use super::compose;
use super::page::page;
use super::words::t;
use super::{Fields, Person, Shown};
use crate::Gateway;

/// The kinds of appointment, as the policy names them, and as the page does.
const KINDS: [(&str, &str); 3] = [
    ("court_date", "Court dates"),
    ("meeting", "Meetings"),
    ("deadline", "Deadlines"),
];

/// The languages the page writes wording in.
const LANGUAGES: [(&str, &str); 2] = [("en", "English"), ("es", "Español")];

fn policy_path(person: &Person) -> String {
    format!("/v1/tenants/{}/reminder-policy", person.user.tenant_id)
}

pub(crate) async fn show(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let policy = api::call(&gw, &person, Method::GET, &policy_path(&person), None).await?;
    let content = form(&person, &fields_of(&policy), None, None);
    Ok(Html(page(t("Reminders"), Some(&person), content).into_string()).into_response())
}

/// The saved policy as the form's fields.
fn fields_of(policy: &Value) -> Fields {
    let mut pairs = Vec::new();
    for (kind, _) in KINDS {
        let offsets: Vec<&str> = (policy[kind]["offsets"].as_array())
            .map(|o| o.iter().map(text).collect())
            .unwrap_or_default();
        pairs.push((format!("{kind}_offsets"), offsets.join(", ")));
        for (code, _) in LANGUAGES {
            let wording = text(&policy[kind]["templates"][code]).to_string();
            pairs.push((format!("{kind}_{code}"), wording));
        }
    }
    Fields::from_pairs(pairs)
}

/// The policy the form says: each kind's offsets and wording (an empty box leaves
/// casewire's own wording for that language).
fn policy_of(f: &Fields) -> Value {
    let mut policy = json!({});
    for (kind, _) in KINDS {
        let mut templates = json!({});
        for (code, _) in LANGUAGES {
            let wording = f.get(&format!("{kind}_{code}"));
            if !wording.is_empty() {
                templates[code] = wording.into();
            }
        }
        policy[kind] =
            json!({"offsets": f.list(&format!("{kind}_offsets")), "templates": templates});
    }
    policy
}

/// Saves the policy, or tries one kind's wording on a case: the button pressed says which.
pub(crate) async fn submit(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<Fields>,
) -> Result<Response, Shown> {
    person.check_csrf(f.get("csrf"))?;
    let asked = match f.get("do") {
        "save" => save(&gw, &person, &f).await,
        _ => preview(&gw, &person, &f).await,
    };
    let (status, said, problem) = match asked {
        Ok(said) => (StatusCode::OK, Some(said), None),
        Err(api::Refusal::Said(status, message)) => (status, None, Some(message)),
        Err(api::Refusal::Failed(e)) => return Err(e.into()),
    };
    let content = form(&person, &f, said, problem.as_deref());
    let html = page(t("Reminders"), Some(&person), content).into_string();
    Ok((status, Html(html)).into_response())
}

async fn save(gw: &Gateway, person: &Person, f: &Fields) -> Result<Markup, api::Refusal> {
    let path = policy_path(person);
    api::call(gw, person, Method::PUT, &path, Some(policy_of(f))).await?;
    Ok(html! { p { (t("Saved: open appointments' reminders are planned again by it.")) } })
}

/// The reminder of the chosen kind as the case's client would read it, with the wording
/// in the form (not saved yet), at the time typed in the client's zone.
async fn preview(gw: &Gateway, person: &Person, f: &Fields) -> Result<Markup, api::Refusal> {
    let case_id = f.get("case_id");
    if case_id.is_empty() {
        let why = t("Name a case to try the wording on: its client's name and time zone are used.");
        return Err(api::Refusal::Said(
            StatusCode::UNPROCESSABLE_ENTITY,
            why.to_string(),
        ));
    }
    let case = api::call(
        gw,
        person,
        Method::GET,
        &format!("/v1/cases/{}", segment(case_id)),
        None,
    )
    .await?;
    let zone = match case["time_zone"].as_str() {
        Some(zone) => zone.to_string(),
        None => {
            let tenant = format!("/v1/tenants/{}", person.user.tenant_id);
            text(&api::call(gw, person, Method::GET, &tenant, None).await?["timezone"]).to_string()
        }
    };
    let starts_at = starts_at(f.get("when"), &zone)
        .map_err(|why| api::Refusal::Said(StatusCode::UNPROCESSABLE_ENTITY, why))?;
    let (kind, language) = (f.get("kind"), f.get("language"));
    let wording = f.get(&format!("{kind}_{language}"));
    let mut ask =
        json!({"kind": kind, "language": language, "case_id": case_id, "starts_at": starts_at});
    if !wording.is_empty() {
        ask["template"] = wording.into();
    }
    let location = f.get("location");
    if !location.is_empty() {
        ask["location"] = location.into();
    }
    let said = api::call(gw, person, Method::POST, "/v1/templates/preview", Some(ask)).await?;
    Ok(html! {
        p { (t("As the client would read it")) " (" (starts_at) "):" }
        blockquote lang=(language) { (text(&said["text"])) }
        p.hint { (compose::phrase(
            u32::try_from(said["segments"].as_u64().unwrap_or(0)).unwrap_or(u32::MAX),
            said["encoding"] == "UCS-2",
            said["price_usd"].as_f64(),
        )) }
    })
}

/// The appointment's time, RFC 3339, from the form's local date and time in `zone`; a week
/// from now at 9:00 when none was typed.
fn starts_at(typed: &str, zone: &str) -> Result<String, String> {
    let zone: chrono_tz::Tz = zone
        .parse()
        .map_err(|_| format!("{zone:?} is not a time zone"))?;
    let local = match typed {
        "" => {
            let day =
                casewire_events::utc_now().with_timezone(&zone).date_naive() + Duration::days(7);
            day.and_time(NaiveTime::from_hms_opt(9, 0, 0).expect("9:00 is a time"))
        }
        typed => NaiveDateTime::parse_from_str(typed, "%Y-%m-%dT%H:%M")
            .map_err(|_| format!("{typed:?} is not a date and time such as 2026-12-14T09:00"))?,
    };
    let at = zone
        .from_local_datetime(&local)
        .earliest()
        .ok_or_else(|| format!("{typed} does not exist in {zone} (the clocks skip it)"))?;
    Ok(at.to_rfc3339())
}

fn form(person: &Person, f: &Fields, said: Option<Markup>, problem: Option<&str>) -> Markup {
    html! {
        p { (t("How long before an appointment each reminder goes (P7D is 7 days, PT2H two hours), and its wording. An empty box keeps casewire's own wording. Wording names the sender with {organization} and says how to stop (Reply STOP); it may use {client_first_name}, {date}, {time}, {location} and {advocate}.")) }
        @if let Some(problem) = problem { p.error role="alert" { (problem) } }
        @if let Some(said) = said { section.notice role="status" { (said) } }
        form.card method="post" action="/console/admin/reminders" {
            input type="hidden" name="csrf" value=(person.csrf);
            @for (kind, name) in KINDS {
                fieldset {
                    legend { (t(name)) }
                    label { (t("Before the appointment, separated by commas"))
                        input name={ (kind) "_offsets" } value=(f.get(&format!("{kind}_offsets"))) placeholder="P7D, P1D"; }
                    @for (code, language) in LANGUAGES {
                        @let field = format!("{kind}_{code}");
                        label { (t("Wording")) ", " (language)
                            textarea name=(field) rows="3" maxlength="480" lang=(code) { (f.get(&field)) } }
                    }
                }
            }
            fieldset {
                legend { (t("Try it on a case")) }
                label { (t("Kind")) select name="kind" {
                    @for (kind, name) in KINDS { option value=(kind) selected[f.get("kind") == kind] { (t(name)) } } } }
                label { (t("Language")) select name="language" {
                    @for (code, language) in LANGUAGES { option value=(code) selected[f.get("language") == code] { (language) } } } }
                label { (t("Case id")) input name="case_id" value=(f.get("case_id")) maxlength="128"; }
                label { (t("When, in the client's time zone (a week from now at 9:00 if empty)"))
                    input name="when" type="datetime-local" value=(f.get("when")); }
                label { (t("Location (optional)")) input name="location" value=(f.get("location")) maxlength="200"; }
                button type="submit" name="do" value="preview" { (t("Preview the reminder")) }
            }
            button type="submit" name="do" value="save" { (t("Save the reminder policy")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_the_policy_and_back() {
        let policy = json!({
            "court_date": {"offsets": ["P7D", "P1D"], "templates": {"es": "{organization}: corte {date}. PARAR"}},
            "meeting": {"offsets": ["PT2H"], "templates": {}},
            "deadline": {"offsets": [], "templates": {}},
        });
        assert_eq!(policy_of(&fields_of(&policy)), policy);
    }

    #[test]
    fn the_time_typed_is_the_clients_local_time() {
        let at = starts_at("2026-12-14T09:00", "America/Chicago").unwrap();
        assert_eq!(at, "2026-12-14T09:00:00-06:00");
        assert!(starts_at("14/12/2026", "America/Chicago")
            .unwrap_err()
            .contains("2026-12-14T09:00"));
        // 2:30 on the night the clocks spring forward does not exist in Chicago.
        assert!(starts_at("2026-03-08T02:30", "America/Chicago").is_err());
    }
}
