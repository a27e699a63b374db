//! Which cases a bulk text or a survey goes to, and which cases `GET /v1/cases` lists: a
//! filter over the tenant's cases as the CMS sent them. Every key is optional; a key left
//! out does not narrow. Within a key, any value matches (`offices: ["north", "south"]`);
//! across keys, all must (`status` and `problem_codes`). [`Filter::admits`] is the one
//! reading of a filter, used by case-link's list and messaging's audiences alike.

use crate::case::CaseStatus;
use serde::{Deserialize, Serialize};

/// What a filter reads of a case: the fields of its `CaseDetails` that are not sealed, so
/// a read model's stored details are filtered without opening the client's name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CaseFacts {
    pub client: ClientFacts,
    pub status: CaseStatus,
    #[serde(default)]
    pub problem_code: Option<String>,
    #[serde(default)]
    pub office: Option<String>,
    #[serde(default)]
    pub advocates: Vec<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub opened_at: Option<String>,
    #[serde(default)]
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClientFacts {
    pub phone: String,
    pub language: String,
}

/// One client an audience texts, through the case it was picked by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recipient {
    pub case_id: String,
    /// E.164.
    pub phone: String,
    pub language: String,
    /// The client's own zone, when the case names one: their quiet hours are counted in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// How many cases a filter picked that get no text, by why; each case counted once, under
/// the first reason in this order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Excluded {
    /// The client opted out.
    pub revoked: u32,
    /// The client has not consented, and bulk texts need consent.
    pub no_consent: u32,
    /// The case has no number to text.
    pub no_phone: u32,
    /// Another picked case has the same client's number: they get one text.
    pub duplicate_phone: u32,
    /// Texted within the period asked (`exclude_texted_within`).
    pub recently_texted: u32,
}

/// The most values one key of a filter may list (`case_ids` may list more).
pub const MAX_VALUES: usize = 100;
/// The most case ids one filter may name.
pub const MAX_CASE_IDS: usize = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// The CMS's problem codes (LSC's, or the organization's own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problem_codes: Vec<String>,
    /// open, closed or any (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusFilter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offices: Vec<String>,
    /// Cases that list any of these advocates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advocates: Vec<String>,
    /// The client's language: `es` matches `es` and `es-MX`; `es-MX` only `es-MX`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// When the case was opened, as the CMS said (`opened_at`); a case without the date
    /// does not match a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened: Option<DateRange>,
    /// When the case was closed (`closed_at`); a case without the date does not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<DateRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub case_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Open,
    Closed,
    Any,
}

/// Dates (`YYYY-MM-DD`), both ends included; either may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date)]
    pub to: Option<String>,
}

impl Filter {
    /// What is wrong with the filter, in words for the API's 422; `Ok` when it can be used.
    pub fn check(&self) -> Result<(), String> {
        for (key, values) in [
            ("problem_codes", &self.problem_codes),
            ("offices", &self.offices),
            ("advocates", &self.advocates),
            ("languages", &self.languages),
        ] {
            if values.len() > MAX_VALUES {
                return Err(format!("{key}: at most {MAX_VALUES} values"));
            }
            if values.iter().any(|v| v.trim().is_empty()) {
                return Err(format!("{key}: a value is empty"));
            }
        }
        if self.case_ids.len() > MAX_CASE_IDS {
            return Err(format!("case_ids: at most {MAX_CASE_IDS}"));
        }
        if let Some(l) = self
            .languages
            .iter()
            .find(|l| !crate::case::is_language_tag(l))
        {
            return Err(format!(
                "languages: {l:?} is not a language tag such as en, es or es-MX"
            ));
        }
        for (key, range) in [("opened", &self.opened), ("closed", &self.closed)] {
            if let Some(range) = range {
                range.check(key)?;
            }
        }
        Ok(())
    }

    /// Whether the case `case_id` with `details` is one the filter picks.
    pub fn admits(&self, case_id: &str, details: &CaseFacts) -> bool {
        let any_of = |wanted: &[String], has: Option<&str>| {
            wanted.is_empty() || has.is_some_and(|h| wanted.iter().any(|w| w == h))
        };
        let status = match self.status {
            None | Some(StatusFilter::Any) => true,
            Some(StatusFilter::Open) => details.status == CaseStatus::Open,
            Some(StatusFilter::Closed) => details.status == CaseStatus::Closed,
        };
        let in_range = |range: &Option<DateRange>, date: Option<&str>| match range {
            None => true,
            Some(r) => date.is_some_and(|d| r.holds(d)),
        };
        status
            && any_of(&self.problem_codes, details.problem_code.as_deref())
            && any_of(&self.offices, details.office.as_deref())
            && any_of(&self.case_ids, Some(case_id))
            && (self.advocates.is_empty()
                || details.advocates.iter().any(|a| self.advocates.contains(a)))
            && (self.languages.is_empty()
                || self
                    .languages
                    .iter()
                    .any(|l| language_matches(l, &details.client.language)))
            && in_range(&self.opened, details.opened_at.as_deref())
            && in_range(&self.closed, details.closed_at.as_deref())
    }
}

impl DateRange {
    fn check(&self, key: &str) -> Result<(), String> {
        for (end, date) in [("from", &self.from), ("to", &self.to)] {
            if let Some(d) = date {
                if !is_date(d) {
                    return Err(format!("{key}.{end}: {d:?} is not a date (YYYY-MM-DD)"));
                }
            }
        }
        if let (Some(from), Some(to)) = (&self.from, &self.to) {
            if from > to {
                return Err(format!("{key}: from ({from}) is after to ({to})"));
            }
        }
        Ok(())
    }

