//! The one error type of this crate.

/// Everything that can be wrong with a text, a phone number or a webhook signature.
///
/// Messages are written for the person who has to fix the input. They never carry an
/// auth token, a message body or the phone number itself: errors end up in logs, and
/// those are confidential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The body has no characters at all.
    #[error("the message body is empty (0 characters); write the text to send")]
    EmptyBody,
    /// The body has characters, but all of them are whitespace.
    #[error("the message body is only whitespace ({chars} characters); write the text to send")]
    BlankBody { chars: usize },
    /// The body is longer than Twilio accepts.
    #[error("the message body is {chars} characters long; Twilio accepts at most {max}")]
    BodyTooLong { chars: usize, max: usize },
    /// The input is not a phone number we can text.
    #[error(
        "not a phone number we can text: {reason}. Accepted forms: E.164 such as \
         +13125550100 or +442079460958, or a US number such as (312) 555-0100, \
         312.555.0100, 1-312-555-0100 or 3125550100"
    )]
    InvalidPhone { reason: String },
    /// The webhook request carries no `X-Twilio-Signature` (the gateway answers 400).
    #[error("the request has no X-Twilio-Signature header")]
    MissingSignature,
    /// The `X-Twilio-Signature` does not match the request (the gateway answers 403).
    #[error("the X-Twilio-Signature header does not match this request")]
    BadSignature,
}
