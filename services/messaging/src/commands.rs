//! The commands messaging answers over the bus.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use casewire_bus::{CommandError, CommandHandler, Envelope, Reader};
use casewire_events::appointment::{Appointment, AppointmentKind};
use casewire_events::message::{client_subject, Purpose};
use casewire_events::Sealed;
use casewire_eventstore::EventStore;
use casewire_tenancy::Policy;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::appointment::{AppointmentCommand, AppointmentState, CaseReminders, Switch};
use crate::message::{Message, MessageCommand};
use crate::reminders::CaseFacts;
use crate::MessagingSettings;

pub struct Commands {
    pub(crate) store: EventStore,
    pub(crate) reader: Reader,
    pub(crate) settings: Arc<MessagingSettings>,
}

#[derive(Deserialize)]
struct Send {
    case_id: String,
    body: String,
    #[serde(default)]
    purpose: Purpose,
}

/// casewire's own answer to a client (asked by consent): no case, no consent needed, no
/// quiet hours. The id is the caller's, so that asking twice sends once.
#[derive(Deserialize)]
struct Reply {
    id: String,
    to: String,
    body: String,
    in_reply_to: Option<String>,
}

#[derive(Deserialize)]
pub struct Receive {
    pub provider_sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
    pub opt_out_type: Option<String>,
}

#[derive(Deserialize)]
struct ReportStatus {
    message_id: String,
    status: String,
    error_code: Option<String>,
}

/// An appointment as the CMS sends it, before validation.
#[derive(Deserialize)]
struct AppointmentInput {
    kind: AppointmentKind,
    starts_at: String,
    location: Option<String>,
    time_zone: Option<String>,
    note_for_client: Option<String>,
}

#[derive(Deserialize)]
struct PutAppointment {
    case_id: String,
    appointment_id: String,
    appointment: AppointmentInput,
}

#[derive(Deserialize)]
struct CaseAppointment {
    case_id: String,
    appointment_id: String,
}

#[derive(Deserialize)]
struct SetReminders {
    case_id: String,
    enabled: bool,
}

#[derive(Deserialize)]
struct OfCase {
    case_id: String,
}

#[derive(Deserialize)]
struct Preview {
    case_id: String,
    language: Option<String>,
    appointment: AppointmentInput,
}

fn optional_text(
    what: &str,
    v: Option<String>,
    max: usize,
) -> Result<Option<String>, CommandError> {
    let Some(v) = v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(CommandError::invalid(format!(
            "{what}: at most {max} characters, on one line"
        )));
    }
    Ok(Some(v))
}

impl AppointmentInput {
    /// The appointment as recorded: its time checked, the client's details sealed.
    fn validate(self, phone: &str) -> Result<Appointment, CommandError> {
        chrono::DateTime::parse_from_rfc3339(&self.starts_at).map_err(|_| {
            CommandError::invalid(format!(
                "starts_at: {:?} is not an RFC 3339 time with its offset, such as 2026-12-14T09:00:00-06:00",
                self.starts_at
            ))
        })?;
        let time_zone = match self.time_zone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(z) if z.parse::<chrono_tz::Tz>().is_ok() => Some(z.to_string()),
            Some(z) => {
                return Err(CommandError::invalid(format!(
                    "time_zone: {z:?} is not an IANA time zone such as America/Chicago"
                )))
            }
        };
        let seal = |v: String| Sealed::new(client_subject(phone), v);
        Ok(Appointment {
            kind: self.kind,
            starts_at: self.starts_at,
            time_zone,
            location: optional_text("location", self.location, 200)?.map(seal),
            note_for_client: optional_text("note_for_client", self.note_for_client, 300)?.map(seal),
        })
    }
}

impl Commands {
    /// Checks consent before every text. A text consent refuses is recorded as refused and
    /// answered 409 with the reason.
    async fn consented(
        &self,
        tenant: &str,
        metadata: &HashMap<String, String>,
        policy: &Policy,
        case_id: &str,
        phone: &str,
        purpose: Purpose,
    ) -> Result<(), CommandError> {
        let answer = crate::checks::consent(&self.store, tenant, policy, phone, purpose)
            .await
            .map_err(CommandError::internal)?;
        if answer.allowed {
            return Ok(());
        }
        let reason = answer.reason();
        let id = uuid::Uuid::now_v7().to_string();
        let refuse = MessageCommand::Refuse {
            case_id: Some(case_id.to_string()),
            to: phone.to_string(),
            purpose,
            consent: answer.state.as_str().to_string(),
            reason: reason.clone(),
        };
        casewire_bus::execute::<Message>(&self.reader, tenant, &id, refuse, metadata.clone())
            .await?;
        Err(CommandError::new(
            "conflict",
            format!("{reason}; nothing was sent (refusal {id} is on the record)"),
        ))
    }

