//! A CMS case as casewire knows it: the client to text and what routing needs.

use casewire_bus::Refusal;
use casewire_events::case::{is_language_tag, CaseDetails, CaseEvent, CaseStatus, Client};
use casewire_events::message::client_subject;
use casewire_events::Sealed;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Case {
    details: Option<CaseDetails>,
}

pub use casewire_contract::case_link::{CaseInput, ClientInput};

#[derive(Clone, Debug)]
pub enum CaseCommand {
    Put(CaseInput),
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("{0}")]
    Invalid(String),
}

impl Refusal for CaseError {
    fn code(&self) -> casewire_bus::ErrorCode {
        casewire_bus::ErrorCode::Invalid
    }
}

fn text(what: &str, v: &str, max: usize) -> Result<String, CaseError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(CaseError::Invalid(format!("{what} must not be empty")));
    }
    if v.chars().count() > max {
        return Err(CaseError::Invalid(format!(
            "{what} must be at most {max} characters"
        )));
    }
    if v.chars().any(char::is_control) {
        return Err(CaseError::Invalid(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(v.to_string())
}

fn optional(what: &str, v: Option<String>) -> Result<Option<String>, CaseError> {
    v.filter(|s| !s.trim().is_empty())
        .map(|s| text(what, &s, 100))
        .transpose()
}

/// A case as recorded: its phone normalized, its fields checked, the client sealed.
pub fn validate(input: CaseInput) -> Result<CaseDetails, CaseError> {
    let phone = casewire_sms::phone::normalize(&input.client.phone)
        .map_err(|e| CaseError::Invalid(format!("client.phone: {e}")))?;
    let language = match input.client.language.as_deref().map(str::trim) {
        None | Some("") => "en".to_string(),
        Some(l) if is_language_tag(l) => l.to_string(),
        Some(l) => {
            return Err(CaseError::Invalid(format!(
                "client.language: {l:?} is not a language tag such as en, es or es-MX"
            )))
        }
    };
    let status = match input.status.as_deref() {
        None | Some("open") => CaseStatus::Open,
        Some("closed") => CaseStatus::Closed,
        Some(s) => {
            return Err(CaseError::Invalid(format!(
                "status must be open or closed, not {s:?}"
            )))
        }
    };
    let time_zone = match input.time_zone.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(tz) if tz.parse::<chrono_tz::Tz>().is_ok() => Some(tz.to_string()),
        Some(tz) => {
            return Err(CaseError::Invalid(format!(
                "time_zone: {tz:?} is not an IANA time zone such as America/Chicago"
            )))
        }
    };
    if input.advocates.len() > 50 {
        return Err(CaseError::Invalid("advocates: at most 50".into()));
    }
    let date = |what: &str, d: Option<String>| match d.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(d) if casewire_contract::audience::is_date(d) => Ok(Some(d.to_string())),
        Some(d) => Err(CaseError::Invalid(format!(
            "{what}: {d:?} is not a date (YYYY-MM-DD)"
        ))),
    };
    let opened_at = date("opened_at", input.opened_at)?;
    let closed_at = date("closed_at", input.closed_at)?;
    if closed_at.is_some() && status != CaseStatus::Closed {
        return Err(CaseError::Invalid(
            "closed_at is for a closed case: send status closed with it".into(),
        ));
    }
    if let (Some(opened), Some(closed)) = (&opened_at, &closed_at) {
        if closed < opened {
            return Err(CaseError::Invalid(format!(
                "closed_at ({closed}) is before opened_at ({opened})"
            )));
        }
    }
    Ok(CaseDetails {
        client: Client {
            name: Sealed::new(
                client_subject(&phone),
                text("client.name", &input.client.name, 200)?,
            ),
            phone,
            language,
        },
        status,
        problem_code: optional("problem_code", input.problem_code)?,
        office: optional("office", input.office)?,
        advocates: input
            .advocates
            .iter()
            .map(|a| text("advocates[]", a, 200))
            .collect::<Result<_, _>>()?,
        time_zone,
        opened_at,
        closed_at,
    })
}

impl Aggregate for Case {
    const TYPE: &'static str = casewire_events::case::AGGREGATE;
    type Command = CaseCommand;
    type Event = CaseEvent;
    type Error = CaseError;
    type Services = ();

