//! The durable reminder scheduler. Every scheduling decision is an event of the
//! appointment ([`crate::appointment`]); this module is its edges:
//!
//! - [`Reminders`], the projection: each reminder's state for the API, and a job due when
//!   the reminder is (made in the transaction that moves the cursor, so once per event);
//! - [`Scheduler`], the worker that runs a due job: it re-reads the appointment (a job for
//!   a time the reminder no longer has is stale and does nothing), asks consent, holds the
//!   text out of quiet hours (deferred, not dropped), words it from the latest
//!   appointment, records the decision, then queues the text under an id made from the
//!   reminder and its time, so a crash or a second replica never sends it twice;
//! - [`Replanner`], which brings every appointment of a case or tenant in line after the
//!   case's switch or the tenant's reminder policy changes.

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, Outcome, Worker};
use casewire_bus::{Of, Projection, Reads};
use casewire_events::appointment::{Appointment, AppointmentEvent, CaseRemindersEvent};
use casewire_events::message::{client_subject, Purpose};
use casewire_events::{Metadata, RecordedEvent, Sealed};
use casewire_eventstore::EventStore;
use casewire_tenancy::{Offset, ReminderPolicy};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Any, Transaction};

use crate::appointment::{AppointmentCommand, AppointmentState, Decision, Plan, SentText};
use crate::message::{Message, MessageCommand, Outbound};

pub const QUEUE: &str = "messaging.reminders";
pub const REPLAN: &str = "messaging.replan";

/// A due reminder's job: the appointment, the offset, and the time the job is for.
#[derive(Debug, Serialize, Deserialize)]
struct Due {
    appointment: String,
    offset: String,
    at: String,
    /// The event that scheduled it (absent from jobs of before).
    #[serde(default)]
    cause: Option<String>,
}

pub fn aggregate_id(case_id: &str, appointment_id: &str) -> String {
    format!("{case_id}/{appointment_id}")
}

/// The case a reminder is for, as messaging keeps it.
#[derive(sqlx::FromRow)]
pub(crate) struct CaseFacts {
    pub phone: String,
    pub language: String,
    pub time_zone: Option<String>,
    pub client_name: Option<String>,
    pub advocate: Option<String>,
    pub reminders_enabled: i64,
}

pub(crate) async fn case_facts(
    store: &EventStore,
    tenant: &str,
    case_id: &str,
) -> anyhow::Result<Option<CaseFacts>> {
    Ok(sqlx::query_as(
        "SELECT phone, language, time_zone, client_name, advocate, reminders_enabled \
         FROM messaging_cases WHERE tenant_id = $1 AND case_id = $2",
    )
    .bind(tenant)
    .bind(case_id)
    .fetch_optional(store.db().reader())
    .await?)
}

/// The zone an appointment's times are in: its own, else the client's, else the tenant's.
async fn appointment_zone(
    store: &EventStore,
    tenant: &str,
    appointment: &Appointment,
    case: &CaseFacts,
) -> anyhow::Result<chrono_tz::Tz> {
    let own = appointment
        .time_zone
        .as_deref()
        .or(case.time_zone.as_deref());
    crate::checks::zone(store, tenant, own).await
}

pub fn starts_at(appointment: &Appointment) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(&appointment.starts_at)?.with_timezone(&Utc))
}

