//! An appointment and its reminders: what the CMS sent, and for each offset of the
//! tenant's policy whether its reminder is scheduled, deferred, sent, skipped or cancelled.
//! Command in, events out; the times come in with the command (computed at the edge from
//! the policy, the zone and the clock), so every rule is tested given/when/then.
//!
//! A case's reminder switch is its own small aggregate ([`CaseReminders`]).

use std::collections::BTreeMap;

use casewire_bus::Refusal;
use casewire_events::appointment::{Appointment, AppointmentEvent, CaseRemindersEvent};
use casewire_events::Sealed;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderState {
    Scheduled,
    Deferred,
    Sent,
    Skipped,
    Cancelled,
}

impl ReminderState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderState::Scheduled => "scheduled",
            ReminderState::Deferred => "deferred",
            ReminderState::Sent => "sent",
            ReminderState::Skipped => "skipped",
            ReminderState::Cancelled => "cancelled",
        }
    }

    fn waiting(self) -> bool {
        matches!(self, ReminderState::Scheduled | ReminderState::Deferred)
    }
}

/// A decided reminder text, kept so that a crash between the decision and the queue is
/// mended by queueing it again under the same message id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentText {
    pub message_id: String,
    pub to: String,
    pub body: Sealed<String>,
    /// The client's own time zone, when their case names one.
    pub zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reminder {
    /// When it is due by the appointment and the offset.
    pub due_at: String,
    pub state: ReminderState,
    /// When its job runs: the due time, or the end of quiet hours once deferred.
    pub next_at: String,
    pub reason: Option<String>,
    pub sent: Option<SentText>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct AppointmentState {
    pub case_id: String,
    pub appointment_id: String,
    pub appointment: Option<Appointment>,
    pub cancelled: bool,
    pub reminders: BTreeMap<String, Reminder>,
}

/// Where each offset's reminder falls, computed at the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// (offset, due_at RFC 3339 UTC), in the policy's order.
    pub due: Vec<(String, String)>,
    /// The case's reminder switch.
    pub enabled: bool,
    pub now: String,
}

/// What the scheduler decided when a reminder's time came.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Send(SentText),
    Defer { until: String, reason: String },
    Skip { reason: String },
}

