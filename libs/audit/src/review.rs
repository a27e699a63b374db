//! The record of one look at the trail or at clients' texts: command in, one event out.

use casewire_events::review::ReviewEvent;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

/// One look: recorded once. Each look has its own id, so recording never conflicts.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Review {
    recorded: bool,
}

#[derive(Clone, Debug)]
pub enum ReviewCommand {
    /// Record what was looked at.
    Record(ReviewEvent),
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("this look is recorded already")]
    AlreadyRecorded,
}

impl Aggregate for Review {
    const TYPE: &'static str = casewire_events::review::AGGREGATE;
    type Command = ReviewCommand;
    type Event = ReviewEvent;
    type Error = ReviewError;
    type Services = ();

    async fn handle(
        &mut self,
        command: ReviewCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ReviewError> {
        let ReviewCommand::Record(event) = command;
        if self.recorded {
            return Err(ReviewError::AlreadyRecorded);
        }
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, _: ReviewEvent) {
        self.recorded = true;
    }
}

/// Records a look in the tenant's trail, as one event of its own aggregate: recording
/// never conflicts, and needs no read model.
pub async fn record(
    store: &casewire_eventstore::EventStore,
    tenant: &str,
    what: ReviewEvent,
    metadata: casewire_events::Metadata,
) -> Result<(), cqrs_es::AggregateError<ReviewError>> {
    let id = uuid::Uuid::new_v4().to_string();
    casewire_eventstore::framework::<Review>(store, tenant, ())
        .execute_with_metadata(&id, ReviewCommand::Record(what), metadata.into_map())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use casewire_events::review::TrailFilter;
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<Review>;

    fn read() -> ReviewEvent {
        ReviewEvent::TrailRead {
            filter: TrailFilter {
                case_id: Some("C-1".into()),
                ..TrailFilter::default()
            },
            events: 3,
            first_seq: Some(4),
            last_seq: Some(9),
        }
    }

    #[test]
    fn a_look_is_recorded_once() {
        Given::with(())
            .given_no_previous_events()
            .when(ReviewCommand::Record(read()))
            .then_expect_events(vec![read()]);
        Given::with(())
            .given(vec![read()])
            .when(ReviewCommand::Record(read()))
            .then_expect_error_message("this look is recorded already");
    }
}
