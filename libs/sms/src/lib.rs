//! The SMS rules casewire has to get exactly right, as pure functions, and the Twilio
//! client.
//!
//! Apart from [`twilio`], nothing here does I/O: the messaging service uses it to price
//! and check a text before handing it to Twilio, the gateway uses it to authenticate
//! Twilio's webhooks, and the tests' fake Twilio uses it to sign the callbacks it sends.
//!
//! - [`segments`]: how many billable SMS segments a body costs, and whether Twilio will
//!   accept it at all;
//! - [`gsm7`]: the GSM 7-bit alphabet that decides whether a text is cheap GSM-7 or
//!   UCS-2;
//! - [`signature`]: `X-Twilio-Signature`, computed and checked;
//! - [`phone`]: turning what a person typed into the E.164 number Twilio wants;
//! - [`twilio`]: the one module that does I/O, the Twilio Messages API client.

pub mod codes;
pub mod error;
pub mod gsm7;
pub mod phone;
pub mod segments;
pub mod signature;
pub mod smart;
pub mod twilio;
pub mod words;

pub use error::SmsError;
pub use twilio::{Credentials, FailureKind, RetryPolicy, SendError, Sender, Sent, TwilioClient};
