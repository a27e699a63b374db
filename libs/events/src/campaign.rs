//! The events of a campaign: a bulk text or a survey to an audience, drafted, launched (its
//! audience frozen), paused, resumed, cancelled, completed. Each recipient's text is a
//! message of its own (`OutboundQueued` naming the campaign and the recipient's place).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audience::{Excluded, Filter, Recipient};

pub const AGGREGATE: &str = "campaign";

/// How many recipients one `RecipientsFrozen` event holds: a 50,000-client audience is a
/// hundred events of about 40 kB, each well within a bus message.
pub const FROZEN_PER_EVENT: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignKind {
    Announcement,
    Survey,
}

impl CampaignKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignKind::Announcement => "announcement",
            CampaignKind::Survey => "survey",
        }
    }
}

/// What a campaign is: to whom, saying what, when and how fast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignPlan {
    pub name: String,
    pub kind: CampaignKind,
    pub filter: Filter,
    /// The text by language (`en`, `es`…), with `{client.first_name}` and
    /// `{organization.name}`. A client whose language has none gets `en`'s.
    pub messages: BTreeMap<String, String>,
    /// Leave out clients texted within this period (ISO 8601) when the audience freezes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_texted_within: Option<String>,
    /// Not before this instant (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_at: Option<String>,
    /// Spread the texts evenly over this span, so replies do not all arrive at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// At most this fast; the tenant's own cap holds across its campaigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    /// A survey's questions (kind `survey` only): the first follows `messages` in the
    /// opening text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<crate::survey::Survey>,
}

/// Two instants (RFC 3339).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub start: String,
    pub end: String,
}

/// Message segments per second, and texts per day (a 10DLC campaign's carrier cap).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_second: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_day: Option<u32>,
}

impl Rate {
    /// What is wrong with the rate, naming it `what`.
    pub fn check(&self, what: &str) -> Result<(), String> {
        if self
            .per_second
            .is_some_and(|r| !(r.is_finite() && r > 0.0 && r <= 1000.0))
        {
            return Err(format!(
                "{what}.per_second: more than 0 and at most 1000 segments"
            ));
        }
        if self.per_day == Some(0) {
            return Err(format!("{what}.per_day: at least 1"));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum CampaignEvent {
    CampaignDrafted {
        plan: Box<CampaignPlan>,
        /// The outcome-survey rule whose campaign this is: open as long as the rule stands,
        /// given a recipient as each of its cases closes (`RecipientsFrozen` of one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
        /// Who drafted it (`api_key:<id>`): they may not approve it themselves.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// An admin approved the launch (`approvals_required` in the tenant's policy).
    CampaignApproved {
        by: String,
    },
    /// The audience is frozen: who is texted is decided now, once; the recipients follow
    /// in `RecipientsFrozen` events, in order.
    CampaignLaunched {
        recipients: u32,
        excluded: Excluded,
    },
    RecipientsFrozen {
        /// The place of the first of `recipients` in the audience, from 0.
        first: u32,
        recipients: Vec<Recipient>,
    },
    /// A recipient gets no text, and why (they opted out since the launch, say).
    RecipientSkipped {
        n: u32,
        reason: String,
    },
    CampaignPaused {},
    CampaignResumed {},
    CampaignCancelled {},
    /// Every recipient was texted or skipped.
    CampaignCompleted {},
}

/// Which campaign a text belongs to, and the recipient's place in its audience.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CampaignText {
    pub id: String,
    pub n: u32,
}