#[derive(Clone, Debug)]
pub enum AppointmentCommand {
    Set {
        case_id: String,
        appointment_id: String,
        appointment: Appointment,
        plan: Plan,
    },
    /// The tenant's policy or the case's switch changed.
    Replan(Plan),
    Cancel,
    /// The job for `offset` at `at` ran.
    Fire {
        offset: String,
        at: String,
        decision: Decision,
    },
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppointmentError {
    #[error("no such appointment")]
    NoSuchAppointment,
    /// The job is for a time the reminder no longer has: it moved, went or was cancelled.
    #[error("this reminder is no longer due then")]
    Stale,
}

impl Refusal for AppointmentError {
    fn code(&self) -> casewire_bus::ErrorCode {
        match self {
            AppointmentError::NoSuchAppointment => casewire_bus::ErrorCode::NotFound,
            AppointmentError::Stale => casewire_bus::ErrorCode::Conflict,
        }
    }
}

pub const PASSED: &str = "its time had passed when the appointment arrived";
pub const OFF: &str = "reminders are turned off for this case";
pub const LEFT_POLICY: &str = "its offset is no longer in the tenant's reminder policy";
pub const CANCELLED: &str = "the appointment was cancelled";

impl AppointmentState {
    /// The events that bring each reminder in line with `plan`.
    fn plan(&self, plan: &Plan) -> Vec<AppointmentEvent> {
        use AppointmentEvent as E;
        let mut events = Vec::new();
        for (offset, due_at) in &plan.due {
            let current = self.reminders.get(offset);
            let offset = offset.clone();
            let due_at = due_at.clone();
            if !plan.enabled {
                if current.is_some_and(|r| r.state.waiting()) {
                    events.push(E::ReminderCancelled {
                        offset,
                        reason: OFF.into(),
                    });
                }
                continue;
            }
            // Timestamps are RFC 3339 UTC with microseconds: they compare as text.
            let passed = due_at <= plan.now;
            match current {
                Some(r) if r.due_at == due_at && r.state != ReminderState::Cancelled => {}
                Some(r) if passed && !r.state.waiting() && r.due_at == due_at => {}
                _ if passed => events.push(E::ReminderSkipped {
                    offset,
                    due_at,
                    reason: PASSED.into(),
                }),
                Some(r) if r.state.waiting() => {
                    events.push(E::ReminderRescheduled { offset, due_at })
                }
                _ => events.push(E::ReminderScheduled { offset, due_at }),
            }
        }
        for (offset, r) in &self.reminders {
            if r.state.waiting() && !plan.due.iter().any(|(o, _)| o == offset) {
                events.push(E::ReminderCancelled {
                    offset: offset.clone(),
                    reason: LEFT_POLICY.into(),
                });
            }
        }
        events
    }
}

impl Aggregate for AppointmentState {
    const TYPE: &'static str = casewire_events::appointment::AGGREGATE;
    type Command = AppointmentCommand;
    type Event = AppointmentEvent;
    type Error = AppointmentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: AppointmentCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), AppointmentError> {
        use AppointmentEvent as E;
        let events = match command {
            AppointmentCommand::Set {
                case_id,
                appointment_id,
                appointment,
                plan,
            } => {
                let mut events = Vec::new();
                if self.cancelled || self.appointment.as_ref() != Some(&appointment) {
                    events.push(E::AppointmentSet {
                        case_id,
                        appointment_id,
                        appointment,
                    });
                }
                // A reinstated appointment starts from scratch: its cancelled reminders
                // are planned again.
                events.extend(self.plan(&plan));
                events
            }
            AppointmentCommand::Replan(plan) => {
                if self.appointment.is_none() || self.cancelled {
                    return Ok(());
                }
                self.plan(&plan)
            }
            AppointmentCommand::Cancel => {
                if self.appointment.is_none() {
                    return Err(AppointmentError::NoSuchAppointment);
                }
                if self.cancelled {
                    return Ok(());
                }
                let mut events = vec![E::AppointmentCancelled {
                    case_id: self.case_id.clone(),
                    appointment_id: self.appointment_id.clone(),
                }];
                for (offset, r) in &self.reminders {
                    if r.state.waiting() {
                        events.push(E::ReminderCancelled {
                            offset: offset.clone(),
                            reason: CANCELLED.into(),
                        });
                    }
                }
                events
            }
            AppointmentCommand::Fire {
                offset,
                at,
                decision,
            } => {
                let Some(r) = self.reminders.get(&offset) else {
                    return Err(AppointmentError::Stale);
                };
                if self.cancelled || !r.state.waiting() || r.next_at != at {
                    return Err(AppointmentError::Stale);
                }
                vec![match decision {
                    Decision::Send(SentText {
                        message_id,
                        to,
                        body,
                        zone,
                    }) => E::ReminderSent {
                        offset,
                        message_id,
                        to,
                        body,
                        zone,
                    },
                    Decision::Defer { until, reason } => E::ReminderDeferred {
                        offset,
                        until,
                        reason,
                    },
                    Decision::Skip { reason } => E::ReminderSkipped {
                        offset,
                        due_at: r.due_at.clone(),
                        reason,
                    },
                }]
            }
        };
        for e in events {
            sink.write(e, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: AppointmentEvent) {
        use AppointmentEvent as E;
        let set = |r: &mut BTreeMap<String, Reminder>, offset: String, due_at: String| {
            let sent = r.get(&offset).and_then(|x| x.sent.clone());
            r.insert(
                offset,
                Reminder {
                    next_at: due_at.clone(),
                    due_at,
                    state: ReminderState::Scheduled,
                    reason: None,
                    sent,
                },
            );
        };
        match event {
            E::AppointmentSet {
                case_id,
                appointment_id,
                appointment,
            } => {
                self.case_id = case_id;
                self.appointment_id = appointment_id;
                self.appointment = Some(appointment);
                self.cancelled = false;
            }
            E::AppointmentCancelled { .. } => self.cancelled = true,
            E::ReminderScheduled { offset, due_at } | E::ReminderRescheduled { offset, due_at } => {
                set(&mut self.reminders, offset, due_at)
            }
            E::ReminderCancelled { offset, reason } => {
                if let Some(r) = self.reminders.get_mut(&offset) {
                    r.state = ReminderState::Cancelled;
                    r.reason = Some(reason);
                }
            }
            E::ReminderSkipped {
                offset,
                due_at,
                reason,
            } => {
                let r = self.reminders.entry(offset).or_insert_with(|| Reminder {
                    due_at: due_at.clone(),
                    state: ReminderState::Skipped,
                    next_at: due_at.clone(),
                    reason: None,
                    sent: None,
                });
                r.due_at = due_at.clone();
                r.next_at = due_at;
                r.state = ReminderState::Skipped;
                r.reason = Some(reason);
            }
            E::ReminderDeferred {
                offset,
                until,
                reason,
            } => {
                if let Some(r) = self.reminders.get_mut(&offset) {
                    r.state = ReminderState::Deferred;
                    r.next_at = until;
                    r.reason = Some(reason);
                }
            }
            E::ReminderSent {
                offset,
                message_id,
                to,
                body,
                zone,
            } => {
                if let Some(r) = self.reminders.get_mut(&offset) {
                    r.state = ReminderState::Sent;
                    r.reason = None;
                    r.sent = Some(SentText {
                        message_id,
                        to,
                        body,
                        zone,
                    });
                }
            }
        }
    }
}

/// A case's reminder switch: on until an advocate turns it off.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CaseReminders {
    off: bool,
}

impl CaseReminders {
    pub fn enabled(&self) -> bool {
        !self.off
    }
}

#[derive(Clone, Debug)]
pub struct Switch {
    pub enabled: bool,
}

impl Aggregate for CaseReminders {
    const TYPE: &'static str = casewire_events::appointment::SWITCH_AGGREGATE;
    type Command = Switch;
    type Event = CaseRemindersEvent;
    type Error = AppointmentError;
    type Services = ();

