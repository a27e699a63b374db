//! A client's consent: one aggregate per (tenant, phone number), none → pending → granted →
//! revoked and back, every change an event with its evidence. Command in, events out.
//!
//! Rules (issue 4):
//! - A confirmation request makes the state pending; Y or YES grants it.
//! - An opt-out revokes from any state, with one confirmation text back (`reply`); a second
//!   opt-out while revoked records nothing and sends nothing: silence.
//! - A client who subscribes by text (YES, START) is told so (`reply`).
//! - Twilio's own opt-out (an inbound `OptOutType`, or a 21610 answer to a send) revokes
//!   without a reply: Twilio already sent one.
//! - START, UNSTOP or YES after an opt-out grants again.
//! - Staff may record consent given by phone, in writing or at intake, with a note.
//! - A text that may be an opt-out and is not clearly one ("stop calling me", "wrong
//!   number") changes nothing: it is recorded for staff with the reason, and the client gets
//!   the one clarification the FCC rule allows ("Reply STOP to stop all texts from …"),
//!   once until the state changes.
//! - A yes with words around it ("Yes please") confirms a pending request, and only that.
//! - A reply to a pending request that is neither a yes nor a stop is told once how to
//!   answer.
//!
//! The events are in libs/events (`casewire_events::consent`): messaging reads them too.

use casewire_events::message::client_subject;
use casewire_events::Sealed;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use casewire_keywords::Meaning;

pub use casewire_events::consent::{ConsentEvent, Evidence, Method, State};

#[derive(Clone, Debug)]
pub enum ConsentCommand {
    RequestConfirmation {
        phone: String,
        api_key: String,
        language: String,
    },
    /// A client's text, with what it means and the language it said it in.
    Inbound {
        phone: String,
        message_id: String,
        text: String,
        meaning: Option<Meaning>,
        language: String,
    },
    /// Twilio handled a keyword itself (`OptOutType`: STOP or START), or refused a send with 21610.
    Provider {
        phone: String,
        message_id: String,
        opted_out: bool,
        reason: String,
    },
    Record {
        phone: String,
        state: State,
        method: Method,
        note: Option<String>,
        api_key: String,
    },
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("this client opted out: they must text START (or YES) before anything else is sent")]
    OptedOut,
    #[error("{0}")]
    Invalid(String),
}