    /// The tenant's price per segment; `None` when it cannot text at all.
    async fn price(&self, tenant: &str) -> Result<u64, CommandError> {
        let price = crate::checks::price(&self.store, tenant)
            .await
            .map_err(CommandError::internal)?;
        match price {
            Some(p) => Ok(p),
            None if self.settings.sandbox_by_default => {
                Ok(casewire_tenancy::DEFAULT_PRICE_PER_SEGMENT_MICROS)
            }
            None => Err(CommandError::new(
                "conflict",
                format!("the organization has no SMS provider yet: an admin sets one with PUT /v1/tenants/{tenant}/sms-provider"),
            )),
        }
    }

    async fn case(&self, tenant: &str, case_id: &str) -> Result<CaseFacts, CommandError> {
        casewire_bus::caught_up(&self.reader, tenant).await?;
        crate::reminders::case_facts(&self.store, tenant, case_id)
            .await
            .map_err(CommandError::internal)?
            .ok_or_else(|| {
                CommandError::not_found("no such case: link it first with PUT /v1/cases/{case_id}")
            })
    }

    /// A case's reminders (one appointment's, when named), as the read model has them:
    /// callers catch it up first.
    async fn reminders(
        &self,
        tenant: &str,
        case_id: &str,
        appointment_id: Option<&str>,
    ) -> Result<Value, CommandError> {
        let list = crate::reminders::list(&self.store, tenant, case_id, appointment_id)
            .await
            .map_err(CommandError::internal)?;
        Ok(json!(list))
    }

    async fn view(&self, tenant: &str, id: &str) -> Result<Value, CommandError> {
        let view = crate::messages::find(&self.store, tenant, id)
            .await
            .map_err(CommandError::internal)?
            .ok_or_else(|| CommandError::not_found("no such message"))?;
        Ok(json!(view))
    }
}

