//! A text: an advocate's outbound message through its dispatch to the provider and its
//! status callbacks, or a client's inbound one. Command in, events out; no I/O.

use casewire_bus::Refusal;
use casewire_events::message::{
    client_subject, moves, status_rank, Attachment, Media, MessageEvent, Purpose, MAX_LOOKUPS,
};
use casewire_events::Sealed;
use casewire_sms::segments;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Message {
    pub direction: Option<String>,
    pub case_id: Option<String>,
    /// Held by quiet hours until then.
    pub deliver_after: Option<String>,
    pub purpose: Purpose,
    /// The client's number: the recipient of an outbound text, the sender of an inbound one.
    pub phone: String,
    /// Plain in memory only; the log has it sealed.
    pub body: Option<String>,
    pub status: String,
    pub provider_sid: Option<String>,
    /// Attempts started so far.
    pub attempts: u32,
    /// An attempt started with no known outcome yet.
    pub in_flight: Option<InFlight>,
    /// Look-ups of the attempt in flight that failed.
    pub lookups_failed: u32,
    pub last_reason: Option<String>,
    /// An inbound text's pictures and files, as the provider holds them.
    pub media: Vec<Media>,
    /// After this, an outbound text is of no use (a reminder's appointment has begun).
    pub expires_at: Option<String>,
    /// Those kept or refused, by their place in `media`.
    pub media_done: std::collections::BTreeSet<u32>,
    /// The client's own time zone, when their case names one.
    pub zone: Option<String>,
    /// An outbound text's documents and pictures (an MMS).
    pub attachments: Vec<Attachment>,
}

/// An attempt that may have reached the provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    pub attempt: u32,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// How long after `started_at` the provider may still send it, in seconds.
    pub valid_for: u32,
}

/// A text to queue. `..Outbound::default()` leaves out what a caller does not have.
#[derive(Clone, Debug, Default)]
pub struct Outbound {
    pub case_id: Option<String>,
    pub to: String,
    pub body: String,
    pub price: Price,
    pub purpose: Purpose,
    pub deliver_after: Option<String>,
    pub in_reply_to: Option<String>,
    /// When the text is of no use any more (a reminder's appointment).
    pub expires_at: Option<String>,
    /// The client's own time zone, when the case names one.
    pub zone: Option<String>,
    /// Uploaded documents and pictures to send with it (an MMS).
    pub attachments: Vec<Attachment>,
    /// A campaign's text: the campaign and the recipient's place in its audience.
    pub campaign: Option<casewire_events::campaign::CampaignText>,
}

/// The tenant's prices, in micro-dollars: Twilio bills an SMS per segment and an MMS per
/// message.
#[derive(Debug, Clone, Copy)]
pub struct Price {
    pub per_segment_micros: u64,
    pub per_mms_micros: u64,
}

impl Price {
    pub fn of(settings: &casewire_tenancy::SmsSettings) -> Self {
        Price {
            per_segment_micros: settings.price_per_segment_micros,
            per_mms_micros: settings.price_per_mms_micros,
        }
    }
}

impl Default for Price {
    fn default() -> Self {
        Price {
            per_segment_micros: casewire_tenancy::DEFAULT_PRICE_PER_SEGMENT_MICROS,
            per_mms_micros: casewire_tenancy::DEFAULT_PRICE_PER_MMS_MICROS,
        }
    }
}

#[derive(Clone, Debug)]
pub enum MessageCommand {
    Queue(Outbound),
    /// Consent said no: record that the text was refused, and why.
    Refuse {
        case_id: Option<String>,
        to: String,
        purpose: Purpose,
        consent: String,
        reason: String,
    },
    BeginDispatch {
        provider: String,
        now: String,
        /// The `ValidityPeriod` the provider will be given.
        valid_for: u32,
    },
    Abandon {
        reason: String,
    },
    /// The provider's list could not be searched for the attempt in flight.
    FailLookup {
        reason: String,
    },
    /// The provider's list cannot tell whether the attempt in flight reached it.
    GiveUpLookup {
        reason: String,
    },
    Accept {
        provider_sid: String,
    },
    Fail {
        error_code: Option<String>,
        reason: String,
    },
    ReportStatus {
        status: String,
        error_code: Option<String>,
        /// The provider's id of the text the report is about (Twilio's `MessageSid`).
        provider_sid: Option<String>,
    },
    Receive {
        from: String,
        to: String,
        body: String,
        provider_sid: String,
        opt_out_type: Option<String>,
        media: Vec<Media>,
    },
    /// One of an inbound text's pictures or files, kept.
    StoreMedia {
        n: u32,
        content_type: String,
        size: u64,
        sha256: String,
    },
    /// One of an inbound text's pictures or files, not kept, and why.
    RefuseMedia {
        n: u32,
        reason: String,
    },
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such message")]
    NoSuchMessage,
    #[error("this message already exists")]
    Exists,
    #[error("{0}")]
    Conflict(String),
}

