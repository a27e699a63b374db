//! The contracts every casewire service shares: a committed event as it is stored and as it
//! travels on the bus, the metadata every event carries, sealed personal fields, and the
//! NATS subject names.

pub mod appointment;
pub mod audience;
pub mod campaign;
pub mod case;
pub mod checkpoint;
pub mod consent;
mod domain;
pub mod erasure;
pub mod message;
mod metadata;
mod recorded;
pub mod review;
mod sealed;
pub mod subjects;
pub mod survey;
pub mod time;

pub use metadata::{is_person_id, Actor, Metadata, PERSON_ID_RULE};
pub use recorded::RecordedEvent;
pub use sealed::{Sealed, SealedSchema, SEALED_TAG};
pub use time::{now, timestamp, utc_now};