    async fn handle(
        &mut self,
        Switch { enabled }: Switch,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), AppointmentError> {
        if enabled == self.enabled() {
            return Ok(());
        }
        sink.write(CaseRemindersEvent::RemindersSwitched { enabled }, self)
            .await;
        Ok(())
    }

    fn apply(&mut self, CaseRemindersEvent::RemindersSwitched { enabled }: CaseRemindersEvent) {
        self.off = !enabled;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use casewire_events::appointment::AppointmentKind;
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<AppointmentState>;
    const NOW: &str = "2026-12-01T15:00:00.000000Z";

    fn hearing(starts_at: &str) -> Appointment {
        Appointment {
            kind: AppointmentKind::CourtDate,
            starts_at: starts_at.into(),
            time_zone: None,
            location: None,
            note_for_client: None,
        }
    }

    fn plan(due: &[(&str, &str)]) -> Plan {
        Plan {
            due: due
                .iter()
                .map(|(o, d)| (o.to_string(), d.to_string()))
                .collect(),
            enabled: true,
            now: NOW.into(),
        }
    }

    fn set(starts_at: &str, due: &[(&str, &str)]) -> AppointmentCommand {
        AppointmentCommand::Set {
            case_id: "C-1".into(),
            appointment_id: "A-1".into(),
            appointment: hearing(starts_at),
            plan: plan(due),
        }
    }

    fn was_set(starts_at: &str) -> AppointmentEvent {
        AppointmentEvent::AppointmentSet {
            case_id: "C-1".into(),
            appointment_id: "A-1".into(),
            appointment: hearing(starts_at),
        }
    }

    fn scheduled(offset: &str, due_at: &str) -> AppointmentEvent {
        AppointmentEvent::ReminderScheduled {
            offset: offset.into(),
            due_at: due_at.into(),
        }
    }

    const MON: &str = "2026-12-14T15:00:00Z";
    const WEEK_BEFORE: &str = "2026-12-07T15:00:00.000000Z";
    const DAY_BEFORE: &str = "2026-12-13T15:00:00.000000Z";

    #[test]
    fn an_appointment_schedules_each_offset_and_skips_one_already_past() {
        Given::with(())
            .given_no_previous_events()
            .when(set(MON, &[("P7D", WEEK_BEFORE), ("P1D", DAY_BEFORE)]))
            .then_expect_events(vec![
                was_set(MON),
                scheduled("P7D", WEEK_BEFORE),
                scheduled("P1D", DAY_BEFORE),
            ]);
        // Arriving on Dec 3 for Dec 4: the week-before reminder's time has passed.
        Given::with(())
            .given_no_previous_events()
            .when(set(
                "2026-12-04T15:00:00Z",
                &[
                    ("P7D", "2026-11-27T15:00:00.000000Z"),
                    ("P1D", "2026-12-03T15:00:00.000000Z"),
                ],
            ))
            .then_expect_events(vec![
                was_set("2026-12-04T15:00:00Z"),
                AppointmentEvent::ReminderSkipped {
                    offset: "P7D".into(),
                    due_at: "2026-11-27T15:00:00.000000Z".into(),
                    reason: PASSED.into(),
                },
                scheduled("P1D", "2026-12-03T15:00:00.000000Z"),
            ]);
    }

    #[test]
    fn the_same_appointment_again_changes_nothing_and_a_move_reschedules() {
        let given = vec![
            was_set(MON),
            scheduled("P7D", WEEK_BEFORE),
            scheduled("P1D", DAY_BEFORE),
        ];
        Given::with(())
            .given(given.clone())
            .when(set(MON, &[("P7D", WEEK_BEFORE), ("P1D", DAY_BEFORE)]))
            .then_expect_events(vec![]);
        Given::with(())
            .given(given)
            .when(set(
                "2026-12-15T15:00:00Z",
                &[
                    ("P7D", "2026-12-08T15:00:00.000000Z"),
                    ("P1D", "2026-12-14T15:00:00.000000Z"),
                ],
            ))
            .then_expect_events(vec![
                was_set("2026-12-15T15:00:00Z"),
                AppointmentEvent::ReminderRescheduled {
                    offset: "P7D".into(),
                    due_at: "2026-12-08T15:00:00.000000Z".into(),
                },
                AppointmentEvent::ReminderRescheduled {
                    offset: "P1D".into(),
                    due_at: "2026-12-14T15:00:00.000000Z".into(),
                },
            ]);
    }

    #[test]
    fn a_sent_reminder_is_sent_again_only_for_a_new_date() {
        let sent = AppointmentEvent::ReminderSent {
            offset: "P7D".into(),
            message_id: "m1".into(),
            to: "+13125550100".into(),
            body: Sealed::new("client:+13125550100", "see you".to_string()),
            zone: None,
        };
        let given = vec![
            was_set(MON),
            scheduled("P7D", WEEK_BEFORE),
            scheduled("P1D", DAY_BEFORE),
            sent,
        ];
        let later = |now: &str| {
            AppointmentCommand::Replan(Plan {
                now: now.into(),
                ..plan(&[("P7D", WEEK_BEFORE), ("P1D", DAY_BEFORE)])
            })
        };
        Given::with(())
            .given(given.clone())
            .when(later("2026-12-08T00:00:00.000000Z"))
            .then_expect_events(vec![]);
        Given::with(())
            .given(given)
            .when(set(
                "2026-12-21T15:00:00Z",
                &[
                    ("P7D", "2026-12-14T15:00:00.000000Z"),
                    ("P1D", "2026-12-20T15:00:00.000000Z"),
                ],
            ))
            .then_expect_events(vec![
                was_set("2026-12-21T15:00:00Z"),
                scheduled("P7D", "2026-12-14T15:00:00.000000Z"),
                AppointmentEvent::ReminderRescheduled {
                    offset: "P1D".into(),
                    due_at: "2026-12-20T15:00:00.000000Z".into(),
                },
            ]);
    }

    #[test]
    fn cancelling_turning_off_and_a_policy_without_the_offset_cancel_waiting_reminders() {
        let given = vec![
            was_set(MON),
            scheduled("P7D", WEEK_BEFORE),
            scheduled("P1D", DAY_BEFORE),
        ];
        let cancelled = |offset: &str, reason: &str| AppointmentEvent::ReminderCancelled {
            offset: offset.into(),
            reason: reason.into(),
        };
        Given::with(())
            .given(given.clone())
            .when(AppointmentCommand::Cancel)
            .then_expect_events(vec![
                AppointmentEvent::AppointmentCancelled {
                    case_id: "C-1".into(),
                    appointment_id: "A-1".into(),
                },
                cancelled("P1D", CANCELLED),
                cancelled("P7D", CANCELLED),
            ]);
        Given::with(())
            .given(given.clone())
            .when(AppointmentCommand::Replan(Plan {
                enabled: false,
                ..plan(&[("P7D", WEEK_BEFORE), ("P1D", DAY_BEFORE)])
            }))
            .then_expect_events(vec![cancelled("P7D", OFF), cancelled("P1D", OFF)]);
        Given::with(())
            .given(given)
            .when(AppointmentCommand::Replan(plan(&[("P1D", DAY_BEFORE)])))
            .then_expect_events(vec![cancelled("P7D", LEFT_POLICY)]);
        Given::with(())
            .given_no_previous_events()
            .when(AppointmentCommand::Cancel)
            .then_expect_error(AppointmentError::NoSuchAppointment);
    }

    #[test]
    fn a_fired_job_counts_only_for_the_time_the_reminder_still_has() {
        let given = vec![was_set(MON), scheduled("P1D", DAY_BEFORE)];
        let fire = |at: &str, decision| AppointmentCommand::Fire {
            offset: "P1D".into(),
            at: at.into(),
            decision,
        };
        let until = "2026-12-13T14:00:00.000000Z";
        let defer = || Decision::Defer {
            until: until.into(),
            reason: "quiet hours".into(),
        };
        Given::with(())
            .given(given.clone())
            .when(fire(WEEK_BEFORE, defer()))
            .then_expect_error(AppointmentError::Stale);
        let deferred = AppointmentEvent::ReminderDeferred {
            offset: "P1D".into(),
            until: until.into(),
            reason: "quiet hours".into(),
        };
        Given::with(())
            .given(given.clone())
            .when(fire(DAY_BEFORE, defer()))
            .then_expect_events(vec![deferred.clone()]);
        // Once deferred, only the job at the end of quiet hours counts.
        let text = SentText {
            message_id: "m1".into(),
            to: "+13125550100".into(),
            body: Sealed::new("client:+13125550100", "see you".to_string()),
            zone: None,
        };
        let mut after = given.clone();
        after.push(deferred);
        Given::with(())
            .given(after.clone())
            .when(fire(DAY_BEFORE, Decision::Send(text.clone())))
            .then_expect_error(AppointmentError::Stale);
        Given::with(())
            .given(after.clone())
            .when(fire(until, Decision::Send(text.clone())))
            .then_expect_events(vec![AppointmentEvent::ReminderSent {
                offset: "P1D".into(),
                message_id: "m1".into(),
                to: "+13125550100".into(),
                body: text.body.clone(),
                zone: None,
            }]);
        after.push(AppointmentEvent::ReminderSent {
            offset: "P1D".into(),
            message_id: "m1".into(),
            to: "+13125550100".into(),
            body: text.body.clone(),
            zone: None,
        });
        Given::with(())
            .given(after)
            .when(fire(until, Decision::Send(text)))
            .then_expect_error(AppointmentError::Stale);
    }
}
