//! Messaging's own copy of each number's consent, from consent's events: every text is
//! checked against it without asking the consent service, so a text goes while consent is
//! down, and costs no bus round trip.

use async_trait::async_trait;
use casewire_bus::{Of, Projection, Reads};
use casewire_events::consent::{ConsentEvent, AGGREGATE, STATE_CHANGES};
use casewire_events::RecordedEvent;
use casewire_eventstore::EventStore;
use sqlx::{Any, Transaction};

pub struct Consents;

#[async_trait]
impl Projection for Consents {
    fn name(&self) -> &'static str {
        "messaging_consents"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[Of::only(AGGREGATE, STATE_CHANGES)];
        Reads::Only(OF)
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let event: ConsentEvent = e.decode()?;
        let Some(state) = event.state() else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO messaging_consents (tenant_id, phone, state) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, phone) DO UPDATE SET state = excluded.state",
        )
        .bind(&e.tenant_id)
        .bind(event.phone())
        .bind(state.as_str())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
