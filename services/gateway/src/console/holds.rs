//! Legal holds and erasure: the holds that stand (compliance and admins read them); an
//! admin places and lifts them, and erases a client, which a standing hold refuses.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use casewire_tenancy::Role;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{self, text};
use super::page::page;
use super::words::t;
use super::{Csrf, Person, Shown};
use crate::Gateway;

/// A client named on a form: by case id, or by number when no case is given.
fn client(case_id: &str, phone: &str) -> Value {
    match (case_id.trim(), phone.trim()) {
        ("", "") => json!({}),
        ("", phone) => json!({"phone": phone}),
        (case_id, _) => json!({"case_id": case_id}),
    }
}

/// The fields that name a client on a form, by case or by number, with the form's token.
fn client_fields(person: &Person) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(person.csrf);
        label { (t("Case id (or leave empty and give the number)")) input name="case_id" maxlength="128"; }
        label { (t("Client's number")) input name="phone" type="tel" maxlength="32"; }
    }
}

fn holds_page(person: &Person, holds: &[Value], said: Option<(&str, bool)>) -> Markup {
    let admin = person.user.role == Role::Admin;
    page(
        t("Legal holds and erasure"),
        Some(person),
        html! {
            @if let Some((said, good)) = said {
                @if good { p.notice role="status" { (said) } } @else { p.error role="alert" { (said) } }
            }
            table {
                caption { (t("Holds that stand: no erasure of these clients, by hand or by policy")) }
                thead { tr { th scope="col" { (t("Case")) } th scope="col" { (t("Client's number")) }
                    th scope="col" { (t("Reason")) } th scope="col" { (t("Placed")) } @if admin { th scope="col" { "" } } } }
                tbody {
                    @for h in holds {
                        tr {
                            td { (text(&h["case_id"])) } td { (text(&h["phone"])) } td { (text(&h["reason"])) }
                            td.when { (text(&h["placed_at"])) }
                            @if admin {
                                td { form method="post" action={ "/console/holds/" (text(&h["id"])) "/lift" } {
                                    input type="hidden" name="csrf" value=(person.csrf);
                                    button type="submit" { (t("Lift")) } } }
                            }
                        }
                    }
                }
            }
            @if holds.is_empty() { p { (t("No holds stand.")) } }
            @if admin {
                h2 { (t("Place a hold")) }
                form.card method="post" action="/console/holds" {
                    (client_fields(person))
                    label { (t("Reason (the matter or order)")) input name="reason" required maxlength="500"; }
                    button type="submit" { (t("Place the hold")) }
                }
                h2 { (t("Erase a client")) }
                p { (t("Their name, texts and notes read as erased everywhere from then on; the trail still verifies; the CMS is told; Twilio is asked to delete its copies. This cannot be undone.")) }
                form.card method="post" action="/console/erasures" {
                    (client_fields(person))
                    label { (t("Reason, naming no one (\"retention ended\", \"client's request\")")) input name="reason" required maxlength="500"; }
                    label.check { input type="checkbox" name="sure" value="yes" required; (t("I understand this cannot be undone")) }
                    button type="submit" { (t("Erase the client")) }
                }
            }
        },
    )
}

async fn holds_now(gw: &Gateway, person: &Person) -> Result<Vec<Value>, Shown> {
    let holds = api::call(gw, person, Method::GET, "/v1/legal-holds", None).await?;
    Ok(holds.as_array().cloned().unwrap_or_default())
}

pub(crate) async fn show(State(gw): State<Gateway>, person: Person) -> Result<Response, Shown> {
    let holds = holds_now(&gw, &person).await?;
    Ok(Html(holds_page(&person, &holds, None).into_string()).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ClientForm {
    csrf: String,
    #[serde(default)]
    case_id: String,
    #[serde(default)]
    phone: String,
    reason: String,
}

/// Asks the API, then shows the page again with what it said.
async fn act(
    gw: &Gateway,
    person: &Person,
    method: Method,
    path: &str,
    body: Option<Value>,
    done: &'static str,
) -> Result<Response, Shown> {
    let answer = api::call(gw, person, method, path, body).await;
    let holds = holds_now(gw, person).await?;
    let (status, said, good) = match answer.map_err(api::Refusal::from) {
        Ok(_) => (StatusCode::OK, t(done).to_string(), true),
        Err(api::Refusal::Said(status, message)) => (status, message, false),
        Err(api::Refusal::Failed(e)) => return Err(e.into()),
    };
    let page = holds_page(person, &holds, Some((&said, good)));
    Ok((status, Html(page.into_string())).into_response())
}

pub(crate) async fn place(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<ClientForm>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let mut body = client(&f.case_id, &f.phone);
    body["reason"] = json!(f.reason);
    act(
        &gw,
        &person,
        Method::POST,
        "/v1/legal-holds",
        Some(body),
        "The hold stands.",
    )
    .await
}

pub(crate) async fn lift(
    State(gw): State<Gateway>,
    person: Person,
    Path(id): Path<String>,
    Form(f): Form<Csrf>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.csrf)?;
    let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
    api::call(
        &gw,
        &person,
        Method::DELETE,
        &format!("/v1/legal-holds/{id}"),
        None,
    )
    .await?;
    Ok(Redirect::to("/console/holds").into_response())
}

#[derive(Deserialize)]
pub(crate) struct EraseForm {
    #[serde(flatten)]
    client: ClientForm,
    sure: Option<String>,
}

pub(crate) async fn erase(
    State(gw): State<Gateway>,
    person: Person,
    Form(f): Form<EraseForm>,
) -> Result<Response, Shown> {
    person.check_csrf(&f.client.csrf)?;
    if f.sure.as_deref() != Some("yes") {
        let holds = holds_now(&gw, &person).await?;
        let said = (
            t("Tick the box to say you understand it cannot be undone."),
            false,
        );
        let page = holds_page(&person, &holds, Some(said));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.into_string())).into_response());
    }
    let mut body = client(&f.client.case_id, &f.client.phone);
    body["reason"] = json!(f.client.reason);
    act(
        &gw,
        &person,
        Method::POST,
        "/v1/clients/erase",
        Some(body),
        "The client is erased.",
    )
    .await
}
