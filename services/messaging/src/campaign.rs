//! A campaign: a bulk text or a survey to an audience. Drafted with its plan,
//! launched with its audience frozen (who is texted is decided once, at the launch), then
//! sent a recipient at a time by the sender (sending.rs), which may be paused, resumed and
//! cancelled. No I/O here: commands in, events out.

use std::collections::BTreeSet;

use casewire_bus::{ErrorCode, Refusal};
use casewire_events::audience::{Excluded, Recipient};
use casewire_events::campaign::{CampaignEvent, CampaignKind, CampaignPlan, FROZEN_PER_EVENT};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

/// The placeholders a campaign's message may use.
pub const VARIABLES: &[&str] = &["client.first_name", "organization.name"];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    #[default]
    Draft,
    Running,
    Paused,
    Cancelled,
    Completed,
}

impl CampaignState {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignState::Draft => "draft",
            CampaignState::Running => "running",
            CampaignState::Paused => "paused",
            CampaignState::Cancelled => "cancelled",
            CampaignState::Completed => "completed",
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Campaign {
    drafted: bool,
    state: CampaignState,
    recipients: u32,
    /// An outcome-survey rule's campaign: its cases so far, each given one text.
    rule: Option<BTreeSet<String>>,
    drafted_by: Option<String>,
    /// The admins who approved its launch.
    approved_by: BTreeSet<String>,
}

#[derive(Clone, Debug)]
pub enum CampaignCommand {
    /// `by`: the actor drafting it (`api_key:<id>`).
    Draft {
        plan: Box<CampaignPlan>,
        by: Option<String>,
    },
    /// Drafts and launches the campaign of outcome-survey rule `rule`, with nobody yet: its
    /// recipients come as its cases close ([`CampaignCommand::Add`]).
    Open {
        plan: Box<CampaignPlan>,
        rule: String,
    },
    /// One more recipient of a rule's campaign; a case it has already is not texted again.
    Add(Recipient),
    /// Freezes a chunk of the audience a launch picks (audience.rs), after those frozen
    /// already: `first` is the place of its first recipient, so that two launches at once
    /// cannot both freeze.
    Freeze {
        first: u32,
        recipients: Vec<Recipient>,
        launch: Launcher,
    },
    /// Ends a launch: the audience frozen is the campaign's, and sending starts.
    Launch {
        excluded: Excluded,
        launch: Launcher,
    },
    /// An admin approves the launch (`by`, not the one who drafted it).
    Approve {
        by: String,
    },
    Pause,
    Resume,
    Cancel,
    /// These recipients get no text, each for its reason: (place, why).
    Skip(Vec<(u32, String)>),
    /// Every recipient was texted or skipped.
    Complete,
}

/// Who launches a campaign, and what the tenant asks of a launch.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The actor (`api_key:<id>`), and whether they are an admin: an admin's launch
    /// approves it.
    pub by: Option<String>,
    pub admin: bool,
    /// The tenant's `approvals_required` now.
    pub approvals_required: u8,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CampaignError {
    #[error("{0}")]
    Invalid(String),
    #[error("a campaign with this id exists")]
    Exists,
    #[error("no such campaign")]
    Unknown,
    #[error("{0}")]
    Conflict(String),
}

impl Refusal for CampaignError {
    fn code(&self) -> ErrorCode {
        match self {
            CampaignError::Invalid(_) => ErrorCode::Invalid,
            CampaignError::Unknown => ErrorCode::NotFound,
            CampaignError::Exists | CampaignError::Conflict(_) => ErrorCode::Conflict,
        }
    }
}

/// What is wrong with a plan, in words for the API's 422.
pub fn check(plan: &CampaignPlan) -> Result<(), String> {
    let name = plan.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err("name: 1 to 200 characters on one line".into());
    }
    match (plan.kind, &plan.survey) {
        (CampaignKind::Survey, Some(survey)) => crate::survey::check(survey)?,
        (CampaignKind::Survey, None) => {
            return Err("survey: a survey campaign needs its questions".into())
        }
        (CampaignKind::Announcement, Some(_)) => {
            return Err("survey: only a campaign of kind survey asks questions".into())
        }
        (CampaignKind::Announcement, None) => {}
    }
    plan.filter.check().map_err(|e| format!("filter: {e}"))?;
    if plan.messages.is_empty() {
        return Err("messages: at least one, by language: {\"en\": \"…\"}".into());
    }
    for (language, text) in &plan.messages {
        casewire_tenancy::check_language("messages", language)?;
        casewire_tenancy::check_text(&format!("messages.{language}"), text, 1600, VARIABLES)?;
    }
    if let Some(within) = &plan.exclude_texted_within {
        casewire_tenancy::Offset::parse(within)
            .map_err(|e| format!("exclude_texted_within: {e}"))?;
    }
    let instant = |what: &str, t: &str| {
        chrono::DateTime::parse_from_rfc3339(t).map_err(|_| {
            format!("{what}: {t:?} is not an RFC 3339 time such as 2026-12-05T10:00:00-06:00")
        })
    };
    if let Some(at) = &plan.send_at {
        instant("send_at", at)?;
    }
    if let Some(w) = &plan.window {
        if instant("window.start", &w.start)? >= instant("window.end", &w.end)? {
            return Err("window: start must come before end".into());
        }
    }
    if let Some(rate) = &plan.rate {
        rate.check("rate")?;
    }
    Ok(())
}

