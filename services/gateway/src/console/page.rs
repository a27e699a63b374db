//! The console's page layout, and its one error type: whatever goes wrong is shown as a
//! page that says what and what to do, with the API's status.

use super::words::t;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use casewire_tenancy::Role;
use maud::{html, Markup, DOCTYPE};

use super::Person;
use crate::ApiError;

/// A page of the console: a title, the person signed in (none on the sign-in pages), the
/// content. Its header names the pages the person's role may open, and nothing else.
pub(crate) fn page(title: &str, person: Option<&Person>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(super::words::lang().code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · casewire" }
                link rel="stylesheet" href="/console/static/console.css";
                script src="/console/static/console.js" defer {}
            }
            body {
                a.skip href="#main" { (t("Skip to the content")) }
                header.bar {
                    strong { "casewire" }
                    @if let Some(p) = person {
                        nav aria-label="Pages" {
                            ul {
                                li { a href="/console" { (t("Home")) } }
                                @if p.user.advocate_id.is_none() && matches!(p.user.role, Role::Admin | Role::Advocate) {
                                    li { a href="/console/inbox" { (t("Inbox")) } }
                                }
                                li { a href="/console/cases" { (t("Cases")) } }
                                @if p.user.advocate_id.is_none() {
                                    li { a href="/console/campaigns" { (t("Campaigns")) } }
                                }
                                @if matches!(p.user.role, Role::Compliance | Role::Admin) {
                                    li { a href="/console/trail" { (t("Audit trail")) } }
                                    li { a href="/console/checkpoints" { (t("Checkpoints")) } }
                                    li { a href="/console/holds" { (t("Holds")) } }
                                }
                                @if p.user.role == Role::Compliance {
                                    li { a href="/console/search" { (t("Search")) } }
                                    li { a href="/console/flags" { (t("Flags")) } }
                                }
                                @if p.user.role == Role::Admin {
                                    li { a href="/console/admin/policy" { (t("Policy")) } }
                                    li { a href="/console/admin/users" { (t("Users")) } }
                                    li { a href="/console/admin/twilio" { (t("Twilio")) } }
                                    li { a href="/console/admin/keys" { (t("API keys")) } }
                                    li { a href="/console/admin/reminders" { (t("Reminders")) } }
                                    li { a href="/console/admin/webhooks" { (t("Webhooks")) } }
                                    li { a href="/console/admin/usage" { (t("Usage")) } }
                                }
                            }
                        }
                        span.who { a href="/console/account" { (p.user.name) } " · " (super::words::term(p.user.role.as_str())) }
                        form method="post" action="/console/sign-out" {
                            input type="hidden" name="csrf" value=(p.csrf);
                            button.link type="submit" { (t("Sign out")) }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
                footer.bar {
                    @match super::words::lang() {
                        super::words::Lang::En => a href="/console/language?to=es" lang="es" hreflang="es" { "Español" },
                        super::words::Lang::Es => a href="/console/language?to=en" lang="en" hreflang="en" { "English" },
                    }
                }
            }
        }
    }
}

/// What a console page answers when it cannot do what was asked.
pub(crate) enum Shown {
    /// Not signed in (or the session ended): to the sign-in page, then back.
    SignIn { then: String },
    /// An error, as a page with the API's status and message.
    Error(ApiError),
}

impl From<ApiError> for Shown {
    fn from(e: ApiError) -> Self {
        Shown::Error(e)
    }
}

impl IntoResponse for Shown {
    fn into_response(self) -> Response {
        match self {
            Shown::SignIn { then } => {
                let then = form_urlencoded::byte_serialize(then.as_bytes()).collect::<String>();
                Redirect::to(&format!("/console/sign-in?then={then}")).into_response()
            }
            Shown::Error(e) => {
                let status = e.status();
                // The detail of an internal error goes to the log, as the API's does.
                let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
                    t("Something went wrong on our side. Try again; if it goes on, tell your administrator.")
                        .to_string()
                } else {
                    e.message().to_string()
                };
                let title = match status.as_u16() {
                    403 => t("Not for your role"),
                    404 => t("Not found"),
                    _ => t("That did not work"),
                };
                let body = page(
                    title,
                    None,
                    html! {
                        p.error role="alert" { (message) }
                        p { a href="/console" { (t("Back to the console")) } }
                    },
                );
                (status, Html(body.into_string())).into_response()
            }
        }
    }
}

/// A secret shown this once (a new key, a webhook secret), with a Copy button: casewire
/// keeps only its hash or its sealed copy, so the page says so.
pub(crate) fn shown_once(note: &str, label: &str, value: &str) -> Markup {
    html! {
        section.notice role="status" {
            p { (note) }
            p.copy {
                input id="shown-once" readonly value=(value) aria-label=(label);
                button type="button" data-copy="shown-once" data-copied=(t("Copied")) { (t("Copy")) }
            }
        }
    }
}