/// Where each offset of the tenant's policy puts this appointment's reminders, now.
pub(crate) async fn plan(
    store: &EventStore,
    tenant: &str,
    appointment: &Appointment,
    case: &CaseFacts,
) -> anyhow::Result<Plan> {
    let policy = policy_of(store, tenant).await?;
    let zone = appointment_zone(store, tenant, appointment, case).await?;
    let starts = starts_at(appointment)?;
    let due = policy
        .kind(appointment.kind)
        .offsets
        .iter()
        .map(|o| {
            let offset = Offset::parse(o).map_err(anyhow::Error::msg)?;
            Ok((
                o.clone(),
                casewire_events::timestamp(offset.before(starts, zone)),
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Plan {
        due,
        enabled: case.reminders_enabled != 0,
        now: casewire_events::now(),
    })
}

/// The reminder's words, from the latest appointment and case.
pub(crate) async fn word(
    store: &EventStore,
    tenant: &str,
    appointment: &Appointment,
    case: &CaseFacts,
    language: Option<&str>,
    policy: Option<ReminderPolicy>,
) -> anyhow::Result<String> {
    let open = |sealed: Option<Sealed<String>>| sealed.and_then(|s| s.value().cloned());
    let sealed = json!({
        "name": case.client_name.as_deref().map(serde_json::from_str::<serde_json::Value>).transpose()?,
        "location": appointment.location,
        "note": appointment.note_for_client,
    });
    let mut payload = store.open_payload(tenant, &sealed.to_string()).await?;
    let client_name: Option<Sealed<String>> = serde_json::from_value(payload["name"].take())?;
    let location: Option<Sealed<String>> = serde_json::from_value(payload["location"].take())?;
    let note: Option<Sealed<String>> = serde_json::from_value(payload["note"].take())?;
    let (client_name, location, note) = (open(client_name), open(location), open(note));
    let organization: Option<(String,)> =
        sqlx::query_as("SELECT name FROM messaging_tenants WHERE id = $1")
            .bind(tenant)
            .fetch_optional(store.db().reader())
            .await?;
    let policy = match policy {
        Some(policy) => policy,
        None => policy_of(store, tenant).await?,
    };
    let facts = crate::template::Facts {
        kind: appointment.kind,
        language: language.unwrap_or(&case.language),
        starts_at: starts_at(appointment)?,
        zone: appointment_zone(store, tenant, appointment, case).await?,
        client_name: client_name.as_deref(),
        location: location.as_deref(),
        note: note.as_deref(),
        organization: organization.as_ref().map_or("", |(n,)| n.as_str()),
        advocate: case.advocate.as_deref(),
    };
    Ok(crate::template::render(&facts, &policy))
}

/// The tenant's reminder policy, casewire's own where it set none.
pub(crate) async fn policy_of(store: &EventStore, tenant: &str) -> anyhow::Result<ReminderPolicy> {
    Ok(crate::reminder_policies()
        .get(store, tenant)
        .await?
        .unwrap_or_default())
}

pub struct Reminders;

/// A reminder's new row; `None` for due_at or message_id keeps the one it had.
#[derive(Default)]
struct Row<'a> {
    offset: &'a str,
    due_at: Option<&'a str>,
    sends_at: Option<&'a str>,
    state: &'a str,
    reason: Option<&'a str>,
    message_id: Option<&'a str>,
}

impl Reminders {
    async fn upsert(
        tx: &mut Transaction<'static, Any>,
        e: &RecordedEvent,
        row: Row<'_>,
    ) -> anyhow::Result<()> {
        let (case_id, appointment_id) = e.aggregate_id.split_once('/').unwrap_or_default();
        sqlx::query(
            "INSERT INTO messaging_reminders (tenant_id, case_id, appointment_id, offset_iso, due_at, sends_at, state, reason, message_id, updated_at) \
             VALUES ($1, $2, $3, $4, COALESCE($5, ''), $6, $7, $8, $9, $10) \
             ON CONFLICT (tenant_id, case_id, appointment_id, offset_iso) DO UPDATE SET \
             due_at = COALESCE($5, messaging_reminders.due_at), sends_at = excluded.sends_at, state = excluded.state, \
             reason = excluded.reason, message_id = COALESCE(excluded.message_id, messaging_reminders.message_id), \
             updated_at = excluded.updated_at",
        )
        .bind(&e.tenant_id)
        .bind(case_id)
        .bind(appointment_id)
        .bind(row.offset)
        .bind(row.due_at)
        .bind(row.sends_at)
        .bind(row.state)
        .bind(row.reason)
        .bind(row.message_id)
        .bind(&e.recorded_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The job that runs the reminder at `at`.
    async fn due(
        tx: &mut Transaction<'static, Any>,
        e: &RecordedEvent,
        offset: &str,
        at: &str,
    ) -> anyhow::Result<()> {
        let due = Due {
            appointment: e.aggregate_id.clone(),
            offset: offset.to_string(),
            at: at.to_string(),
            cause: Some(e.event_id.clone()),
        };
        let when = DateTime::parse_from_rfc3339(at)?.with_timezone(&Utc);
        let id = format!("{}|{offset}|{at}", e.aggregate_id);
        jobs::enqueue(
            tx,
            QUEUE,
            &e.tenant_id,
            &id,
            &serde_json::to_value(due)?,
            when,
        )
        .await
    }
}

#[async_trait]
impl Projection for Reminders {
    fn name(&self) -> &'static str {
        "messaging_reminders"
    }

    fn reads(&self) -> Reads {
        use casewire_events::appointment;
        const OF: &[Of] = &[
            Of::all(appointment::SWITCH_AGGREGATE),
            Of::only(
                <casewire_tenancy::Tenant as cqrs_es::Aggregate>::TYPE,
                &["ReminderPolicySet"],
            ),
        ];
        Reads::Only(OF)
    }

    /// An appointment's rows and its reminders' jobs are written with its events, so
    /// `PUT …/appointments/{id}` answers with them at once. Applied twice (a restart's
    /// backlog), the rows come out the same, and a reminder's job enqueued again finds the
    /// reminder's time already dealt with.
    fn inline(&self) -> Reads {
        const OF: &[Of] = &[Of::all(casewire_events::appointment::AGGREGATE)];
        Reads::Only(OF)
    }

    fn feeds(&self) -> &'static [&'static str] {
        &[QUEUE, REPLAN]
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        use AppointmentEvent as E;
        match e.aggregate_type.as_str() {
            casewire_events::appointment::AGGREGATE => {}
            casewire_events::appointment::SWITCH_AGGREGATE => {
                let CaseRemindersEvent::RemindersSwitched { enabled } = e.decode()?;
                sqlx::query("UPDATE messaging_cases SET reminders_enabled = $1 WHERE tenant_id = $2 AND case_id = $3")
                    .bind(enabled as i64)
                    .bind(&e.tenant_id)
                    .bind(&e.aggregate_id)
                    .execute(&mut **tx)
                    .await?;
                let id = format!("{}@{}", e.aggregate_id, e.tenant_seq);
                let now = casewire_events::utc_now();
                let case = json!({ "case_id": e.aggregate_id });
                return jobs::enqueue(tx, REPLAN, &e.tenant_id, &id, &case, now).await;
            }
            <casewire_tenancy::Tenant as cqrs_es::Aggregate>::TYPE
                if e.event_type == "ReminderPolicySet" =>
            {
                let id = format!("policy@{}", e.tenant_seq);
                let now = casewire_events::utc_now();
                let all = json!({ "case_id": null });
                return jobs::enqueue(tx, REPLAN, &e.tenant_id, &id, &all, now).await;
            }
            _ => return Ok(()),
        }
        match e.decode()? {
            E::AppointmentSet {
                case_id,
                appointment_id,
                appointment,
            } => {
                sqlx::query(
                    "INSERT INTO messaging_appointments (tenant_id, case_id, appointment_id, kind, starts_at, cancelled, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (tenant_id, case_id, appointment_id) DO UPDATE SET \
                     kind = excluded.kind, starts_at = excluded.starts_at, cancelled = 0, updated_at = excluded.updated_at",
                )
                .bind(&e.tenant_id)
                .bind(case_id)
                .bind(appointment_id)
                .bind(appointment.kind.as_str())
                .bind(&appointment.starts_at)
                .bind(&e.recorded_at)
                .execute(&mut **tx)
                .await?;
            }
            E::AppointmentCancelled {
                case_id,
                appointment_id,
            } => {
                sqlx::query("UPDATE messaging_appointments SET cancelled = 1, updated_at = $1 WHERE tenant_id = $2 AND case_id = $3 AND appointment_id = $4")
                    .bind(&e.recorded_at)
                    .bind(&e.tenant_id)
                    .bind(case_id)
                    .bind(appointment_id)
                    .execute(&mut **tx)
                    .await?;
            }
            E::ReminderScheduled { offset, due_at } | E::ReminderRescheduled { offset, due_at } => {
                let row = Row {
                    offset: &offset,
                    due_at: Some(&due_at),
                    sends_at: Some(&due_at),
                    state: "scheduled",
                    ..Row::default()
                };
                Self::upsert(tx, e, row).await?;
                Self::due(tx, e, &offset, &due_at).await?;
            }
            E::ReminderDeferred {
                offset,
                until,
                reason,
            } => {
                let row = Row {
                    offset: &offset,
                    sends_at: Some(&until),
                    state: "deferred",
                    reason: Some(&reason),
                    ..Row::default()
                };
                Self::upsert(tx, e, row).await?;
                Self::due(tx, e, &offset, &until).await?;
            }
            E::ReminderCancelled { offset, reason } => {
                let row = Row {
                    offset: &offset,
                    state: "cancelled",
                    reason: Some(&reason),
                    ..Row::default()
                };
                Self::upsert(tx, e, row).await?;
            }
            E::ReminderSkipped {
                offset,
                due_at,
                reason,
            } => {
                let row = Row {
                    offset: &offset,
                    due_at: Some(&due_at),
                    state: "skipped",
                    reason: Some(&reason),
                    ..Row::default()
                };
                Self::upsert(tx, e, row).await?;
            }
            E::ReminderSent {
                offset, message_id, ..
            } => {
                let row = Row {
                    offset: &offset,
                    state: "sent",
                    message_id: Some(&message_id),
                    ..Row::default()
                };
                Self::upsert(tx, e, row).await?;
            }
        }
        Ok(())
    }
}

/// Runs each reminder when its time comes.
pub struct Scheduler;

async fn record(
    store: &EventStore,
    tenant: &str,
    id: &str,
    cause: Option<&str>,
    command: AppointmentCommand,
) -> Result<(), casewire_bus::CommandError> {
    let metadata = Metadata::system(cause).into_map();
    casewire_bus::record::<AppointmentState>(store, tenant, id, command, metadata)
        .await
        .map(drop)
}

/// Queues a decided reminder text under its own id: asked twice, it is queued once. It is
/// of no use once its appointment has begun.
async fn queue(
    store: &EventStore,
    tenant: &str,
    cause: Option<&str>,
    state: &AppointmentState,
    text: &SentText,
) -> anyhow::Result<()> {
    let case_id = &state.case_id;
    let price = crate::checks::price(store, tenant)
        .await?
        .unwrap_or_default();
    let queue = MessageCommand::Queue(Outbound {
        case_id: Some(case_id.to_string()),
        to: text.to.clone(),
        body: text.body.value().cloned().unwrap_or_default(),
        price,
        purpose: Purpose::Reminder,
        expires_at: state.appointment.as_ref().map(|a| a.starts_at.clone()),
        zone: text.zone.clone(),
        ..Outbound::default()
    });
    let metadata = Metadata::system(cause).into_map();
    match casewire_bus::record::<Message>(store, tenant, &text.message_id, queue, metadata).await {
        Err(e) if e.code == casewire_bus::ErrorCode::Conflict => Ok(()),
        other => other.map(drop).map_err(|e| anyhow::anyhow!(e.message)),
    }
}

impl Scheduler {
    /// What to do with a reminder whose time has come.
    async fn decide(
        &self,
        store: &EventStore,
        tenant: &str,
        state: &AppointmentState,
        due: &Due,
    ) -> anyhow::Result<Decision> {
        let skip = |reason: &str| {
            Ok(Decision::Skip {
                reason: reason.to_string(),
            })
        };
        let Some(appointment) = &state.appointment else {
            return skip("the appointment is not known");
        };
        let Some(case) = case_facts(store, tenant, &state.case_id).await? else {
            return skip("the case is not known");
        };
        if case.reminders_enabled == 0 {
            return skip(crate::appointment::OFF);
        }
        let facts = crate::checks::facts(store, tenant, &case.phone).await?;
        let answer = facts.consent(Purpose::Reminder, &case.phone);
        if !answer.allowed {
            return skip(&answer.reason());
        }
        if let Some(until) = facts.release(Purpose::Reminder, case.time_zone.as_deref()) {
            return Ok(Decision::Defer {
                until: casewire_events::timestamp(until),
                reason: "quiet hours in the client's time zone".into(),
            });
        }
        let body = word(store, tenant, appointment, &case, None, None).await?;
        let message_id = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("{tenant}/{}/{}/{}", due.appointment, due.offset, due.at).as_bytes(),
        );
        Ok(Decision::Send(SentText {
            message_id: message_id.to_string(),
            body: Sealed::new(client_subject(&case.phone), body),
            to: case.phone,
            zone: case.time_zone,
        }))
    }
}

#[async_trait]
impl Worker for Scheduler {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let due: Due = serde_json::from_value(job.payload.clone())?;
        let tenant = job.tenant_id.as_str();
        let (state, _) =
            casewire_bus::load::<AppointmentState>(store, tenant, &due.appointment).await?;
        let Some(reminder) = state.reminders.get(&due.offset) else {
            return Ok(Outcome::Done);
        };
        // A text decided before a crash is queued now, under the same id.
        if let Some(sent) = &reminder.sent {
            queue(store, tenant, due.cause.as_deref(), &state, sent).await?;
        }
        let waiting = matches!(
            reminder.state,
            crate::appointment::ReminderState::Scheduled
                | crate::appointment::ReminderState::Deferred
        );
        if state.cancelled || !waiting || reminder.next_at != due.at {
            return Ok(Outcome::Done);
        }
        let at = DateTime::parse_from_rfc3339(&due.at)?.with_timezone(&Utc);
        if at > casewire_events::utc_now() {
            return Ok(Outcome::RetryAt(at, "not due yet".into()));
        }
        let decision = self.decide(store, tenant, &state, &due).await?;
        let text = match &decision {
            Decision::Send(text) => Some(text.clone()),
            _ => None,
        };
        let fire = AppointmentCommand::Fire {
            offset: due.offset.clone(),
            at: due.at.clone(),
            decision,
        };
        match record(store, tenant, &due.appointment, due.cause.as_deref(), fire).await {
            Ok(()) => {}
            // Another replica decided first, or the appointment moved a moment ago: the
            // job for the new time will run.
            Err(e) if e.code == casewire_bus::ErrorCode::Conflict => return Ok(Outcome::Done),
            Err(e) => anyhow::bail!(e.message),
        }
        if let Some(text) = text {
            queue(store, tenant, due.cause.as_deref(), &state, &text).await?;
        }
        Ok(Outcome::Done)
    }
}