    async fn handle(
        &mut self,
        command: CaseCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), CaseError> {
        let CaseCommand::Put(input) = command;
        let details = validate(input)?;
        let event = match &self.details {
            None => CaseEvent::CaseLinked { details },
            // The CMS sends the whole case again on every change: the same case is no change.
            Some(known) if *known == details => return Ok(()),
            Some(_) => CaseEvent::CaseUpdated { details },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: CaseEvent) {
        match event {
            CaseEvent::CaseLinked { details } | CaseEvent::CaseUpdated { details } => {
                self.details = Some(details)
            }
        }
    }
}

impl Case {
    pub fn exists(&self) -> bool {
        self.details.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<Case>;

    fn input(phone: &str, status: Option<&str>) -> CaseInput {
        CaseInput {
            client: ClientInput {
                name: " Ana Díaz ".into(),
                phone: phone.into(),
                language: Some("es".into()),
            },
            status: status.map(Into::into),
            problem_code: Some("63".into()),
            office: None,
            advocates: vec!["adv-7".into()],
            time_zone: None,
            opened_at: None,
            closed_at: None,
        }
    }

    fn details(status: CaseStatus) -> CaseDetails {
        CaseDetails {
            client: Client {
                name: Sealed::new("client:+13125550100", "Ana Díaz".to_string()),
                phone: "+13125550100".into(),
                language: "es".into(),
            },
            status,
            problem_code: Some("63".into()),
            office: None,
            advocates: vec!["adv-7".into()],
            time_zone: None,
            opened_at: None,
            closed_at: None,
        }
    }

    #[test]
    fn a_case_is_linked_with_its_phone_normalized_and_the_name_sealed() {
        Given::with(())
            .given_no_previous_events()
            .when(CaseCommand::Put(input("(312) 555-0100", None)))
            .then_expect_events(vec![CaseEvent::CaseLinked {
                details: details(CaseStatus::Open),
            }]);
    }

    #[test]
    fn the_same_case_again_is_no_change_and_a_different_one_is_an_update() {
        let linked = CaseEvent::CaseLinked {
            details: details(CaseStatus::Open),
        };
        Given::with(())
            .given(vec![linked.clone()])
            .when(CaseCommand::Put(input("+13125550100", Some("open"))))
            .then_expect_events(vec![]);
        Given::with(())
            .given(vec![linked])
            .when(CaseCommand::Put(input("+13125550100", Some("closed"))))
            .then_expect_events(vec![CaseEvent::CaseUpdated {
                details: details(CaseStatus::Closed),
            }]);
    }

    #[test]
    fn bad_input_is_refused_with_what_is_wrong() {
        Given::with(())
            .given_no_previous_events()
            .when(CaseCommand::Put(input("12", None)))
            .then_expect_error_message("client.phone: not a phone number we can text: it has 2 digits: too short for a phone number. Accepted forms: E.164 such as +13125550100 or +442079460958, or a US number such as (312) 555-0100, 312.555.0100, 1-312-555-0100 or 3125550100");
        Given::with(())
            .given_no_previous_events()
            .when(CaseCommand::Put(input("+13125550100", Some("pending"))))
            .then_expect_error_message("status must be open or closed, not \"pending\"");
        let mut no_name = input("+13125550100", None);
        no_name.client.name = "  ".into();
        Given::with(())
            .given_no_previous_events()
            .when(CaseCommand::Put(no_name))
            .then_expect_error_message("client.name must not be empty");
    }

    #[test]
    fn the_cases_dates_are_days_and_a_closing_date_needs_a_closed_case() {
        let dated = |status: &str, opened: &str, closed: Option<&str>| CaseInput {
            opened_at: Some(opened.into()),
            closed_at: closed.map(Into::into),
            ..input("+13125550100", Some(status))
        };
        let mut closed = details(CaseStatus::Closed);
        closed.opened_at = Some("2026-01-05".into());
        closed.closed_at = Some("2026-11-20".into());
        Given::with(())
            .given_no_previous_events()
            .when(CaseCommand::Put(dated(
                "closed",
                "2026-01-05",
                Some("2026-11-20"),
            )))
            .then_expect_events(vec![CaseEvent::CaseLinked { details: closed }]);
        for (case, said) in [
            (
                dated("open", "2026-01-05", Some("2026-11-20")),
                "closed_at is for a closed case: send status closed with it",
            ),
            (
                dated("closed", "2026-11-21", Some("2026-11-20")),
                "closed_at (2026-11-20) is before opened_at (2026-11-21)",
            ),
            (
                dated("open", "2026-02-30", None),
                "opened_at: \"2026-02-30\" is not a date (YYYY-MM-DD)",
            ),
        ] {
            Given::with(())
                .given_no_previous_events()
                .when(CaseCommand::Put(case))
                .then_expect_error_message(said);
        }
    }
}
