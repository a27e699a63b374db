//! A survey: a campaign's questions, and one recipient's way through them. The campaign's
//! opening text asks the first question; each reply that answers is an event here, and
//! the next question (chosen by the answer) goes out as a text of its own.
//!
//! One aggregate per recipient of a survey campaign ([`response_id`]): a recipient's
//! answers never wait on another's, and loading one loads a handful of events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const AGGREGATE: &str = "survey_response";

/// The aggregate id of recipient `n`'s answers to `campaign`.
pub fn response_id(campaign: &str, n: u32) -> String {
    format!("{campaign}.{n}")
}

/// How long a recipient's replies answer the survey when the plan does not say.
pub const DEFAULT_EXPIRES: &str = "P3D";

/// The id of the question that follows `next` when the survey ends there.
pub const END: &str = "end";

/// The key of `next` that any other answer takes.
pub const ANY: &str = "*";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// Asked one at a time, the first with the campaign's opening text.
    pub questions: Vec<Question>,
    /// How long after a recipient's first text their replies still answer (ISO 8601).
    #[serde(default = "default_expires")]
    pub expires: String,
}

fn default_expires() -> String {
    DEFAULT_EXPIRES.to_string()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Letters, digits, `_` and `-`: the results' and the CSV's column.
    pub id: String,
    /// The question by language, as `messages` is.
    pub text: BTreeMap<String, String>,
    pub answer: AnswerKind,
    /// The question that follows an answer (`yes`, `no`, a number, an option as written,
    /// or `*` for any other), or `end`. An answer it does not name goes to the next
    /// question of the list, and after the last the survey ends. Only later questions may
    /// follow, so every way through the survey ends.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub next: BTreeMap<String, String>,
}

/// What kind of answer a question takes: `"yes_no"`, `{"scale": {"min": 1, "max": 5}}`,
/// `{"choice": {"options": ["Housing", "Family"]}}` or `"free_text"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    YesNo,
    /// A whole number from `min` to `max`, both included.
    Scale {
        min: i64,
        max: i64,
    },
    /// One of the options, by its letter (a, b…), its number (1, 2…) or its words.
    Choice {
        options: Vec<String>,
    },
    FreeText,
}

/// An answer as it counts. The words of a text answer are the client's reply itself
/// (sealed in the message's event): the answer does not copy them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
    Number(i64),
    /// The option's place, from 0.
    Option(u32),
    Text,
}

impl Answer {
    /// The answer as `next` and the results name it: `yes`, `no`, `4`, the option as
    /// written, `text`.
    pub fn key(&self, kind: &AnswerKind) -> String {
        match (self, kind) {
            (Answer::Yes, _) => "yes".into(),
            (Answer::No, _) => "no".into(),
            (Answer::Number(n), _) => n.to_string(),
            (Answer::Option(i), AnswerKind::Choice { options }) => options
                .get(*i as usize)
                .cloned()
                .unwrap_or_else(|| i.to_string()),
            (Answer::Option(i), _) => i.to_string(),
            (Answer::Text, _) => "text".into(),
        }
    }
}

impl Survey {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// The question after `question` answered `answer`; `None` when the survey ends.
    pub fn after(&self, question: &str, answer: &Answer) -> Option<&Question> {
        let at = self.questions.iter().position(|q| q.id == question)?;
        let q = &self.questions[at];
        let chosen = q
            .next
            .get(&answer.key(&q.answer))
            .or_else(|| q.next.get(ANY));
        match chosen.map(String::as_str) {
            Some(END) => None,
            Some(id) => self.question(id),
            None => self.questions.get(at + 1),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum SurveyEvent {
    /// The client's reply (`reply`, a message id) answers `question`. `parsed: false`: it
    /// did not read as an answer after one more asking, and is kept as the client's words.
    SurveyAnswered {
        campaign: String,
        n: u32,
        /// The recipient's case: where the reply is filed, and what the CMS files it on.
        case_id: String,
        question: String,
        answer: Answer,
        /// The answer as the results count it ([`Answer::key`]): `yes`, `4`, the option.
        value: String,
        reply: String,
        parsed: bool,
    },
    /// The reply did not read as an answer: the question is asked once more, in the text
    /// `message`.
    SurveyReasked {
        campaign: String,
        n: u32,
        question: String,
        reply: String,
        message: String,
    },
    /// The next question goes to the client in the text `message`.
    SurveyAsked {
        campaign: String,
        n: u32,
        question: String,
        message: String,
    },
    /// The recipient's way through the survey is done.
    SurveyFinished { campaign: String, n: u32 },
}

pub const RULE_AGGREGATE: &str = "survey_rule";

/// What sets a rule off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The CMS closed a case that was open (`PUT /v1/cases/{id}` with `status: closed`).
    CaseClosed,
}

/// An outcome survey: sent to the client of each case the filter admits, `delay` after
/// the case closes, once per case. Its texts and answers are one campaign's, open for as
/// long as the rule stands, so its results gather every case's answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyRule {
    pub on: Trigger,
    #[serde(default)]
    pub filter: crate::audience::Filter,
    /// After the case closes (ISO 8601: P3D, PT4H).
    pub delay: String,
    pub campaign: RuleCampaign,
}

/// The survey a rule sends: a survey campaign's plan without an audience (the rule's
/// cases are) or a time (each case's closing is).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleCampaign {
    pub name: String,
    /// As a campaign's `messages`: the opening text, by language.
    pub messages: BTreeMap<String, String>,
    pub survey: Survey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<crate::campaign::Rate>,
}

impl SurveyRule {
    /// The plan of the rule's campaign.
    pub fn plan(&self) -> crate::campaign::CampaignPlan {
        crate::campaign::CampaignPlan {
            name: self.campaign.name.clone(),
            kind: crate::campaign::CampaignKind::Survey,
            filter: self.filter.clone(),
            messages: self.campaign.messages.clone(),
            exclude_texted_within: None,
            send_at: None,
            window: None,
            rate: self.campaign.rate.clone(),
            survey: Some(self.campaign.survey.clone()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum SurveyRuleEvent {
    /// `campaign`: the id of the campaign that sends it and gathers its answers.
    SurveyRuleCreated {
        rule: Box<SurveyRule>,
        campaign: String,
    },
    /// No case sets it off any more; its campaign is cancelled.
    SurveyRuleDeleted {},
}
