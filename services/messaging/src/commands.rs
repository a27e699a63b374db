//! The commands messaging answers over the bus: one function per command of
//! `casewire_contract::messaging`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::checks::Facts;
use casewire_bus::{CommandError, Envelope, ErrorCode, Handlers, Reader};
use casewire_contract::campaigns::{
    CampaignStep, CampaignView, CreateSurveyRule, DeleteSurveyRule, DraftCampaign, StepCampaign,
    SurveyRuleView,
};
use casewire_contract::messaging::{
    AppointmentInput, AppointmentSet, CancelAppointment, MessageView, PreviewReminder,
    PutAppointment, Receive, ReminderPreview, RemindersSet, Reply, ReportStatus, Send,
    SetReminders, SERVICE,
};
use casewire_contract::Done;
use casewire_events::appointment::Appointment;
use casewire_events::campaign::FROZEN_PER_EVENT;
use casewire_events::message::{client_subject, Attachment, Purpose};
use casewire_events::Sealed;
use casewire_eventstore::EventStore;

use crate::appointment::{AppointmentCommand, AppointmentState, CaseReminders, Switch};
use crate::campaign::{Campaign, CampaignCommand, Launcher};
use crate::message::{Message, MessageCommand, Outbound, Price};
use crate::reminders::{CaseFacts, ReminderView};
use crate::rules::{Rule, RuleCommand};
use crate::MessagingSettings;

pub struct Commands {
    pub(crate) store: EventStore,
    pub(crate) reader: Reader,
    pub(crate) settings: Arc<MessagingSettings>,
}

/// Every command messaging answers, each to its function below.
pub(crate) fn handlers(commands: Commands) -> Handlers<Commands> {
    Handlers::new(SERVICE, commands)
        .on::<Send, _, _>(Commands::send)
        .on::<Reply, _, _>(Commands::reply)
        .on::<Receive, _, _>(Commands::receive)
        .on::<ReportStatus, _, _>(Commands::report_status)
        .on::<PutAppointment, _, _>(Commands::put_appointment)
        .on::<CancelAppointment, _, _>(Commands::cancel_appointment)
        .on::<SetReminders, _, _>(Commands::set_reminders)
        .on::<PreviewReminder, _, _>(Commands::preview_reminder)
        .on::<DraftCampaign, _, _>(Commands::draft_campaign)
        .on::<StepCampaign, _, _>(Commands::step_campaign)
        .on::<CreateSurveyRule, _, _>(Commands::create_survey_rule)
        .on::<DeleteSurveyRule, _, _>(Commands::delete_survey_rule)
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

/// The appointment as recorded: its time checked, the client's details sealed.
fn validate(input: AppointmentInput, phone: &str) -> Result<Appointment, CommandError> {
    chrono::DateTime::parse_from_rfc3339(&input.starts_at).map_err(|_| {
        CommandError::invalid(format!(
            "starts_at: {:?} is not an RFC 3339 time with its offset, such as 2026-12-14T09:00:00-06:00",
            input.starts_at
        ))
    })?;
    let time_zone = match input.time_zone.as_deref().map(str::trim) {
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
        kind: input.kind,
        starts_at: input.starts_at,
        time_zone,
        location: optional_text("location", input.location, 200)?.map(seal),
        note_for_client: optional_text("note_for_client", input.note_for_client, 300)?.map(seal),
    })
}

impl Commands {
    /// Checks consent before every text. A text consent refuses is recorded as refused and
    /// answered 409 with the reason.
    async fn consented(
        &self,
        tenant: &str,
        metadata: &HashMap<String, String>,
        facts: &Facts,
        case_id: &str,
        phone: &str,
        purpose: Purpose,
    ) -> Result<(), CommandError> {
        let answer = facts.consent(purpose, phone);
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
        casewire_bus::record::<Message>(&self.store, tenant, &id, refuse, metadata.clone()).await?;
        Err(CommandError::conflict(format!(
            "{reason}; nothing was sent (refusal {id} is on the record)"
        )))
    }

    /// The tenant's prices, refused when it cannot text at all.
    async fn price(&self, tenant: &str) -> Result<Price, CommandError> {
        let price = crate::checks::price(&self.store, tenant)
            .await
            .map_err(CommandError::internal)?;
        self.priced(tenant, price)
    }