/// A recipient's first text: [`word`]ed, and a survey's first question after it.
pub fn opening(
    plan: &CampaignPlan,
    language: &str,
    client_name: Option<&str>,
    organization: &str,
) -> String {
    let text = word(&plan.messages, language, client_name, organization);
    match plan.survey.as_ref().and_then(|s| s.questions.first()) {
        Some(first) => format!("{text}\n\n{}", crate::survey::ask(first, language)),
        None => text,
    }
}

/// A recipient's text: the message in their language (the tag, else its primary language,
/// else English, else the first there is), with their first name and the organization's.
/// Without a name (erased, or none), the greeting closes up: "Hi {client.first_name}," is
/// "Hi,".
pub fn word(
    messages: &std::collections::BTreeMap<String, String>,
    language: &str,
    client_name: Option<&str>,
    organization: &str,
) -> String {
    let template = crate::survey::in_language(messages, language);
    let first_name = client_name
        .and_then(|n| n.split_whitespace().next())
        .unwrap_or("");
    template
        .replace("{client.first_name}", first_name)
        .replace("{organization.name}", organization)
        .replace(" ,", ",")
        .replace(" !", "!")
}

impl Campaign {
    /// Its audience so far: the place of the next recipient frozen.
    pub fn recipients(&self) -> u32 {
        self.recipients
    }

    /// Whether `launch` may launch it: by enough admins' approvals, not the drafter's.
    fn approved(&self, launch: &Launcher) -> Result<(), CampaignError> {
        let mut approvers = self.approved_by.clone();
        approvers.extend(launch.by.clone().filter(|_| launch.admin));
        if let Some(drafter) = &self.drafted_by {
            approvers.remove(drafter);
        }
        let required = launch.approvals_required;
        if approvers.len() < usize::from(required) {
            return Err(CampaignError::Conflict(format!(
                "the organization asks {required} admin(s) other than the one who drafted a campaign to approve its launch; approved by {} so far: an admin approves with POST /v1/campaigns/{{id}}/approve",
                approvers.len()
            )));
        }
        Ok(())
    }
}

impl Aggregate for Campaign {
    const TYPE: &'static str = casewire_events::campaign::AGGREGATE;
    type Command = CampaignCommand;
    type Event = CampaignEvent;
    type Error = CampaignError;
    type Services = ();