    /// Whether `date` (`YYYY-MM-DD`, which sorts as text) lies within, both ends included.
    fn holds(&self, date: &str) -> bool {
        self.from.as_deref().is_none_or(|f| date >= f)
            && self.to.as_deref().is_none_or(|t| date <= t)
    }
}

/// `YYYY-MM-DD`, a real day.
pub fn is_date(d: &str) -> bool {
    d.len() == 10 && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()
}

/// `wanted` names the language `has` is in: the same tag, or its primary language when
/// `wanted` gives no region (`es` takes `es-MX`), without regard to case.
fn language_matches(wanted: &str, has: &str) -> bool {
    let (wanted, has) = (wanted.to_ascii_lowercase(), has.to_ascii_lowercase());
    has == wanted || (!wanted.contains('-') && has.split('-').next() == Some(wanted.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(status: CaseStatus, problem: &str, language: &str) -> CaseFacts {
        CaseFacts {
            client: ClientFacts {
                phone: "+13125550100".into(),
                language: language.into(),
            },
            status,
            problem_code: Some(problem.into()),
            office: Some("north".into()),
            advocates: vec!["adv-7".into()],
            time_zone: None,
            opened_at: Some("2026-03-02".into()),
            closed_at: None,
        }
    }

    fn filter(json: serde_json::Value) -> Filter {
        let f: Filter = serde_json::from_value(json).unwrap();
        f.check().unwrap();
        f
    }

    /// A read model keeps details as stored, the name encrypted: the facts read past it.
    #[test]
    fn the_facts_are_read_from_stored_details_without_the_name() {
        let stored = serde_json::json!({
            "client": {"name": {"$sealed": {"subject": "client:+13125550100", "ct": "AAAA"}},
                       "phone": "+13125550100", "language": "es"},
            "status": "closed", "problem_code": "63", "office": null, "advocates": [],
            "closed_at": "2026-11-20",
        });
        let facts: CaseFacts = serde_json::from_value(stored).unwrap();
        assert_eq!(facts.client.language, "es");
        assert_eq!(facts.status, CaseStatus::Closed);
        assert_eq!(facts.closed_at.as_deref(), Some("2026-11-20"));
    }

    #[test]
    fn an_empty_filter_takes_every_case() {
        let f = filter(serde_json::json!({}));
        assert!(f.admits("C-1", &case(CaseStatus::Open, "63", "en")));
        assert!(f.admits("C-2", &case(CaseStatus::Closed, "01", "es")));
    }

    #[test]
    fn keys_narrow_together_and_values_within_a_key_widen() {
        let f = filter(serde_json::json!({
            "status": "open", "problem_codes": ["63", "64"], "offices": ["north", "south"],
        }));
        assert!(f.admits("C-1", &case(CaseStatus::Open, "63", "en")));
        assert!(f.admits("C-1", &case(CaseStatus::Open, "64", "en")));
        assert!(
            !f.admits("C-1", &case(CaseStatus::Closed, "63", "en")),
            "closed"
        );
        assert!(
            !f.admits("C-1", &case(CaseStatus::Open, "01", "en")),
            "another problem"
        );
    }

    #[test]
    fn a_language_without_a_region_takes_its_regions() {
        let es = filter(serde_json::json!({"languages": ["es"]}));
        assert!(es.admits("C-1", &case(CaseStatus::Open, "63", "es-MX")));
        assert!(es.admits("C-1", &case(CaseStatus::Open, "63", "ES")));
        assert!(!es.admits("C-1", &case(CaseStatus::Open, "63", "en")));
        let mx = filter(serde_json::json!({"languages": ["es-MX"]}));
        assert!(!mx.admits("C-1", &case(CaseStatus::Open, "63", "es")));
    }

    #[test]
    fn date_ranges_include_both_ends_and_skip_cases_without_the_date() {
        let f = filter(serde_json::json!({"opened": {"from": "2026-03-02", "to": "2026-03-31"}}));
        assert!(f.admits("C-1", &case(CaseStatus::Open, "63", "en")));
        let later = filter(serde_json::json!({"opened": {"from": "2026-03-03"}}));
        assert!(!later.admits("C-1", &case(CaseStatus::Open, "63", "en")));
        let closed = filter(serde_json::json!({"closed": {"to": "2026-12-31"}}));
        assert!(
            !closed.admits("C-1", &case(CaseStatus::Closed, "63", "en")),
            "no closed_at: no match"
        );
    }

    #[test]
    fn advocates_and_case_ids_pick_their_cases() {
        let f = filter(serde_json::json!({"advocates": ["adv-7"], "case_ids": ["C-1", "C-9"]}));
        assert!(f.admits("C-1", &case(CaseStatus::Open, "63", "en")));
        assert!(!f.admits("C-2", &case(CaseStatus::Open, "63", "en")));
    }

    #[test]
    fn a_bad_filter_says_what_is_wrong() {
        let bad = |json: serde_json::Value| {
            serde_json::from_value::<Filter>(json)
                .map_err(|e| e.to_string())
                .and_then(|f| f.check())
                .unwrap_err()
        };
        assert!(bad(serde_json::json!({"opened": {"from": "March"}})).contains("opened.from"));
        assert!(
            bad(serde_json::json!({"closed": {"from": "2026-05-01", "to": "2026-04-01"}}))
                .contains("after")
        );
        assert!(bad(serde_json::json!({"languages": ["spanish!"]})).contains("language tag"));
        assert!(bad(serde_json::json!({"status": "pending"})).contains("unknown variant"));
        assert!(bad(serde_json::json!({"problem": ["63"]})).contains("unknown field"));
        assert!(bad(serde_json::json!({"offices": [" "]})).contains("empty"));
    }
}
