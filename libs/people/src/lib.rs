//! The console's people (issue 16): users of one organization, distinct from API keys,
//! who sign in with a password to a session. The aggregate decides; `password` and
//! `session` hold the secrets' rules; `directory` is the read model the gateway signs
//! people in with. docs/console.md says what was decided and why.

pub mod directory;
pub mod password;
pub mod session;
pub mod totp;
pub mod user;

pub use directory::{Directory, UserRow};
pub use user::{SignOutReason, User, UserCommand, UserError, UserEvent};
