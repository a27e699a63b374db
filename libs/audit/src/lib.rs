//! The compliance officer's side of the log: its index for filtered reading
//! ([`index::AuditIndex`]), the filtered reads themselves ([`trail`]), the record of every
//! look at it ([`review::Review`]), and its signed checkpoints ([`checkpoint`]).

pub mod checkpoint;
pub mod erasure;
pub mod export;
pub mod flags;
pub mod index;
pub mod retention;
pub mod review;
pub mod search;
pub mod trail;

pub use checkpoint::{Cadence, Checkpointer};
pub use index::AuditIndex;
pub use review::{Review, ReviewCommand, ReviewError};