impl Refusal for MessageError {
    fn code(&self) -> casewire_bus::ErrorCode {
        match self {
            MessageError::Invalid(_) => casewire_bus::ErrorCode::Invalid,
            MessageError::NoSuchMessage => casewire_bus::ErrorCode::NotFound,
            MessageError::Exists | MessageError::Conflict(_) => casewire_bus::ErrorCode::Conflict,
        }
    }
}

impl Message {
    pub fn is_outbound(&self) -> bool {
        self.direction.as_deref() == Some("outbound")
    }

    /// Whether picture or file `n` of an inbound text is still to be kept or refused.
    pub fn awaits_media(&self, n: u32) -> bool {
        (n as usize) < self.media.len() && !self.media_done.contains(&n)
    }

    /// Accepted by the provider, failed, or beyond telling: dispatch has nothing left to do.
    pub fn dispatched(&self) -> bool {
        self.provider_sid.is_some()
            || self.status == "failed"
            || self.status == "unknown"
            || status_rank(&self.status) > status_rank("accepted")
    }

    fn outbound(&self) -> Result<(), MessageError> {
        if self.is_outbound() {
            Ok(())
        } else {
            Err(MessageError::NoSuchMessage)
        }
    }
}

impl Aggregate for Message {
    const TYPE: &'static str = casewire_events::message::AGGREGATE;
    type Command = MessageCommand;
    type Event = MessageEvent;
    type Error = MessageError;
    type Services = ();

