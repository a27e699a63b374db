//! What messaging answers about campaigns (bulk texts): drafted, launched, paused,
//! resumed, cancelled; each answered with the campaign as the API shows it.

use std::collections::BTreeMap;

use casewire_events::audience::Excluded;
use casewire_events::campaign::CampaignPlan;
use casewire_events::survey::SurveyRule;
use serde::{Deserialize, Serialize};

use crate::messaging::SERVICE;
use crate::Command;

/// Drafts a campaign under the caller's id.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DraftCampaign {
    pub id: String,
    pub plan: CampaignPlan,
}

impl Command for DraftCampaign {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "draft_campaign";
    type Answer = CampaignView;
}

/// A change of a campaign's life, by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStep {
    /// Freezes its audience and starts sending.
    Launch,
    /// An admin other than the drafter approves its launch, where the tenant's policy asks
    /// for it (`approvals_required`).
    Approve,
    /// No new text goes until it is resumed.
    Pause,
    Resume,
    /// No new text goes, ever.
    Cancel,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepCampaign {
    pub id: String,
    pub step: CampaignStep,
    /// Whether the caller is an admin of the tenant, as the gateway read the credential:
    /// an admin's launch counts as an approval.
    #[serde(default)]
    pub admin: bool,
}

impl Command for StepCampaign {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "step_campaign";
    type Answer = CampaignView;
}

/// A campaign as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CampaignView {
    pub id: String,
    /// draft, running, paused, cancelled or completed.
    pub state: String,
    /// As drafted.
    pub plan: CampaignPlan,
    /// While a draft: whom it would reach now, and what it would cost.
    pub estimate: Option<Estimate>,
    /// Once launched: where each recipient's text stands.
    pub counts: Option<Counts>,
    pub created_at: String,
    pub launched_at: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Estimate {
    pub recipients: u32,
    /// Each recipient's text in their language, counted in segments, at the tenant's
    /// price; `{client.first_name}` counted as 12 letters.
    pub cost_usd: f64,
    pub excluded: Excluded,
}

/// Each recipient counted once, where their text stands now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Counts {
    pub recipients: u32,
    /// Not texted yet: waiting for the rate, the window or the end of quiet hours.
    pub pending: u32,
    /// Queued in casewire, not at Twilio yet.
    pub queued: u32,
    /// At Twilio or on their way to the phone.
    pub sent: u32,
    pub delivered: u32,
    /// By Twilio's error code (or the status, when it gave none).
    pub failed: BTreeMap<String, u32>,
    /// By why (revoked, no_consent…).
    pub skipped: BTreeMap<String, u32>,
    /// Recipients who texted back after their text.
    pub replied: u32,
    /// Recipients whose number is opted out now.
    pub opted_out: u32,
}

/// A survey's answers, question by question.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurveyResults {
    pub campaign_id: String,
    /// Recipients whose opening text was queued.
    pub texted: u32,
    /// Recipients who answered at least one question.
    pub responded: u32,
    /// `responded` of `texted`, from 0 to 1.
    pub response_rate: f64,
    /// In the plan's order.
    pub questions: Vec<QuestionResults>,
    /// How the response rate grew: for each hour after the launch in which someone
    /// answered for the first time, everyone who had answered by its end. Empty before
    /// the first answer.
    pub over_time: Vec<ResponsesBy>,
}

/// Recipients who had answered by the end of an hour after the launch.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResponsesBy {
    /// Hours after the launch: 1 is the first hour's end.
    pub hour: u32,
    pub responded: u32,
    /// `responded` of `texted`, from 0 to 1.
    pub response_rate: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuestionResults {
    pub id: String,
    /// Recipients the question was put to (the first: everyone texted).
    pub asked: u32,
    pub answered: u32,
    /// `answered` of `asked`, from 0 to 1 (0 when nobody was asked).
    pub response_rate: f64,
    /// From the question's text to its answer, the median of those who answered.
    pub median_seconds_to_answer: Option<f64>,
    /// Answers by their value (yes, no, 4, the option as written, text), parsed or not.
    pub answers: BTreeMap<String, u32>,
    /// Replies that did not read as an answer after one more asking, kept as words (also
    /// counted under `text`).
    pub kept_as_words: u32,
}

/// Makes an outcome-survey rule under the caller's id, and opens its campaign.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreateSurveyRule {
    pub id: String,
    pub rule: SurveyRule,
}

impl Command for CreateSurveyRule {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "create_survey_rule";
    type Answer = SurveyRuleView;
}

/// Deletes a rule: no case sets it off any more, and its campaign is cancelled.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeleteSurveyRule {
    pub id: String,
}

impl Command for DeleteSurveyRule {
    const SERVICE: &'static str = SERVICE;
    const NAME: &'static str = "delete_survey_rule";
    type Answer = SurveyRuleView;
}

/// An outcome-survey rule as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurveyRuleView {
    pub id: String,
    pub rule: SurveyRule,
    /// The campaign that sends it: its counts and results gather every case's.
    pub campaign_id: String,
    pub created_at: String,
}
