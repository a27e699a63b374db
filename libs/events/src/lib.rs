//! The contracts every casewire service shares: a committed event as it is stored and as it
//! travels on the bus, the metadata every event carries, sealed personal fields, and the
//! NATS subject names.

mod metadata;
mod recorded;
mod sealed;
pub mod subjects;

pub use metadata::{Actor, Metadata};
pub use recorded::RecordedEvent;
pub use sealed::{Sealed, SEALED_TAG};