    async fn handle(
        &mut self,
        command: CampaignCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), CampaignError> {
        use CampaignCommand as C;
        use CampaignEvent as E;
        use CampaignState as S;
        if !self.drafted && !matches!(command, C::Draft { .. } | C::Open { .. }) {
            return Err(CampaignError::Unknown);
        }
        let conflict = |doing: &str, state: S| {
            Err(CampaignError::Conflict(format!(
                "the campaign is {}: it cannot be {doing}",
                state.as_str()
            )))
        };
        let events = match (command, self.state) {
            (C::Draft { plan, by }, _) => {
                if self.drafted {
                    return Err(CampaignError::Exists);
                }
                check(&plan).map_err(CampaignError::Invalid)?;
                vec![E::CampaignDrafted {
                    plan,
                    rule: None,
                    by,
                }]
            }
            (C::Approve { by }, S::Draft) => {
                if self.drafted_by.as_ref() == Some(&by) {
                    return Err(CampaignError::Conflict(
                        "the key that drafted the campaign cannot approve it: another admin's must"
                            .into(),
                    ));
                }
                if self.approved_by.contains(&by) {
                    return Ok(());
                }
                vec![E::CampaignApproved { by }]
            }
            (C::Approve { .. }, state) => return conflict("approved", state),
            (C::Open { plan, rule }, _) => {
                if self.drafted {
                    return Err(CampaignError::Exists);
                }
                check(&plan).map_err(CampaignError::Invalid)?;
                vec![
                    E::CampaignDrafted {
                        plan,
                        rule: Some(rule),
                        by: None,
                    },
                    E::CampaignLaunched {
                        recipients: 0,
                        excluded: Excluded::default(),
                    },
                ]
            }
            (C::Add(recipient), S::Running | S::Paused) => {
                let Some(cases) = &self.rule else {
                    return Err(CampaignError::Conflict(
                        "only an outcome-survey rule's campaign takes recipients after its launch"
                            .into(),
                    ));
                };
                if cases.contains(&recipient.case_id) {
                    return Ok(());
                }
                vec![E::RecipientsFrozen {
                    first: self.recipients,
                    recipients: vec![recipient],
                }]
            }
            (C::Add(_), state) => return conflict("given recipients", state),
            (
                C::Freeze {
                    first,
                    recipients,
                    launch,
                },
                S::Draft,
            ) => {
                self.approved(&launch)?;
                if first != self.recipients {
                    return Err(CampaignError::Conflict(
                        "another launch of this campaign is under way".into(),
                    ));
                }
                recipients
                    .chunks(FROZEN_PER_EVENT)
                    .zip((first..).step_by(FROZEN_PER_EVENT))
                    .map(|(chunk, first)| E::RecipientsFrozen {
                        first,
                        recipients: chunk.to_vec(),
                    })
                    .collect()
            }
            (C::Freeze { .. }, state) => return conflict("launched again", state),
            (C::Launch { excluded, launch }, S::Draft) => {
                self.approved(&launch)?;
                if self.recipients == 0 {
                    return Err(CampaignError::Conflict(
                        "the audience reaches nobody now: check it with POST /v1/audiences/preview"
                            .into(),
                    ));
                }
                vec![E::CampaignLaunched {
                    recipients: self.recipients,
                    excluded,
                }]
            }
            (C::Launch { .. }, state) => return conflict("launched again", state),
            (C::Pause, S::Running) => vec![E::CampaignPaused {}],
            (C::Pause, state) => return conflict("paused", state),
            (C::Resume, S::Paused) => vec![E::CampaignResumed {}],
            (C::Resume, state) => return conflict("resumed", state),
            (C::Cancel, S::Draft | S::Running | S::Paused) => vec![E::CampaignCancelled {}],
            (C::Cancel, state) => return conflict("cancelled", state),
            (C::Skip(skipped), S::Running | S::Paused) => {
                if let Some((n, _)) = skipped.iter().find(|(n, _)| *n >= self.recipients) {
                    return Err(CampaignError::Invalid(format!(
                        "recipient {n} is not in the audience of {}",
                        self.recipients
                    )));
                }
                skipped
                    .into_iter()
                    .map(|(n, reason)| E::RecipientSkipped { n, reason })
                    .collect()
            }
            (C::Skip(_), state) => return conflict("sent to", state),
            (C::Complete, S::Running) if self.rule.is_none() => {
                vec![E::CampaignCompleted {}]
            }
            (C::Complete, state) => return conflict("completed", state),
        };
        for e in events {
            sink.write(e, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: CampaignEvent) {
        use CampaignEvent as E;
        match event {
            E::CampaignDrafted { rule, by, .. } => {
                self.drafted = true;
                self.rule = rule.map(|_| BTreeSet::new());
                self.drafted_by = by;
            }
            E::CampaignApproved { by } => {
                self.approved_by.insert(by);
            }
            E::CampaignLaunched { recipients, .. } => {
                self.state = CampaignState::Running;
                self.recipients = recipients;
            }
            E::RecipientsFrozen { first, recipients } => {
                self.recipients = self.recipients.max(first + recipients.len() as u32);
                if let Some(cases) = &mut self.rule {
                    cases.extend(recipients.into_iter().map(|r| r.case_id));
                }
            }
            E::RecipientSkipped { .. } => {}
            E::CampaignPaused {} => self.state = CampaignState::Paused,
            E::CampaignResumed {} => self.state = CampaignState::Running,
            E::CampaignCancelled {} => self.state = CampaignState::Cancelled,
            E::CampaignCompleted {} => self.state = CampaignState::Completed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use casewire_events::audience::Filter;
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<Campaign>;

    fn plan() -> CampaignPlan {
        CampaignPlan {
            name: "Consumer rights clinic".into(),
            kind: CampaignKind::Announcement,
            filter: Filter::default(),
            messages: [(
                "en".to_string(),
                "{organization.name}: Hi {client.first_name}, free consumer clinic Sat 10am. Reply STOP to stop.".to_string(),
            )]
            .into(),
            exclude_texted_within: None,
            send_at: None,
            window: None,
            rate: None,
            survey: None,
        }
    }

    fn recipient(i: u32) -> Recipient {
        Recipient {
            case_id: format!("C-{i}"),
            phone: format!("+1312555{i:04}"),
            language: "en".into(),
            time_zone: None,
        }
    }

    fn drafted() -> CampaignEvent {
        CampaignEvent::CampaignDrafted {
            plan: Box::new(plan()),
            rule: None,
            by: Some("api_key:drafter".into()),
        }
    }

    /// An advocate's key, where the tenant asks for no approval.
    fn advocate() -> Launcher {
        Launcher {
            by: Some("api_key:advocate".into()),
            admin: false,
            approvals_required: 0,
        }
    }

    fn freeze(first: u32, recipients: Vec<Recipient>) -> CampaignCommand {
        CampaignCommand::Freeze {
            first,
            recipients,
            launch: advocate(),
        }
    }

    fn launch() -> CampaignCommand {
        CampaignCommand::Launch {
            excluded: Excluded::default(),
            launch: advocate(),
        }
    }

    fn frozen(first: u32, to: u32) -> CampaignEvent {
        CampaignEvent::RecipientsFrozen {
            first,
            recipients: (first..to).map(recipient).collect(),
        }
    }

    fn launched(n: u32) -> CampaignEvent {
        CampaignEvent::CampaignLaunched {
            recipients: n,
            excluded: Excluded::default(),
        }
    }

    /// A launch freezes its audience chunk by chunk, each after the last, and ends with
    /// `CampaignLaunched`: a launch stopped half-way leaves a draft, which a launch again
    /// finishes.
    #[test]
    fn a_launch_freezes_the_audience_in_events_of_at_most_five_hundred_then_starts() {
        Given::with(())
            .given(vec![drafted()])
            .when(freeze(0, (0..1_001).map(recipient).collect()))
            .then_expect_events(vec![
                frozen(0, 500),
                frozen(500, 1_000),
                frozen(1_000, 1_001),
            ]);
        let half_way = vec![drafted(), frozen(0, 500), frozen(500, 1_000)];
        Given::with(())
            .given(half_way.clone())
            .when(freeze(1_000, vec![recipient(1_000)]))
            .then_expect_events(vec![frozen(1_000, 1_001)]);
        Given::with(())
            .given(half_way.clone())
            .when(launch())
            .then_expect_events(vec![launched(1_000)]);
        // A second launch at once freezes the same places: refused, not frozen twice.
        Given::with(())
            .given(half_way)
            .when(freeze(500, vec![recipient(500)]))
            .then_expect_error_message("another launch of this campaign is under way");
        Given::with(())
            .given(vec![drafted(), frozen(0, 1), launched(1)])
            .when(freeze(1, vec![recipient(1)]))
            .then_expect_error_message("the campaign is running: it cannot be launched again");
    }

    #[test]
    fn pause_resume_and_cancel_follow_the_campaigns_life() {
        let running = vec![drafted(), launched(3)];
        Given::with(())
            .given(running.clone())
            .when(CampaignCommand::Pause)
            .then_expect_events(vec![CampaignEvent::CampaignPaused {}]);
        let mut paused = running.clone();
        paused.push(CampaignEvent::CampaignPaused {});
        Given::with(())
            .given(paused.clone())
            .when(CampaignCommand::Resume)
            .then_expect_events(vec![CampaignEvent::CampaignResumed {}]);
        Given::with(())
            .given(paused)
            .when(CampaignCommand::Pause)
            .then_expect_error_message("the campaign is paused: it cannot be paused");
        Given::with(())
            .given(vec![drafted()])
            .when(CampaignCommand::Resume)
            .then_expect_error_message("the campaign is draft: it cannot be resumed");
        let mut cancelled = running;
        cancelled.push(CampaignEvent::CampaignCancelled {});
        Given::with(())
            .given(cancelled.clone())
            .when(launch())
            .then_expect_error_message("the campaign is cancelled: it cannot be launched again");
        Given::with(())
            .given(cancelled)
            .when(CampaignCommand::Skip(vec![(0, "revoked".into())]))
            .then_expect_error_message("the campaign is cancelled: it cannot be sent to");
    }

    #[test]
    fn an_empty_audience_is_not_launched_and_an_unknown_campaign_is_not_found() {
        Given::with(())
            .given(vec![drafted()])
            .when(launch())
            .then_expect_error_message(
                "the audience reaches nobody now: check it with POST /v1/audiences/preview",
            );
        Given::with(())
            .given_no_previous_events()
            .when(CampaignCommand::Pause)
            .then_expect_error_message("no such campaign");
    }

    #[test]
    fn each_client_is_texted_in_their_language_with_their_first_name() {
        let messages = [
            (
                "en".to_string(),
                "{organization.name}: Hi {client.first_name}, clinic Saturday.".to_string(),
            ),
            (
                "es".to_string(),
                "{organization.name}: Hola {client.first_name}, clinica el sabado.".to_string(),
            ),
        ]
        .into();
        let w = |language, name| word(&messages, language, name, "Prairie Legal Aid");
        assert_eq!(
            w("es-MX", Some("Ana María Díaz")),
            "Prairie Legal Aid: Hola Ana, clinica el sabado."
        );
        assert_eq!(
            w("vi", Some("Minh Tran")),
            "Prairie Legal Aid: Hi Minh, clinic Saturday."
        );
        assert_eq!(
            w("en", None),
            "Prairie Legal Aid: Hi, clinic Saturday.",
            "an erased name"
        );
    }

    #[test]
    fn a_plan_says_what_is_wrong_with_it() {
        let bad = |f: &dyn Fn(&mut CampaignPlan)| {
            let mut p = plan();
            f(&mut p);
            check(&p).unwrap_err()
        };
        assert!(bad(&|p| p.name = " ".into()).starts_with("name"));
        assert!(bad(&|p| p.messages.clear()).starts_with("messages"));
        assert!(bad(&|p| {
            p.messages.insert("es".into(), "Hola {client.name}".into());
        })
        .contains("unknown variable {client.name}"));
        assert!(bad(&|p| p.send_at = Some("tomorrow".into())).starts_with("send_at"));
        assert!(bad(&|p| {
            p.window = Some(casewire_events::campaign::Window {
                start: "2026-12-05T12:00:00Z".into(),
                end: "2026-12-05T10:00:00Z".into(),
            })
        })
        .contains("before end"));
        assert!(bad(&|p| {
            p.rate = Some(casewire_events::campaign::Rate {
                per_second: Some(0.0),
                per_day: None,
            })
        })
        .starts_with("rate.per_second"));
        assert!(
            bad(&|p| p.kind = CampaignKind::Survey).starts_with("survey: a survey campaign needs")
        );
        assert!(check(&plan()).is_ok());
    }

    #[test]
    fn a_rules_campaign_opens_with_nobody_and_takes_each_case_once() {
        let opened = vec![
            CampaignEvent::CampaignDrafted {
                plan: Box::new(plan()),
                rule: Some("rule-1".into()),
                by: None,
            },
            launched(0),
        ];
        Given::with(())
            .given_no_previous_events()
            .when(CampaignCommand::Open {
                plan: Box::new(plan()),
                rule: "rule-1".into(),
            })
            .then_expect_events(opened.clone());
        let first = CampaignEvent::RecipientsFrozen {
            first: 0,
            recipients: vec![recipient(1)],
        };
        Given::with(())
            .given(opened.clone())
            .when(CampaignCommand::Add(recipient(1)))
            .then_expect_events(vec![first.clone()]);
        Given::with(())
            .given([opened.clone(), vec![first.clone()]].concat())
            .when(CampaignCommand::Add(recipient(1)))
            .then_expect_events(vec![]);
        Given::with(())
            .given([opened, vec![first]].concat())
            .when(CampaignCommand::Add(recipient(2)))
            .then_expect_events(vec![CampaignEvent::RecipientsFrozen {
                first: 1,
                recipients: vec![recipient(2)],
            }]);
        // A campaign launched with its audience frozen takes nobody after.
        Given::with(())
            .given(vec![drafted(), launched(3)])
            .when(CampaignCommand::Add(recipient(9)))
            .then_expect_error_message(
                "only an outcome-survey rule's campaign takes recipients after its launch",
            );
    }

    #[test]
    fn four_eyes_a_launch_needs_an_admin_other_than_the_drafter() {
        let launcher = |by: &str, admin: bool| Launcher {
            by: Some(by.into()),
            admin,
            approvals_required: 1,
        };
        let asked = |by: &str, admin: bool| CampaignCommand::Freeze {
            first: 0,
            recipients: vec![recipient(0)],
            launch: launcher(by, admin),
        };
        let waiting = "the organization asks 1 admin(s) other than the one who drafted a campaign to approve its launch; approved by 0 so far";
        // The drafter (an admin) cannot launch it alone, nor approve it.
        Given::with(())
            .given(vec![drafted()])
            .when(asked("api_key:drafter", true))
            .then_expect_error_message(&format!(
                "{waiting}: an admin approves with POST /v1/campaigns/{{id}}/approve"
            ));
        Given::with(())
            .given(vec![drafted()])
            .when(CampaignCommand::Approve {
                by: "api_key:drafter".into(),
            })
            .then_expect_error_message(
                "the key that drafted the campaign cannot approve it: another admin's must",
            );
        // An advocate's launch is not an approval.
        Given::with(())
            .given(vec![drafted()])
            .when(asked("api_key:advocate", false))
            .then_expect_error_message(&format!(
                "{waiting}: an admin approves with POST /v1/campaigns/{{id}}/approve"
            ));
        // A second admin's launch is; so is their approval, before anyone's launch.
        Given::with(())
            .given(vec![drafted()])
            .when(asked("api_key:second-admin", true))
            .then_expect_events(vec![frozen(0, 1)]);
        // The launch's end asks the same.
        Given::with(())
            .given(vec![drafted(), frozen(0, 1)])
            .when(CampaignCommand::Launch {
                excluded: Excluded::default(),
                launch: launcher("api_key:advocate", false),
            })
            .then_expect_error_message(&format!(
                "{waiting}: an admin approves with POST /v1/campaigns/{{id}}/approve"
            ));
        let approved = CampaignEvent::CampaignApproved {
            by: "api_key:second-admin".into(),
        };
        Given::with(())
            .given(vec![drafted()])
            .when(CampaignCommand::Approve {
                by: "api_key:second-admin".into(),
            })
            .then_expect_events(vec![approved.clone()]);
        Given::with(())
            .given(vec![drafted(), approved])
            .when(asked("api_key:drafter", true))
            .then_expect_events(vec![frozen(0, 1)]);
    }
}