    /// The outbound text `id` names, if a send already queued it.
    async fn already_sent(
        &self,
        tenant: &str,
        id: Option<&str>,
    ) -> Result<Option<MessageView>, CommandError> {
        let Some(id) = id else {
            return Ok(None);
        };
        let found = crate::messages::find(&self.store, tenant, id)
            .await
            .map_err(CommandError::internal)?;
        Ok(found.filter(|m| m.direction == "outbound"))
    }

    /// The tenant's prices as its facts have them: the sandbox's where casewire runs in
    /// sandbox mode and the tenant set none, else refused.
    fn priced(&self, tenant: &str, price: Option<Price>) -> Result<Price, CommandError> {
        match price {
            Some(p) => Ok(p),
            None if self.settings.sandbox_by_default => Ok(Price::default()),
            None => Err(CommandError::conflict(format!(
                "the organization has no SMS provider yet: an admin sets one with PUT /v1/tenants/{tenant}/sms-provider"
            ))),
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
    ) -> Result<Vec<ReminderView>, CommandError> {
        crate::reminders::list(&self.store, tenant, case_id, appointment_id)
            .await
            .map_err(CommandError::internal)
    }

    async fn view(&self, tenant: &str, id: &str) -> Result<MessageView, CommandError> {
        crate::messages::find(&self.store, tenant, id)
            .await
            .map_err(CommandError::internal)?
            .ok_or_else(|| CommandError::not_found("no such message"))
    }

    async fn send(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<Send>,
    ) -> Result<MessageView, CommandError> {
        let store = &self.store;
        if body.purpose == Purpose::System {
            return Err(CommandError::invalid(
                "purpose must be conversation, reminder or bulk",
            ));
        }
        // A retry of a send that queued its text (its answer lost on the way): the same id
        // answers the same text, and nothing more is sent.
        if let Some(first) = self.already_sent(&tenant, body.id.as_deref()).await? {
            return Ok(first);
        }
        // The case may have been linked a moment ago: read it as the log has it.
        casewire_bus::caught_up(&self.reader, &tenant).await?;
        let (to, zone, facts) = crate::checks::facts_for_case(store, &tenant, &body.case_id)
            .await
            .map_err(CommandError::internal)?
            .ok_or_else(|| {
                CommandError::not_found("no such case: link it first with PUT /v1/cases/{case_id}")
            })?;
        self.consented(&tenant, &metadata, &facts, &body.case_id, &to, body.purpose)
            .await?;
        let price = self.priced(&tenant, facts.price())?;
        let deliver_after = facts
            .release(body.purpose, zone.as_deref())
            .map(casewire_events::timestamp);
        let attachments = self.attachments(&tenant, &facts, &body, &to).await?;
        let id = (body.id.clone()).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let queue = MessageCommand::Queue(Outbound {
            case_id: Some(body.case_id),
            to,
            body: body.body,
            price,
            purpose: body.purpose,
            deliver_after,
            zone,
            attachments,
            ..Outbound::default()
        });
        // A new message: nothing to read first (a retry racing its first request loses the
        // append and answers the first one's text). Its row and its outbox job are written
        // with the append (inline): nothing to wait for.
        let new = &mut (Message::default(), 0);
        let recorded =
            match casewire_bus::record_on::<Message>(store, &tenant, &id, new, queue, metadata)
                .await
            {
                Ok(recorded) => recorded,
                Err(e) => match self.already_sent(&tenant, body.id.as_deref()).await? {
                    Some(first) => return Ok(first),
                    None => return Err(e),
                },
            };
        // The answer comes from the event and the aggregate: there is no row to read back.
        let queued =
            (recorded.first()).ok_or_else(|| CommandError::internal("nothing recorded"))?;
        crate::messages::queued(queued, new.0.body.clone()).map_err(CommandError::internal)
    }

    /// The uploads a text names, for its client, not sent yet; and a way for Twilio to
    /// fetch them.
    async fn attachments(
        &self,
        tenant: &str,
        facts: &Facts,
        body: &Send,
        to: &str,
    ) -> Result<Vec<Attachment>, CommandError> {
        if body.attachments.is_empty() {
            return Ok(Vec::new());
        }
        let twilio = facts
            .provider
            .as_ref()
            .is_some_and(|p| matches!(p.provider, casewire_tenancy::SmsProvider::Twilio { .. }));
        if twilio && self.settings.public_url.is_none() {
            return Err(CommandError::conflict(
                "attachments need a public URL for Twilio to fetch them from: the operator sets CASEWIRE_PUBLIC_URL",
            ));
        }
        crate::attachments::unsent(&self.store, tenant, &body.case_id, to, &body.attachments)
            .await
            .map_err(CommandError::internal)?
            .map_err(CommandError::invalid)
    }

    async fn reply(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<Reply>,
    ) -> Result<MessageView, CommandError> {
        let queue = MessageCommand::Queue(Outbound {
            to: body.to,
            body: body.body,
            price: self.price(&tenant).await?,
            purpose: Purpose::System,
            in_reply_to: body.in_reply_to,
            ..Outbound::default()
        });
        match casewire_bus::record::<Message>(&self.store, &tenant, &body.id, queue, metadata).await
        {
            // Asked again after a crash: it is already queued, once.
            Err(e) if e.code == ErrorCode::Conflict => {}
            other => drop(other?),
        }
        self.view(&tenant, &body.id).await
    }

    async fn receive(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<Receive>,
    ) -> Result<MessageView, CommandError> {
        let from = casewire_sms::phone::normalize(&body.from)
            .map_err(|e| CommandError::invalid(format!("From: {e}")))?;
        let receive = MessageCommand::Receive {
            from,
            to: body.to,
            body: body.body,
            provider_sid: body.provider_sid.clone(),
            opt_out_type: body.opt_out_type,
            media: body.media,
        };
        casewire_bus::record::<Message>(
            &self.store,
            &tenant,
            &body.provider_sid,
            receive,
            metadata,
        )
        .await?;
        self.view(&tenant, &body.provider_sid).await
    }

    async fn report_status(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<ReportStatus>,
    ) -> Result<Done, CommandError> {
        // The dispatcher may append the text's `Accepted` at the very moment this lands:
        // `record` decides it again on what is then recorded (Twilio does not call a status
        // callback again, so a conflict answered to it would lose the status).
        let report = MessageCommand::ReportStatus {
            status: body.status,
            error_code: body.error_code,
            provider_sid: body.provider_sid,
        };
        let id = &body.message_id;
        casewire_bus::record::<Message>(&self.store, &tenant, id, report, metadata).await?;
        Ok(Done {})
    }

    async fn put_appointment(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<PutAppointment>,
    ) -> Result<AppointmentSet, CommandError> {
        let store = &self.store;
        let case = self.case(&tenant, &body.case_id).await?;
        let appointment = validate(body.appointment, &case.phone)?;
        let plan = crate::reminders::plan(store, &tenant, &appointment, &case)
            .await
            .map_err(CommandError::internal)?;
        let id = crate::reminders::aggregate_id(&body.case_id, &body.appointment_id);
        let mut loaded = casewire_bus::load::<AppointmentState>(store, &tenant, &id)
            .await
            .map_err(CommandError::internal)?;
        let created = loaded.0.appointment.is_none() || loaded.0.cancelled;
        let set = AppointmentCommand::Set {
            case_id: body.case_id.clone(),
            appointment_id: body.appointment_id.clone(),
            appointment,
            plan,
        };
        // Its rows and jobs are written with the append (inline): nothing to wait for.
        casewire_bus::record_on(store, &tenant, &id, &mut loaded, set, metadata).await?;
        Ok(AppointmentSet {
            created,
            reminders: self
                .reminders(&tenant, &body.case_id, Some(&body.appointment_id))
                .await?,
        })
    }

    async fn cancel_appointment(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<CancelAppointment>,
    ) -> Result<Done, CommandError> {
        let id = crate::reminders::aggregate_id(&body.case_id, &body.appointment_id);
        let cancel = AppointmentCommand::Cancel;
        casewire_bus::record::<AppointmentState>(&self.store, &tenant, &id, cancel, metadata)
            .await?;
        Ok(Done {})
    }

    async fn set_reminders(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<SetReminders>,
    ) -> Result<RemindersSet, CommandError> {
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
        crate::reminders::replan(&self.store, &tenant, Some(&body.case_id))
            .await
            .map_err(CommandError::internal)?;
        casewire_bus::caught_up(&self.reader, &tenant).await?;
        Ok(RemindersSet {
            enabled: body.enabled,
            reminders: self.reminders(&tenant, &body.case_id, None).await?,
        })
    }

    async fn draft_campaign(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<DraftCampaign>,
    ) -> Result<CampaignView, CommandError> {
        let draft = CampaignCommand::Draft {
            plan: Box::new(body.plan),
            by: metadata.get("actor").cloned(),
        };
        casewire_bus::record::<Campaign>(&self.store, &tenant, &body.id, draft, metadata).await?;
        self.campaign(&tenant, &body.id).await
    }

    /// Launches, pauses, resumes or cancels a campaign. A launch freezes the audience its
    /// filter picks now, from messaging's read models caught up with the log.
    async fn step_campaign(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<StepCampaign>,
    ) -> Result<CampaignView, CommandError> {
        let command = match body.step {
            CampaignStep::Launch => {
                let launcher = Launcher {
                    by: metadata.get("actor").cloned(),
                    admin: body.admin,
                    approvals_required: crate::policies()
                        .get(&self.store, &tenant)
                        .await
                        .map_err(CommandError::internal)?
                        .unwrap_or_default()
                        .approvals_required,
                };
                self.launch(&tenant, &body.id, launcher, metadata).await?;
                return self.campaign(&tenant, &body.id).await;
            }
            CampaignStep::Approve => CampaignCommand::Approve {
                by: metadata
                    .get("actor")
                    .cloned()
                    .ok_or_else(|| CommandError::invalid("an approval names its admin"))?,
            },
            CampaignStep::Pause => CampaignCommand::Pause,
            CampaignStep::Resume => CampaignCommand::Resume,
            CampaignStep::Cancel => CampaignCommand::Cancel,
        };
        casewire_bus::record::<Campaign>(&self.store, &tenant, &body.id, command, metadata).await?;
        self.campaign(&tenant, &body.id).await
    }

    /// Freezes the audience the campaign's filter picks now, from messaging's read models
    /// caught up with the log, a chunk per append, then launches it. Its memory is a chunk,
    /// whatever the audience. A launch that stopped half-way left a draft with some of its
    /// audience frozen: launching it again picks again, leaves out the numbers frozen
    /// already, and goes on after them.
    async fn launch(
        &self,
        tenant: &str,
        id: &str,
        launcher: Launcher,
        metadata: HashMap<String, String>,
    ) -> Result<(), CommandError> {
        let found = crate::campaigns::find(&self.store, tenant, id)
            .await
            .map_err(CommandError::internal)?
            .ok_or_else(|| CommandError::not_found("no such campaign"))?;
        casewire_bus::caught_up(&self.reader, tenant).await?;
        let mut campaign = casewire_bus::load::<Campaign>(&self.store, tenant, id)
            .await
            .map_err(CommandError::internal)?;
        // The first round freezes nothing: the aggregate is asked first, so that a launch
        // it refuses (its state, four eyes) reads no audience.
        let mut recipients = Vec::new();
        let mut reading = None;
        let excluded = loop {
            let freeze = CampaignCommand::Freeze {
                first: campaign.0.recipients(),
                recipients,
                launch: launcher.clone(),
            };
            casewire_bus::record_on(
                &self.store,
                tenant,
                id,
                &mut campaign,
                freeze,
                metadata.clone(),
            )
            .await?;
            let reading = match &mut reading {
                Some(reading) => reading,
                None => {
                    let frozen = crate::campaigns::frozen_phones(&self.store, tenant, id)
                        .await
                        .map_err(CommandError::internal)?;
                    let since = crate::sending::texted_since(&found.plan)
                        .map_err(CommandError::internal)?;
                    let opened = crate::audience::Reading::open(
                        &self.store,
                        tenant,
                        &found.plan.filter,
                        since,
                        frozen,
                    )
                    .await
                    .map_err(CommandError::internal)?;
                    reading.insert(opened)
                }
            };
            recipients = reading
                .next(FROZEN_PER_EVENT)
                .await
                .map_err(CommandError::internal)?;
            if recipients.is_empty() {
                break reading.excluded();
            }
        };
        let launch = CampaignCommand::Launch {
            excluded,
            launch: launcher,
        };
        casewire_bus::record_on(&self.store, tenant, id, &mut campaign, launch, metadata).await?;
        Ok(())
    }

    /// Records the rule, then opens its campaign (under an id made from the rule's, so the
    /// worker opens the same one if this stops between the two).
    async fn create_survey_rule(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<CreateSurveyRule>,
    ) -> Result<SurveyRuleView, CommandError> {
        let policy = crate::policies()
            .get(&self.store, &tenant)
            .await
            .map_err(CommandError::internal)?
            .unwrap_or_default();
        // A rule's survey goes out with nobody's launch: where every launch needs a second
        // admin's approval, rules would go around it.
        if policy.approvals_required > 0 {
            return Err(CommandError::new(
                ErrorCode::Conflict,
                "the organization asks admins to approve each campaign's launch, and a rule's survey goes out on its own: set approvals_required to 0 to make survey rules",
            ));
        }
        let campaign = crate::rules::campaign_id(&tenant, &body.id);
        let plan = Box::new(body.rule.plan());
        let create = RuleCommand::Create {
            rule: Box::new(body.rule),
            campaign: campaign.clone(),
        };
        casewire_bus::record::<Rule>(&self.store, &tenant, &body.id, create, metadata.clone())
            .await?;
        let open = CampaignCommand::Open {
            plan,
            rule: body.id.clone(),
        };
        casewire_bus::record::<Campaign>(&self.store, &tenant, &campaign, open, metadata).await?;
        self.survey_rule(&tenant, &body.id).await
    }

    /// Deletes the rule, then cancels its campaign: texts already sent stay, with their
    /// answers.
    async fn delete_survey_rule(
        self: Arc<Self>,
        Envelope {
            tenant,
            metadata,
            body,
        }: Envelope<DeleteSurveyRule>,
    ) -> Result<SurveyRuleView, CommandError> {
        let view = self.survey_rule(&tenant, &body.id).await?;
        casewire_bus::record::<Rule>(
            &self.store,
            &tenant,
            &body.id,
            RuleCommand::Delete,
            metadata.clone(),
        )
        .await?;
        match casewire_bus::record::<Campaign>(
            &self.store,
            &tenant,
            &view.campaign_id,
            CampaignCommand::Cancel,
            metadata,
        )
        .await
        {
            Ok(_) => {}
            // Never opened, or cancelled already.
            Err(e) if matches!(e.code, ErrorCode::NotFound | ErrorCode::Conflict) => {}
            Err(e) => return Err(e),
        }
        Ok(view)
    }

    async fn survey_rule(&self, tenant: &str, id: &str) -> Result<SurveyRuleView, CommandError> {
        crate::rules::find(&self.store, tenant, id)
            .await
            .map_err(CommandError::internal)?
            .filter(|r| r.deleted_at.is_none())
            .map(crate::rules::RuleRow::view)
            .ok_or_else(|| CommandError::not_found("no such survey rule"))
    }

    async fn campaign(&self, tenant: &str, id: &str) -> Result<CampaignView, CommandError> {
        let found = crate::campaigns::find(&self.store, tenant, id)
            .await
            .map_err(CommandError::internal)?
            .ok_or_else(|| CommandError::not_found("no such campaign"))?;
        crate::campaigns::view(&self.store, tenant, found)
            .await
            .map_err(CommandError::internal)
    }

    async fn preview_reminder(
        self: Arc<Self>,
        Envelope { tenant, body, .. }: Envelope<PreviewReminder>,
    ) -> Result<ReminderPreview, CommandError> {
        let case = self.case(&tenant, &body.case_id).await?;
        let appointment = validate(body.appointment, &case.phone)?;
        let language = body.language.as_deref().unwrap_or(&case.language);
        let policy = match &body.template {
            Some(text) => {
                let primary = language.split('-').next().unwrap_or("en");
                let policy = crate::reminders::policy_of(&self.store, &tenant)
                    .await
                    .map_err(CommandError::internal)?;
                let tried = policy.with_wording(appointment.kind, primary, text);
                Some(tried.map_err(CommandError::invalid)?)
            }
            None => None,
        };
        let text = crate::reminders::word(
            &self.store,
            &tenant,
            &appointment,
            &case,
            Some(language),
            policy,
        )
        .await
        .map_err(CommandError::internal)?;
        let count = casewire_sms::segments::count(&text);
        let price = self.price(&tenant).await?;
        Ok(ReminderPreview {
            text,
            segments: count.segments,
            encoding: crate::message::encoding_name(count.encoding).to_string(),
            price_usd: casewire_sms::segments::estimated_price(&count, price.per_segment_micros)
                as f64
                / 1e6,
        })
    }
}
