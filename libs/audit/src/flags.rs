//! Review flags: a compliance officer (or the tenant's review rules) flags a text; someone
//! resolves the flag. Both are events; `review_flags` is the queue of them.

use async_trait::async_trait;
use casewire_bus::{Of, Projection, Reads};
use casewire_events::review::{FlagEvent, FlagReason, FLAG_AGGREGATE};
use casewire_events::RecordedEvent;
use casewire_eventstore::EventStore;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

/// The longest note a reviewer writes.
pub const MAX_NOTE: usize = 2000;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Flag {
    raised: bool,
    resolved: bool,
}

#[derive(Clone, Debug)]
pub enum FlagCommand {
    Raise {
        message_id: String,
        case_id: Option<String>,
        reason: FlagReason,
        /// The note, and the data subject it is sealed for (the text's client).
        note: Option<casewire_events::Sealed<String>>,
        keywords: Vec<String>,
    },
    Resolve {
        note: Option<casewire_events::Sealed<String>>,
    },
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FlagError {
    #[error("no such flag")]
    NoSuchFlag,
    #[error("this flag is raised already")]
    AlreadyRaised,
    #[error("this flag is resolved already")]
    AlreadyResolved,
    #[error("note: at most {MAX_NOTE} characters")]
    NoteTooLong,
}

fn check(note: &Option<casewire_events::Sealed<String>>) -> Result<(), FlagError> {
    match note.as_ref().and_then(|n| n.value()) {
        Some(n) if n.chars().count() > MAX_NOTE => Err(FlagError::NoteTooLong),
        _ => Ok(()),
    }
}

impl Aggregate for Flag {
    const TYPE: &'static str = FLAG_AGGREGATE;
    type Command = FlagCommand;
    type Event = FlagEvent;
    type Error = FlagError;
    type Services = ();

    async fn handle(
        &mut self,
        command: FlagCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), FlagError> {
        let event = match command {
            FlagCommand::Raise { .. } if self.raised => return Err(FlagError::AlreadyRaised),
            FlagCommand::Raise {
                message_id,
                case_id,
                reason,
                note,
                keywords,
            } => {
                check(&note)?;
                FlagEvent::MessageFlagged {
                    message_id,
                    case_id,
                    reason,
                    note,
                    keywords,
                }
            }
            FlagCommand::Resolve { .. } if !self.raised => return Err(FlagError::NoSuchFlag),
            FlagCommand::Resolve { .. } if self.resolved => return Err(FlagError::AlreadyResolved),
            FlagCommand::Resolve { note } => {
                check(&note)?;
                FlagEvent::FlagResolved { note }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: FlagEvent) {
        match event {
            FlagEvent::MessageFlagged { .. } => self.raised = true,
            FlagEvent::FlagResolved { .. } => self.resolved = true,
        }
    }
}

/// The flags, open and resolved, as reviewers list them. Notes stay sealed in the row and
/// are opened as they are read: erased with the client, they read as erased here too.
pub struct Flags;

#[async_trait]
impl Projection for Flags {
    fn name(&self) -> &'static str {
        "review_flags"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[Of::all(FLAG_AGGREGATE)];
        Reads::Only(OF)
    }

    /// Written with the flag: its answer reads it back at once.
    fn inline(&self) -> Reads {
        self.reads()
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let metadata = e.metadata();
        // The note as stored: sealed, a JSON text.
        let sealed_note = |path: &str| e.sealed_at(path);
        match e.decode::<FlagEvent>()? {
            FlagEvent::MessageFlagged {
                message_id,
                case_id,
                reason,
                keywords,
                ..
            } => {
                sqlx::query(
                    "INSERT INTO review_flags (tenant_id, id, message_id, case_id, reason, keywords, note, state, \
                     flagged_by, on_behalf_of, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10) \
                     ON CONFLICT (tenant_id, id) DO NOTHING",
                )
                .bind(&e.tenant_id)
                .bind(&e.aggregate_id)
                .bind(message_id)
                .bind(case_id)
                .bind(reason.as_str())
                .bind(serde_json::to_string(&keywords)?)
                .bind(sealed_note("/MessageFlagged/note"))
                .bind(metadata.actor)
                .bind(metadata.on_behalf_of)
                .bind(&e.recorded_at)
                .execute(&mut **tx)
                .await?;
            }
            FlagEvent::FlagResolved { .. } => {
                sqlx::query(
                    "UPDATE review_flags SET state = 'resolved', resolution = $1, resolved_by = $2, \
                     resolved_on_behalf_of = $3, resolved_at = $4 WHERE tenant_id = $5 AND id = $6",
                )
                .bind(sealed_note("/FlagResolved/note"))
                .bind(metadata.actor)
                .bind(metadata.on_behalf_of)
                .bind(&e.recorded_at)
                .bind(&e.tenant_id)
                .bind(&e.aggregate_id)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<Flag>;

    fn raise() -> FlagCommand {
        FlagCommand::Raise {
            message_id: "m-1".into(),
            case_id: Some("C-1".into()),
            reason: FlagReason::Confidentiality,
            note: None,
            keywords: vec![],
        }
    }

    fn raised() -> FlagEvent {
        FlagEvent::MessageFlagged {
            message_id: "m-1".into(),
            case_id: Some("C-1".into()),
            reason: FlagReason::Confidentiality,
            note: None,
            keywords: vec![],
        }
    }

    #[test]
    fn a_flag_is_raised_once_and_resolved_once() {
        Given::with(())
            .given_no_previous_events()
            .when(raise())
            .then_expect_events(vec![raised()]);
        Given::with(())
            .given(vec![raised()])
            .when(raise())
            .then_expect_error(FlagError::AlreadyRaised);
        Given::with(())
            .given(vec![raised()])
            .when(FlagCommand::Resolve { note: None })
            .then_expect_events(vec![FlagEvent::FlagResolved { note: None }]);
        Given::with(())
            .given(vec![raised(), FlagEvent::FlagResolved { note: None }])
            .when(FlagCommand::Resolve { note: None })
            .then_expect_error(FlagError::AlreadyResolved);
        Given::with(())
            .given_no_previous_events()
            .when(FlagCommand::Resolve { note: None })
            .then_expect_error(FlagError::NoSuchFlag);
    }

    #[test]
    fn a_note_is_at_most_two_thousand_characters() {
        let long = casewire_events::Sealed::new("client:+1", "x".repeat(MAX_NOTE + 1));
        Given::with(())
            .given_no_previous_events()
            .when(FlagCommand::Raise {
                message_id: "m-1".into(),
                case_id: None,
                reason: FlagReason::Other,
                note: Some(long),
                keywords: vec![],
            })
            .then_expect_error(FlagError::NoteTooLong);
    }
}
