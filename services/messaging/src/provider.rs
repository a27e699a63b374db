//! Where a tenant's texts go: Twilio, or the sandbox of `casewire dev`.

use casewire_sms::twilio::{
    Credentials, Delivery, FailureKind, Lookup, SendError, Sender, Sent, TwilioClient,
};
use casewire_tenancy::{SmsProvider, SmsSettings};
use chrono::{DateTime, Utc};

pub enum Provider {
    /// Captures texts: the message list of `GET /v1/sandbox/messages` is the phone.
    Sandbox,
    Twilio {
        client: TwilioClient,
        creds: Credentials,
        sender: Sender,
    },
}

impl Provider {
    pub fn from_settings(settings: SmsSettings, client: &TwilioClient) -> Provider {
        match settings.provider {
            SmsProvider::Sandbox => Provider::Sandbox,
            SmsProvider::Twilio {
                account_sid,
                auth_token,
                from,
                messaging_service_sid,
            } => Provider::Twilio {
                client: client.clone(),
                creds: Credentials::new(
                    account_sid,
                    auth_token.value().cloned().unwrap_or_default(),
                ),
                sender: match (from, messaging_service_sid) {
                    (_, Some(sid)) => Sender::MessagingService(sid),
                    (from, None) => Sender::From(from.unwrap_or_default()),
                },
            },
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Provider::Sandbox => "sandbox",
            Provider::Twilio { .. } => "twilio",
        }
    }

    /// One attempt, no retry: the dispatcher decides what a failure means.
    pub async fn send(
        &self,
        message_id: &str,
        to: &str,
        body: &str,
        delivery: &Delivery<'_>,
    ) -> Result<Sent, SendError> {
        match self {
            // The sandbox's id follows from the message's, so it cannot capture one twice.
            Provider::Sandbox => Ok(Sent {
                sid: sandbox_sid(message_id),
                status: "delivered".into(),
                num_segments: None,
                price: None,
                error_code: None,
                error_message: None,
            }),
            Provider::Twilio {
                client,
                creds,
                sender,
            } => client.send_once(creds, sender, to, body, delivery).await,
        }
    }

    /// After an attempt whose outcome is unknown: did the provider take the text?
    pub async fn find_sent(
        &self,
        message_id: &str,
        to: &str,
        body: &str,
        since: DateTime<Utc>,
    ) -> Result<Lookup, SendError> {
        match self {
            // Sandbox sends cannot fail half-way; an attempt cut short by a crash sent nothing.
            Provider::Sandbox => {
                let _ = (message_id, to, body, since);
                Ok(Lookup::NotSent)
            }
            Provider::Twilio { client, creds, .. } => {
                client.find_sent(creds, to, body, since).await
            }
        }
    }
}

pub fn sandbox_sid(message_id: &str) -> String {
    format!("SB{}", message_id.replace('-', ""))
}

/// What a failed attempt means for the message.
pub enum Verdict {
    /// Final: the provider refused it.
    Refused,
    /// The provider certainly did not take it: try again later.
    NotTaken,
    /// It may have been taken: look before trying again.
    Unknown,
    /// The provider refused the tenant's credentials: not taken, and none of the tenant's
    /// texts will be until an admin sets them again.
    CredentialsRefused,
}

/// Twilio's "authentication failed".
pub const CREDENTIALS_REFUSED: u32 = 20003;

pub fn verdict(e: &SendError) -> Verdict {
    if e.code.is_some_and(casewire_sms::codes::is_transient) {
        return Verdict::NotTaken;
    }
    if e.code == Some(CREDENTIALS_REFUSED) {
        return Verdict::CredentialsRefused;
    }
    match e.kind {
        FailureKind::Rejected | FailureKind::InvalidRequest => Verdict::Refused,
        FailureKind::RateLimited | FailureKind::Connect => Verdict::NotTaken,
        FailureKind::ServerError
        | FailureKind::Timeout
        | FailureKind::Network
        | FailureKind::InvalidResponse => Verdict::Unknown,
    }
}