#[async_trait]
impl CommandHandler for Commands {
    async fn handle(&self, command: &str, body: Value) -> Result<Value, CommandError> {
        let store = &self.store;
        match command {
            "send" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<Send>::parse(body)?;
                if body.purpose == Purpose::System {
                    return Err(CommandError::invalid(
                        "purpose must be conversation, reminder or bulk",
                    ));
                }
                // The case may have been linked a moment ago: read it as the log has it.
                casewire_bus::caught_up(&self.reader, &tenant).await?;
                let case: Option<(String, Option<String>)> = sqlx::query_as(
                    "SELECT phone, time_zone FROM messaging_cases WHERE tenant_id = $1 AND case_id = $2",
                )
                .bind(&tenant)
                .bind(&body.case_id)
                .fetch_optional(store.db().reader())
                .await
                .map_err(CommandError::internal)?;
                let (to, zone) = case.ok_or_else(|| {
                    CommandError::not_found(
                        "no such case: link it first with PUT /v1/cases/{case_id}",
                    )
                })?;
                let policy = crate::checks::policy(store, &tenant)
                    .await
                    .map_err(CommandError::internal)?;
                self.consented(
                    &tenant,
                    &metadata,
                    &policy,
                    &body.case_id,
                    &to,
                    body.purpose,
                )
                .await?;
                let price = self.price(&tenant).await?;
                let deliver_after =
                    crate::checks::release(store, &tenant, &policy, zone.as_deref(), body.purpose)
                        .await
                        .map_err(CommandError::internal)?
                        .map(casewire_events::timestamp);
                let id = uuid::Uuid::now_v7().to_string();
                let queue = MessageCommand::Queue {
                    case_id: Some(body.case_id),
                    to,
                    body: body.body,
                    price_per_segment_micros: price,
                    purpose: body.purpose,
                    deliver_after,
                    in_reply_to: None,
                };
                // A fresh id: the message is new, there is nothing to read first.
                let new = &mut Default::default();
                casewire_bus::execute_on::<Message>(
                    &self.reader,
                    &tenant,
                    &id,
                    new,
                    queue,
                    metadata,
                )
                .await?;
                self.view(&tenant, &id).await
            }
            "reply" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<Reply>::parse(body)?;
                let queue = MessageCommand::Queue {
                    case_id: None,
                    to: body.to,
                    body: body.body,
                    price_per_segment_micros: self.price(&tenant).await?,
                    purpose: Purpose::System,
                    deliver_after: None,
                    in_reply_to: body.in_reply_to,
                };
                match casewire_bus::execute::<Message>(
                    &self.reader,
                    &tenant,
                    &body.id,
                    queue,
                    metadata,
                )
                .await
                {
                    // Asked again after a crash: it is already queued, once.
                    Err(e) if e.code == "conflict" => {}
                    other => drop(other?),
                }
                self.view(&tenant, &body.id).await
            }
            "put_appointment" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<PutAppointment>::parse(body)?;
                let case = self.case(&tenant, &body.case_id).await?;
                let appointment = body.appointment.validate(&case.phone)?;
                let plan = crate::reminders::plan(store, &tenant, &appointment, &case)
                    .await
                    .map_err(CommandError::internal)?;
                let id = crate::reminders::aggregate_id(&body.case_id, &body.appointment_id);
                let (before, _) = casewire_bus::load::<AppointmentState>(store, &tenant, &id)
                    .await
                    .map_err(CommandError::internal)?;
                let set = AppointmentCommand::Set {
                    case_id: body.case_id.clone(),
                    appointment_id: body.appointment_id.clone(),
                    appointment,
                    plan,
                };
                casewire_bus::execute::<AppointmentState>(
                    &self.reader,
                    &tenant,
                    &id,
                    set,
                    metadata,
                )
                .await?;
                let mine = self
                    .reminders(&tenant, &body.case_id, Some(&body.appointment_id))
                    .await?;
                Ok(json!({
                    "created": before.appointment.is_none() || before.cancelled,
                    "reminders": mine,
                }))
            }
            "cancel_appointment" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<CaseAppointment>::parse(body)?;
                let id = crate::reminders::aggregate_id(&body.case_id, &body.appointment_id);
                casewire_bus::execute::<AppointmentState>(
                    &self.reader,
                    &tenant,
                    &id,
                    AppointmentCommand::Cancel,
                    metadata,
                )
                .await?;
                Ok(json!({}))
            }
            "set_reminders" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<SetReminders>::parse(body)?;
                self.case(&tenant, &body.case_id).await?;
                let switch = Switch {
                    enabled: body.enabled,
                };
                casewire_bus::execute::<CaseReminders>(
                    &self.reader,
                    &tenant,
                    &body.case_id,
                    switch,
                    metadata,
                )
                .await?;
                // The replan job does the same; doing it now lets the answer show it.
                crate::reminders::replan(store, &tenant, Some(&body.case_id))
                    .await
                    .map_err(CommandError::internal)?;
                casewire_bus::caught_up(&self.reader, &tenant).await?;
                Ok(json!({
                    "enabled": body.enabled,
                    "reminders": self.reminders(&tenant, &body.case_id, None).await?,
                }))
            }
            "reminders" => {
                let Envelope { tenant, body, .. } = Envelope::<OfCase>::parse(body)?;
                self.case(&tenant, &body.case_id).await?;
                self.reminders(&tenant, &body.case_id, None).await
            }
            "preview" => {
                let Envelope { tenant, body, .. } = Envelope::<Preview>::parse(body)?;
                let case = self.case(&tenant, &body.case_id).await?;
                let appointment = body.appointment.validate(&case.phone)?;
                let text = crate::reminders::word(
                    store,
                    &tenant,
                    &appointment,
                    &case,
                    body.language.as_deref(),
                )
                .await
                .map_err(CommandError::internal)?;
                let count = casewire_sms::segments::count(&text);
                let price = self.price(&tenant).await?;
                Ok(json!({
                    "text": text,
                    "segments": count.segments,
                    "encoding": crate::message::encoding_name(count.encoding),
                    "price_usd": casewire_sms::segments::estimated_price(&count, price) as f64 / 1e6,
                }))
            }
            "receive" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<Receive>::parse(body)?;
                let from = casewire_sms::phone::normalize(&body.from)
                    .map_err(|e| CommandError::invalid(format!("From: {e}")))?;
                let receive = MessageCommand::Receive {
                    from,
                    to: body.to,
                    body: body.body,
                    provider_sid: body.provider_sid.clone(),
                    opt_out_type: body.opt_out_type,
                };
                casewire_bus::execute::<Message>(
                    &self.reader,
                    &tenant,
                    &body.provider_sid,
                    receive,
                    metadata,
                )
                .await?;
                self.view(&tenant, &body.provider_sid).await
            }
            "report_status" => {
                let Envelope {
                    tenant,
                    metadata,
                    body,
                } = Envelope::<ReportStatus>::parse(body)?;
                let report = MessageCommand::ReportStatus {
                    status: body.status,
                    error_code: body.error_code,
                };
                casewire_bus::execute::<Message>(
                    &self.reader,
                    &tenant,
                    &body.message_id,
                    report,
                    metadata,
                )
                .await?;
                Ok(json!({}))
            }
            other => Err(CommandError::new(
                "unknown_command",
                format!("messaging has no command {other}"),
            )),
        }
    }
}
