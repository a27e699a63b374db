//! The compliance officer's side of the log: its index for filtered reading
//! ([`index::AuditIndex`]), the filtered reads themselves ([`trail`]), and the record of
//! every look at it ([`review::Review`]).

pub mod index;
pub mod review;
pub mod trail;

pub use index::AuditIndex;
pub use review::{Review, ReviewCommand, ReviewError};