/// Brings every open appointment of a case (or of the tenant) in line with the switch and
/// the policy.
pub struct Replanner;

/// Replans one case's appointments, or every appointment of the tenant.
pub(crate) async fn replan(
    store: &EventStore,
    tenant: &str,
    case_id: Option<&str>,
) -> anyhow::Result<()> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT case_id, appointment_id FROM messaging_appointments \
         WHERE tenant_id = $1 AND ($2 = '' OR case_id = $2) AND cancelled = 0",
    )
    .bind(tenant)
    .bind(case_id.unwrap_or_default())
    .fetch_all(store.db().reader())
    .await?;
    for (case_id, appointment_id) in rows {
        let id = aggregate_id(&case_id, &appointment_id);
        let (state, _) = casewire_bus::load::<AppointmentState>(store, tenant, &id).await?;
        let (Some(appointment), Some(case)) = (
            state.appointment.as_ref(),
            case_facts(store, tenant, &case_id).await?,
        ) else {
            continue;
        };
        let plan = plan(store, tenant, appointment, &case).await?;
        match record(store, tenant, &id, None, AppointmentCommand::Replan(plan)).await {
            Ok(()) => {}
            // Changed under us: the change made its own plan.
            Err(e) if e.code == casewire_bus::ErrorCode::Conflict => {}
            Err(e) => anyhow::bail!(e.message),
        }
    }
    Ok(())
}

#[async_trait]
impl Worker for Replanner {
    fn queue(&self) -> &'static str {
        REPLAN
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let case_id = job.payload["case_id"].as_str();
        replan(store, &job.tenant_id, case_id).await?;
        Ok(Outcome::Done)
    }
}

pub use casewire_contract::messaging::ReminderView;

/// A case's reminders (one appointment's, when named), by appointment and due time.
pub async fn list(
    store: &EventStore,
    tenant: &str,
    case_id: &str,
    appointment_id: Option<&str>,
) -> anyhow::Result<Vec<ReminderView>> {
    Ok(sqlx::query_as(
        "SELECT appointment_id || ':' || offset_iso AS id, appointment_id, offset_iso AS \"offset\", due_at, sends_at, \
         state, reason, message_id, updated_at FROM messaging_reminders \
         WHERE tenant_id = $1 AND case_id = $2 AND ($3 = '' OR appointment_id = $3) ORDER BY appointment_id, due_at",
    )
    .bind(tenant)
    .bind(case_id)
    .bind(appointment_id.unwrap_or_default())
    .fetch_all(store.db().reader())
    .await?)
}