impl casewire_bus::Refusal for ConsentError {
    fn code(&self) -> casewire_bus::ErrorCode {
        match self {
            ConsentError::OptedOut => casewire_bus::ErrorCode::Conflict,
            ConsentError::Invalid(_) => casewire_bus::ErrorCode::Invalid,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Consent {
    state: State,
    /// The language the confirmation was requested in, while it is pending.
    requested_in: Option<String>,
    /// A clarification went since the state last changed.
    clarified: bool,
    /// The client was told how to answer the pending request.
    explained: bool,
}

impl Consent {
    pub fn state(&self) -> State {
        self.state
    }
}

impl Aggregate for Consent {
    const TYPE: &'static str = casewire_events::consent::AGGREGATE;
    type Command = ConsentCommand;
    type Event = ConsentEvent;
    type Error = ConsentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: ConsentCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ConsentError> {
        use ConsentCommand as C;
        use State as S;
        let event = match command {
            C::RequestConfirmation {
                phone,
                api_key,
                language,
            } => match self.state {
                S::Revoked => return Err(ConsentError::OptedOut),
                S::Granted => return Ok(()),
                S::None | S::Pending => ConsentEvent::ConfirmationRequested {
                    phone,
                    evidence: Evidence::Request { api_key },
                    language,
                },
            },
            C::Inbound {
                phone,
                message_id,
                text,
                meaning,
                language,
            } => {
                let evidence = Evidence::Inbound {
                    message_id,
                    text: Sealed::new(client_subject(&phone), text),
                };
                match (meaning, self.state) {
                    (Some(Meaning::OptOut | Meaning::Unclear(_)), S::Revoked) => return Ok(()),
                    (Some(Meaning::OptOut), _) => ConsentEvent::ConsentRevoked {
                        phone,
                        evidence,
                        reply: Some(language),
                    },
                    (Some(Meaning::Unclear(reason)), _) => ConsentEvent::RevocationUnclear {
                        phone,
                        evidence,
                        reason: reason.to_string(),
                        reply: (!self.clarified).then_some(language),
                    },
                    (Some(Meaning::Confirm), S::Pending | S::Revoked)
                    | (Some(Meaning::Agree), S::Pending)
                    | (Some(Meaning::OptIn), S::None | S::Pending | S::Revoked) => {
                        ConsentEvent::ConsentGranted {
                            phone,
                            evidence,
                            reply: Some(language),
                        }
                    }
                    (None, S::Pending) if !self.explained => ConsentEvent::ConfirmationExplained {
                        phone,
                        evidence,
                        language: self.requested_in.clone().unwrap_or(language),
                    },
                    _ => return Ok(()),
                }
            }
            C::Provider {
                phone,
                message_id,
                opted_out,
                reason,
            } => {
                let evidence = Evidence::Provider { message_id, reason };
                match (opted_out, self.state) {
                    (true, S::Revoked) | (false, S::Granted) => return Ok(()),
                    (true, _) => ConsentEvent::ConsentRevoked {
                        phone,
                        evidence,
                        reply: None,
                    },
                    // Twilio answered the client's START itself.
                    (false, _) => ConsentEvent::ConsentGranted {
                        phone,
                        evidence,
                        reply: None,
                    },
                }
            }
            C::Record {
                phone,
                state,
                method,
                note,
                api_key,
            } => {
                let note = note
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .map(|n| Sealed::new(client_subject(&phone), n));
                let evidence = Evidence::Staff {
                    api_key,
                    method,
                    note,
                };
                match state {
                    _ if state == self.state => return Ok(()),
                    // Recorded by staff: the client spoke in person, no text goes back.
                    S::Granted => ConsentEvent::ConsentGranted {
                        phone,
                        evidence,
                        reply: None,
                    },
                    S::Revoked => ConsentEvent::ConsentRevoked {
                        phone,
                        evidence,
                        reply: None,
                    },
                    S::None | S::Pending => {
                        return Err(ConsentError::Invalid(
                            "state must be granted or revoked".into(),
                        ))
                    }
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: ConsentEvent) {
        match &event {
            ConsentEvent::RevocationUnclear { .. } => self.clarified = true,
            ConsentEvent::ConfirmationExplained { .. } => self.explained = true,
            ConsentEvent::ConfirmationRequested { language, .. } => {
                self.requested_in = Some(language.clone());
                self.explained = false;
            }
            ConsentEvent::ConsentGranted { .. } | ConsentEvent::ConsentRevoked { .. } => {
                self.requested_in = None;
            }
        }
        if let Some(state) = event.state() {
            self.state = state;
            self.clarified = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<Consent>;
    const PHONE: &str = "+13125550100";

    fn text(message_id: &str, body: &str, meaning: Option<Meaning>) -> ConsentCommand {
        ConsentCommand::Inbound {
            phone: PHONE.into(),
            message_id: message_id.into(),
            text: body.into(),
            meaning,
            language: "en".into(),
        }
    }

    fn inbound(message_id: &str, body: &str) -> Evidence {
        Evidence::Inbound {
            message_id: message_id.into(),
            text: Sealed::new(client_subject(PHONE), body.to_string()),
        }
    }

    fn requested() -> ConsentEvent {
        ConsentEvent::ConfirmationRequested {
            phone: PHONE.into(),
            evidence: Evidence::Request {
                api_key: "k1".into(),
            },
            language: "es".into(),
        }
    }

    fn revoked(message_id: &str, body: &str) -> ConsentEvent {
        ConsentEvent::ConsentRevoked {
            phone: PHONE.into(),
            evidence: inbound(message_id, body),
            reply: Some("en".into()),
        }
    }

    #[test]
    fn a_confirmation_request_makes_it_pending_and_yes_grants_it() {
        Given::with(())
            .given_no_previous_events()
            .when(ConsentCommand::RequestConfirmation {
                phone: PHONE.into(),
                api_key: "k1".into(),
                language: "es".into(),
            })
            .then_expect_events(vec![requested()]);
        Given::with(())
            .given(vec![requested()])
            .when(text("SM1", "Yes!", Some(Meaning::Confirm)))
            .then_expect_events(vec![ConsentEvent::ConsentGranted {
                phone: PHONE.into(),
                evidence: inbound("SM1", "Yes!"),
                reply: Some("en".into()),
            }]);
        Given::with(())
            .given(vec![requested()])
            .when(text("SM1", "Yes I agree", Some(Meaning::Agree)))
            .then_expect_events(vec![ConsentEvent::ConsentGranted {
                phone: PHONE.into(),
                evidence: inbound("SM1", "Yes I agree"),
                reply: Some("en".into()),
            }]);
    }

    #[test]
    fn a_reply_that_neither_confirms_nor_stops_is_told_once_how_to_answer() {
        let explained = ConsentEvent::ConfirmationExplained {
            phone: PHONE.into(),
            evidence: inbound("SM1", "what is this?"),
            language: "es".into(),
        };
        Given::with(())
            .given(vec![requested()])
            .when(text("SM1", "what is this?", None))
            .then_expect_events(vec![explained.clone()]);
        Given::with(())
            .given(vec![requested(), explained.clone()])
            .when(text("SM6", "who are you", None))
            .then_expect_events(vec![]);
        Given::with(())
            .given(vec![requested(), explained, requested()])
            .when(text("SM1", "what is this?", None))
            .then_expect_events(vec![ConsentEvent::ConfirmationExplained {
                phone: PHONE.into(),
                evidence: inbound("SM1", "what is this?"),
                language: "es".into(),
            }]);
    }

    #[test]
    fn an_agreement_does_not_subscribe_again_after_an_opt_out() {
        Given::with(())
            .given(vec![revoked("SM2", "STOP")])
            .when(text("SM4", "ok thanks", Some(Meaning::Agree)))
            .then_expect_events(vec![]);
    }

    #[test]
    fn an_unclear_opt_out_is_flagged_with_one_clarification_until_the_state_changes() {
        let unclear = |id: &str, reply: Option<&str>| ConsentEvent::RevocationUnclear {
            phone: PHONE.into(),
            evidence: inbound(id, "wrong number"),
            reason: "says it is the wrong number".into(),
            reply: reply.map(Into::into),
        };
        let granted = ConsentEvent::ConsentGranted {
            phone: PHONE.into(),
            evidence: inbound("SM0", "YES"),
            reply: Some("en".into()),
        };
        let says = |id: &str| {
            text(
                id,
                "wrong number",
                Some(Meaning::Unclear("says it is the wrong number")),
            )
        };
        Given::with(())
            .given(vec![granted.clone()])
            .when(says("SM7"))
            .then_expect_events(vec![unclear("SM7", Some("en"))]);
        Given::with(())
            .given(vec![granted.clone(), unclear("SM7", Some("en"))])
            .when(says("SM8"))
            .then_expect_events(vec![unclear("SM8", None)]);
        Given::with(())
            .given(vec![unclear("SM7", Some("en")), granted])
            .when(says("SM8"))
            .then_expect_events(vec![unclear("SM8", Some("en"))]);
        Given::with(())
            .given(vec![revoked("SM2", "STOP")])
            .when(says("SM9"))
            .then_expect_events(vec![]);
    }

    #[test]
    fn an_opt_out_revokes_with_one_reply_and_a_second_one_is_silence() {
        Given::with(())
            .given(vec![requested()])
            .when(text("SM2", "STOP", Some(Meaning::OptOut)))
            .then_expect_events(vec![revoked("SM2", "STOP")]);
        Given::with(())
            .given(vec![requested(), revoked("SM2", "STOP")])
            .when(text("SM3", "stop texting me", Some(Meaning::OptOut)))
            .then_expect_events(vec![]);
        Given::with(())
            .given(vec![requested(), revoked("SM2", "STOP")])
            .when(ConsentCommand::RequestConfirmation {
                phone: PHONE.into(),
                api_key: "k1".into(),
                language: "es".into(),
            })
            .then_expect_error(ConsentError::OptedOut);
    }

    #[test]
    fn start_or_yes_opts_back_in() {
        for (body, meaning) in [("START", Meaning::OptIn), ("YES", Meaning::Confirm)] {
            Given::with(())
                .given(vec![revoked("SM2", "STOP")])
                .when(text("SM4", body, Some(meaning)))
                .then_expect_events(vec![ConsentEvent::ConsentGranted {
                    phone: PHONE.into(),
                    evidence: inbound("SM4", body),
                    reply: Some("en".into()),
                }]);
        }
    }

    #[test]
    fn twilios_own_opt_out_revokes_without_a_second_reply() {
        let provider = |opted_out| ConsentCommand::Provider {
            phone: PHONE.into(),
            message_id: "SM5".into(),
            opted_out,
            reason: "21610".into(),
        };
        let evidence = Evidence::Provider {
            message_id: "SM5".into(),
            reason: "21610".into(),
        };
        Given::with(())
            .given_no_previous_events()
            .when(provider(true))
            .then_expect_events(vec![ConsentEvent::ConsentRevoked {
                phone: PHONE.into(),
                evidence,
                reply: None,
            }]);
        Given::with(())
            .given(vec![revoked("SM2", "STOP")])
            .when(provider(true))
            .then_expect_events(vec![]);
    }

    #[test]
    fn staff_record_consent_given_in_person_with_a_sealed_note() {
        let record = |state| ConsentCommand::Record {
            phone: PHONE.into(),
            state,
            method: Method::Intake,
            note: Some(" signed the intake form ".into()),
            api_key: "k2".into(),
        };
        let evidence = Evidence::Staff {
            api_key: "k2".into(),
            method: Method::Intake,
            note: Some(Sealed::new(
                client_subject(PHONE),
                "signed the intake form".to_string(),
            )),
        };
        Given::with(())
            .given_no_previous_events()
            .when(record(State::Granted))
            .then_expect_events(vec![ConsentEvent::ConsentGranted {
                phone: PHONE.into(),
                evidence: evidence.clone(),
                reply: None,
            }]);
        Given::with(())
            .given(vec![ConsentEvent::ConsentGranted {
                phone: PHONE.into(),
                evidence,
                reply: None,
            }])
            .when(record(State::Granted))
            .then_expect_events(vec![]);
        Given::with(())
            .given_no_previous_events()
            .when(record(State::Pending))
            .then_expect_error(ConsentError::Invalid(
                "state must be granted or revoked".into(),
            ));
    }
}