    async fn handle(
        &mut self,
        command: MessageCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), MessageError> {
        use MessageCommand as C;
        let event = match command {
            C::Queue(Outbound {
                case_id,
                to,
                body,
                price,
                purpose,
                deliver_after,
                in_reply_to,
                expires_at,
                zone,
                attachments,
                campaign,
            }) => {
                if self.direction.is_some() {
                    return Err(MessageError::Exists);
                }
                segments::validate_body(&body)
                    .map_err(|e| MessageError::Invalid(format!("body: {e}")))?;
                check_attachments(&attachments)?;
                let count = segments::count(&body);
                let price_micros = if attachments.is_empty() {
                    segments::estimated_price(&count, price.per_segment_micros)
                } else {
                    price.per_mms_micros
                };
                MessageEvent::OutboundQueued {
                    case_id,
                    body: Sealed::new(client_subject(&to), body),
                    to,
                    segments: count.segments,
                    encoding: encoding_name(count.encoding).into(),
                    price_micros,
                    purpose,
                    deliver_after,
                    in_reply_to,
                    expires_at,
                    zone,
                    attachments,
                    campaign,
                }
            }
            C::Refuse {
                case_id,
                to,
                purpose,
                consent,
                reason,
            } => {
                if self.direction.is_some() {
                    return Err(MessageError::Exists);
                }
                MessageEvent::OutboundRefused {
                    case_id,
                    to,
                    purpose,
                    consent,
                    reason,
                }
            }
            C::BeginDispatch {
                provider,
                now,
                valid_for,
            } => {
                self.outbound()?;
                if self.dispatched() {
                    return Err(MessageError::Conflict(
                        "this message was already dispatched".into(),
                    ));
                }
                // The rule that keeps a text from going twice: no new attempt while an
                // earlier one may have reached the provider, until a look-up says it did not.
                if self.in_flight.is_some() {
                    return Err(MessageError::Conflict(
                        "an earlier attempt may have reached the provider; look it up first".into(),
                    ));
                }
                // Timestamps are RFC 3339 UTC with microseconds: they compare as text.
                if let Some(after) = self.deliver_after.as_ref().filter(|a| **a > now) {
                    return Err(MessageError::Conflict(format!(
                        "held by quiet hours until {after}"
                    )));
                }
                MessageEvent::DispatchStarted {
                    attempt: self.attempts + 1,
                    provider,
                    started_at: now,
                    valid_for: Some(valid_for),
                }
            }
            C::Abandon { reason } => {
                self.outbound()?;
                let Some(InFlight { attempt, .. }) = self.in_flight.clone() else {
                    return Ok(());
                };
                MessageEvent::DispatchAbandoned { attempt, reason }
            }
            C::FailLookup { reason } => {
                self.outbound()?;
                let Some(InFlight {
                    attempt,
                    started_at,
                    ..
                }) = self.in_flight.clone()
                else {
                    return Ok(());
                };
                sink.write(
                    MessageEvent::LookupFailed {
                        attempt,
                        reason: reason.clone(),
                    },
                    self,
                )
                .await;
                if self.lookups_failed < MAX_LOOKUPS {
                    return Ok(());
                }
                MessageEvent::OutcomeUnknown {
                    case_id: self.case_id.clone(),
                    attempt,
                    reason: format!(
                        "attempt {attempt} may have reached the provider, and its message list could not be searched in {MAX_LOOKUPS} tries (last: {reason}); casewire will not send it again: look in the provider's console for this text, sent to this client since {started_at}, and send it again only if it is not there"
                    ),
                }
            }
            C::GiveUpLookup { reason } => {
                self.outbound()?;
                let Some(InFlight { attempt, .. }) = self.in_flight.clone() else {
                    return Ok(());
                };
                MessageEvent::OutcomeUnknown {
                    case_id: self.case_id.clone(),
                    attempt,
                    reason,
                }
            }
            C::Accept { provider_sid } => {
                self.outbound()?;
                if self.provider_sid.is_some() || self.status == "failed" {
                    return Ok(());
                }
                MessageEvent::Accepted {
                    case_id: self.case_id.clone(),
                    provider_sid,
                }
            }
            C::Fail { error_code, reason } => {
                self.outbound()?;
                if self.dispatched() {
                    return Ok(());
                }
                MessageEvent::Failed {
                    case_id: self.case_id.clone(),
                    error_code,
                    reason,
                }
            }
            C::ReportStatus {
                status,
                error_code,
                provider_sid,
            } => {
                self.outbound()?;
                if status_rank(&status).is_none() {
                    return Err(MessageError::Invalid(format!(
                        "unknown message status {status:?}"
                    )));
                }
                let ignored = |this: &Self| MessageEvent::StatusIgnored {
                    case_id: this.case_id.clone(),
                    status: status.clone(),
                    error_code: error_code.clone(),
                    current: this.status.clone(),
                };
                match (&self.provider_sid, &provider_sid) {
                    // A report about another text of the provider's: the callback URL was
                    // reused or forged.
                    (Some(known), Some(said)) if known != said => {
                        sink.write(ignored(self), self).await;
                        return Ok(());
                    }
                    // The answer to an attempt was lost (the text is in flight, or ended
                    // `unknown`), and the provider's own report, sent to this text's
                    // callback URL with its id, says it took it.
                    (None, Some(said)) if self.in_flight.is_some() || self.status == "unknown" => {
                        let accepted = MessageEvent::Accepted {
                            case_id: self.case_id.clone(),
                            provider_sid: said.clone(),
                        };
                        sink.write(accepted, self).await;
                    }
                    _ => {}
                }
                // Callbacks come late, twice, or out of order, and a forged or mistaken one
                // may name a text never dispatched: only what the text's life allows from
                // where it is counts; the rest is kept in the trail and changes nothing.
                if self.attempts > 0 && moves(&self.status, &status) {
                    MessageEvent::StatusReported {
                        case_id: self.case_id.clone(),
                        status,
                        error_code,
                    }
                } else {
                    ignored(self)
                }
            }
            C::StoreMedia {
                n,
                content_type,
                size,
                sha256,
            } => {
                if !self.awaits_media(n) {
                    return Ok(());
                }
                MessageEvent::MediaStored {
                    n,
                    content_type,
                    size,
                    sha256,
                }
            }
            C::RefuseMedia { n, reason } => {
                if !self.awaits_media(n) {
                    return Ok(());
                }
                MessageEvent::MediaRefused { n, reason }
            }
            C::Receive {
                from,
                to,
                body,
                provider_sid,
                opt_out_type,
                media,
            } => {
                if self.direction.is_some() {
                    // Twilio retries a webhook it thinks failed: the same MessageSid is the same text.
                    return Ok(());
                }
                let count = segments::count(&body);
                MessageEvent::InboundReceived {
                    body: Sealed::new(client_subject(&from), body),
                    from,
                    to,
                    segments: count.segments,
                    encoding: encoding_name(count.encoding).into(),
                    provider_sid,
                    opt_out_type,
                    media,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: MessageEvent) {
        use MessageEvent as E;
        match event {
            E::OutboundQueued {
                case_id,
                to,
                body,
                deliver_after,
                purpose,
                expires_at,
                zone,
                attachments,
                ..
            } => {
                self.zone = zone;
                self.attachments = attachments;
                self.direction = Some("outbound".into());
                self.case_id = case_id;
                self.deliver_after = deliver_after;
                self.expires_at = expires_at;
                self.purpose = purpose;
                self.phone = to;
                self.body = body.value().cloned();
                self.status = "queued".into();
            }
            E::DispatchStarted {
                attempt,
                started_at,
                valid_for,
                ..
            } => {
                self.attempts = attempt;
                self.in_flight = Some(InFlight {
                    attempt,
                    started_at,
                    valid_for: valid_for.unwrap_or(casewire_sms::twilio::MAX_VALIDITY_SECS),
                });
                self.lookups_failed = 0;
            }
            E::DispatchAbandoned { reason, .. } => {
                self.in_flight = None;
                self.last_reason = Some(reason);
            }
            E::LookupFailed { reason, .. } => {
                self.lookups_failed += 1;
                self.last_reason = Some(reason);
            }
            E::OutcomeUnknown { reason, .. } => {
                self.in_flight = None;
                self.status = "unknown".into();
                self.last_reason = Some(reason);
            }
            E::StatusIgnored { .. } => {}
            E::Accepted { provider_sid, .. } => {
                self.in_flight = None;
                self.provider_sid = Some(provider_sid);
                self.advance("accepted");
            }
            E::Failed { reason, .. } => {
                self.in_flight = None;
                self.status = "failed".into();
                self.last_reason = Some(reason);
            }
            E::StatusReported { status, .. } => self.advance(&status),
            E::OutboundRefused { .. } => {
                self.direction = Some("refused".into());
                self.status = "refused".into();
            }
            E::InboundReceived {
                from,
                body,
                provider_sid,
                media,
                ..
            } => {
                self.direction = Some("inbound".into());
                self.phone = from;
                self.body = body.value().cloned();
                self.provider_sid = Some(provider_sid);
                self.status = "received".into();
                self.media = media;
            }
            E::MediaStored { n, .. } | E::MediaRefused { n, .. } => {
                self.media_done.insert(n);
            }
        }
    }
}

impl Message {
    fn advance(&mut self, status: &str) {
        if status_rank(status) > status_rank(&self.status) {
            self.status = status.to_string();
        }
    }
}

/// Twilio's limits for one MMS: ten media, five megabytes in all.
pub const MAX_ATTACHMENTS: usize = 10;

fn check_attachments(attachments: &[Attachment]) -> Result<(), MessageError> {
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(MessageError::Invalid(format!(
            "attachments: {} given; Twilio sends at most {MAX_ATTACHMENTS} with one text",
            attachments.len()
        )));
    }
    let total: u64 = attachments.iter().map(|a| a.size).sum();
    if total > crate::media::MAX_BYTES {
        return Err(MessageError::Invalid(format!(
            "attachments: {total} bytes in all; Twilio sends at most {} with one text",
            crate::media::MAX_BYTES
        )));
    }
    Ok(())
}

pub fn encoding_name(e: segments::Encoding) -> &'static str {
    match e {
        segments::Encoding::Gsm7 => "GSM-7",
        segments::Encoding::Ucs2 => "UCS-2",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<Message>;

    fn queued() -> MessageEvent {
        MessageEvent::OutboundQueued {
            case_id: Some("c1".into()),
            to: "+13125550100".into(),
            body: Sealed::new(
                "client:+13125550100",
                "Your hearing is Monday at 9".to_string(),
            ),
            segments: 1,
            encoding: "GSM-7".into(),
            price_micros: 8_300,
            purpose: Purpose::Conversation,
            deliver_after: None,
            in_reply_to: None,
            expires_at: None,
            zone: None,
            attachments: Vec::new(),
            campaign: None,
        }
    }

    fn started(attempt: u32) -> MessageEvent {
        MessageEvent::DispatchStarted {
            attempt,
            provider: "twilio".into(),
            started_at: "2026-11-29T15:00:00.000000Z".into(),
            valid_for: Some(3600),
        }
    }

    fn accepted() -> MessageEvent {
        MessageEvent::Accepted {
            case_id: Some("c1".into()),
            provider_sid: "SM1".into(),
        }
    }

    fn status(s: &str) -> MessageCommand {
        MessageCommand::ReportStatus {
            status: s.into(),
            error_code: None,
            provider_sid: None,
        }
    }

    #[test]
    fn a_text_is_queued_with_its_segments_and_price_and_the_body_sealed() {
        Given::with(())
            .given_no_previous_events()
            .when(queue("Your hearing is Monday at 9", Vec::new()))
            .then_expect_events(vec![queued()]);
    }

    fn queue(body: &str, attachments: Vec<Attachment>) -> MessageCommand {
        MessageCommand::Queue(Outbound {
            case_id: Some("c1".into()),
            to: "+13125550100".into(),
            body: body.into(),
            price: Price {
                per_segment_micros: 8_300,
                per_mms_micros: 20_000,
            },
            attachments,
            ..Outbound::default()
        })
    }

    fn notice(size: u64) -> Attachment {
        Attachment {
            id: "a1".into(),
            content_type: "application/pdf".into(),
            size,
            sha256: "00".repeat(32),
        }
    }

    /// Twilio bills an MMS per message, and takes at most 10 media and 5 MB in all
    /// (twilio.com/docs/messaging/guides/accepted-mime-types).
    #[test]
    fn a_text_with_a_document_is_priced_as_one_mms_within_twilios_limits() {
        let event = |attachments| match queued() {
            MessageEvent::OutboundQueued {
                case_id,
                to,
                body,
                segments,
                encoding,
                ..
            } => MessageEvent::OutboundQueued {
                case_id,
                to,
                body,
                segments,
                encoding,
                price_micros: 20_000,
                purpose: Purpose::Conversation,
                deliver_after: None,
                in_reply_to: None,
                expires_at: None,
                zone: None,
                attachments,
                campaign: None,
            },
            _ => unreachable!(),
        };
        Given::with(())
            .given_no_previous_events()
            .when(queue("Your hearing is Monday at 9", vec![notice(300_000)]))
            .then_expect_events(vec![event(vec![notice(300_000)])]);
        Given::with(())
            .given_no_previous_events()
            .when(queue("Your papers", vec![notice(1); 11]))
            .then_expect_error_message(
                "attachments: 11 given; Twilio sends at most 10 with one text",
            );
        Given::with(())
            .given_no_previous_events()
            .when(queue("Your papers", vec![notice(3_000_000); 2]))
            .then_expect_error_message(
                "attachments: 6000000 bytes in all; Twilio sends at most 5242880 with one text",
            );
    }

    #[test]
    fn a_body_over_1600_characters_is_refused() {
        Given::with(())
            .given_no_previous_events()
            .when(queue(&"a".repeat(1601), Vec::new()))
            .then_expect_error_message(
                "body: the message body is 1601 characters long; Twilio accepts at most 1600",
            );
    }

    #[test]
    fn no_second_attempt_while_the_first_may_have_reached_the_provider() {
        let begin = || MessageCommand::BeginDispatch {
            provider: "twilio".into(),
            now: "2026-11-29T15:00:00.000000Z".into(),
            valid_for: 3600,
        };
        Given::with(())
            .given(vec![queued()])
            .when(begin())
            .then_expect_events(vec![started(1)]);
        Given::with(())
            .given(vec![queued(), started(1)])
            .when(begin())
            .then_expect_error(MessageError::Conflict(
                "an earlier attempt may have reached the provider; look it up first".into(),
            ));
        let abandoned = MessageEvent::DispatchAbandoned {
            attempt: 1,
            reason: "429".into(),
        };
        Given::with(())
            .given(vec![queued(), started(1), abandoned])
            .when(begin())
            .then_expect_events(vec![started(2)]);
        Given::with(())
            .given(vec![queued(), started(1), accepted()])
            .when(begin())
            .then_expect_error(MessageError::Conflict(
                "this message was already dispatched".into(),
            ));
    }

    #[test]
    fn a_text_held_by_quiet_hours_is_not_dispatched_before_its_time() {
        let held = match queued() {
            MessageEvent::OutboundQueued {
                case_id,
                to,
                body,
                segments,
                encoding,
                price_micros,
                in_reply_to,
                ..
            } => MessageEvent::OutboundQueued {
                case_id,
                to,
                body,
                segments,
                encoding,
                price_micros,
                purpose: Purpose::Reminder,
                deliver_after: Some("2026-11-30T14:00:00.000000Z".into()),
                in_reply_to,
                expires_at: None,
                zone: None,
                attachments: Vec::new(),
                campaign: None,
            },
            _ => unreachable!(),
        };
        let begin = |now: &str| MessageCommand::BeginDispatch {
            provider: "twilio".into(),
            now: now.into(),
            valid_for: 3600,
        };
        Given::with(())
            .given(vec![held.clone()])
            .when(begin("2026-11-30T13:59:59.000000Z"))
            .then_expect_error(MessageError::Conflict(
                "held by quiet hours until 2026-11-30T14:00:00.000000Z".into(),
            ));
        Given::with(())
            .given(vec![held])
            .when(begin("2026-11-30T14:00:00.000000Z"))
            .then_expect_events(vec![MessageEvent::DispatchStarted {
                attempt: 1,
                provider: "twilio".into(),
                started_at: "2026-11-30T14:00:00.000000Z".into(),
                valid_for: Some(3600),
            }]);
    }

    #[test]
    fn a_refused_text_is_recorded_and_can_never_be_dispatched() {
        let refused = MessageEvent::OutboundRefused {
            case_id: Some("c1".into()),
            to: "+13125550100".into(),
            purpose: Purpose::Reminder,
            consent: "none".into(),
            reason: "no consent".into(),
        };
        Given::with(())
            .given_no_previous_events()
            .when(MessageCommand::Refuse {
                case_id: Some("c1".into()),
                to: "+13125550100".into(),
                purpose: Purpose::Reminder,
                consent: "none".into(),
                reason: "no consent".into(),
            })
            .then_expect_events(vec![refused.clone()]);
        Given::with(())
            .given(vec![refused])
            .when(MessageCommand::BeginDispatch {
                provider: "twilio".into(),
                now: "2026-11-30T14:00:00.000000Z".into(),
                valid_for: 3600,
            })
            .then_expect_error(MessageError::NoSuchMessage);
    }

    fn reported(s: &str) -> MessageEvent {
        MessageEvent::StatusReported {
            case_id: Some("c1".into()),
            status: s.into(),
            error_code: None,
        }
    }

    fn ignored(s: &str, current: &str) -> MessageEvent {
        MessageEvent::StatusIgnored {
            case_id: Some("c1".into()),
            status: s.into(),
            error_code: None,
            current: current.into(),
        }
    }

    #[test]
    fn a_status_moves_only_forward_and_what_it_ignores_stays_in_the_trail() {
        Given::with(())
            .given(vec![queued(), started(1), accepted()])
            .when(status("delivered"))
            .then_expect_events(vec![reported("delivered")]);
        let delivered = || vec![queued(), started(1), accepted(), reported("delivered")];
        Given::with(())
            .given(delivered())
            .when(status("sent"))
            .then_expect_events(vec![ignored("sent", "delivered")]);
        Given::with(())
            .given(delivered())
            .when(status("undelivered"))
            .then_expect_events(vec![ignored("undelivered", "delivered")]);
        Given::with(())
            .given(delivered())
            .when(status("read"))
            .then_expect_events(vec![reported("read")]);
        Given::with(())
            .given(vec![queued(), started(1), accepted(), reported("sent")])
            .when(status("sent"))
            .then_expect_events(vec![ignored("sent", "sent")]);
        Given::with(())
            .given(vec![queued()])
            .when(status("bogus"))
            .then_expect_error(MessageError::Invalid(
                "unknown message status \"bogus\"".into(),
            ));
    }

    #[test]
    fn a_status_for_a_text_never_dispatched_changes_nothing() {
        // Held for quiet hours: no attempt, so no provider can have it.
        Given::with(())
            .given(vec![queued()])
            .when(status("sent"))
            .then_expect_events(vec![ignored("sent", "queued")]);
    }

    #[test]
    fn a_text_whose_lookups_keep_failing_ends_unknown_and_is_never_sent_again() {
        let lookup_failed = || MessageEvent::LookupFailed {
            attempt: 1,
            reason: "503".into(),
        };
        let fail = || MessageCommand::FailLookup {
            reason: "503".into(),
        };
        let mut history = vec![queued(), started(1)];
        for _ in 1..MAX_LOOKUPS {
            Given::with(())
                .given(history.clone())
                .when(fail())
                .then_expect_events(vec![lookup_failed()]);
            history.push(lookup_failed());
        }
        let ended = Given::with(())
            .given(history.clone())
            .when(fail())
            .inspect_result()
            .unwrap();
        assert_eq!(ended.len(), 2, "{ended:?}");
        let MessageEvent::OutcomeUnknown {
            attempt, reason, ..
        } = &ended[1]
        else {
            panic!("{ended:?}")
        };
        assert_eq!(*attempt, 1);
        assert!(
            reason.contains("will not send it again") && reason.contains("console"),
            "{reason}"
        );
        history.extend(ended);
        Given::with(())
            .given(history.clone())
            .when(MessageCommand::BeginDispatch {
                provider: "twilio".into(),
                now: "2026-11-29T16:00:00.000000Z".into(),
                valid_for: 3600,
            })
            .then_expect_error(MessageError::Conflict(
                "this message was already dispatched".into(),
            ));
        // Twilio's own report settles it, and records the SID it names.
        Given::with(())
            .given(history.clone())
            .when(status("delivered"))
            .then_expect_events(vec![reported("delivered")]);
        Given::with(())
            .given(history)
            .when(MessageCommand::ReportStatus {
                status: "delivered".into(),
                error_code: None,
                provider_sid: Some("SM1".into()),
            })
            .then_expect_events(vec![accepted(), reported("delivered")]);
    }

    #[test]
    fn a_callback_before_the_answer_is_recorded_still_lets_the_sid_be_recorded() {
        let reported = MessageEvent::StatusReported {
            case_id: Some("c1".into()),
            status: "sent".into(),
            error_code: None,
        };
        Given::with(())
            .given(vec![queued(), started(1), reported])
            .when(MessageCommand::Accept {
                provider_sid: "SM1".into(),
            })
            .then_expect_events(vec![accepted()]);
    }

    fn media() -> Media {
        Media {
            sid: format!("ME{}", "0".repeat(32)),
            content_type: "image/jpeg".into(),
        }
    }

    #[test]
    fn each_picture_of_an_inbound_text_is_kept_or_refused_once() {
        let received = MessageEvent::InboundReceived {
            from: "+13125550100".into(),
            to: "+13125550199".into(),
            body: Sealed::new("client:+13125550100", String::new()),
            segments: 1,
            encoding: "GSM-7".into(),
            provider_sid: "MM9".into(),
            opt_out_type: None,
            media: vec![media()],
        };
        let store = || MessageCommand::StoreMedia {
            n: 0,
            content_type: "image/jpeg".into(),
            size: 3,
            sha256: "abc".into(),
        };
        let stored = MessageEvent::MediaStored {
            n: 0,
            content_type: "image/jpeg".into(),
            size: 3,
            sha256: "abc".into(),
        };
        Given::with(())
            .given(vec![received.clone()])
            .when(store())
            .then_expect_events(vec![stored.clone()]);
        Given::with(())
            .given(vec![received.clone(), stored])
            .when(store())
            .then_expect_events(vec![]);
        Given::with(())
            .given(vec![received])
            .when(MessageCommand::RefuseMedia {
                n: 1,
                reason: "no such picture".into(),
            })
            .then_expect_events(vec![]);
    }

    #[test]
    fn the_same_inbound_text_twice_is_recorded_once() {
        let receive = || MessageCommand::Receive {
            from: "+13125550100".into(),
            to: "+13125550199".into(),
            body: "¿Cuándo es la audiencia?".into(),
            provider_sid: "SM9".into(),
            opt_out_type: None,
            media: vec![media()],
        };
        let received = MessageEvent::InboundReceived {
            from: "+13125550100".into(),
            to: "+13125550199".into(),
            body: Sealed::new(
                "client:+13125550100",
                "¿Cuándo es la audiencia?".to_string(),
            ),
            segments: 1,
            encoding: "UCS-2".into(),
            provider_sid: "SM9".into(),
            opt_out_type: None,
            media: vec![media()],
        };
        Given::with(())
            .given_no_previous_events()
            .when(receive())
            .then_expect_events(vec![received.clone()]);
        Given::with(())
            .given(vec![received])
            .when(receive())
            .then_expect_events(vec![]);
    }
}
