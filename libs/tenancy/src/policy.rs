//! A tenant's texting policy: which consent each kind of text needs, the quiet hours, and
//! the keywords and replies that override casewire's defaults. Set whole with
//! `PUT /v1/tenants/{id}/policy`; a section left out takes its default.

use std::collections::BTreeMap;

use casewire_events::consent::State;
use casewire_events::message::Purpose;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::wording::{check_language, check_text, local_to_utc};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub consent: ConsentPolicy,
    /// When reminders and bulk texts wait; `null` turns quiet hours off.
    #[serde(default = "default_quiet_hours")]
    pub quiet_hours: Option<QuietHours>,
    /// How a client reaches the organization, said in the HELP reply (a phone number or
    /// a web address).
    #[schema(min_length = 1, max_length = 100)]
    pub contact: Option<String>,
    /// Keyword lists by language (`en`, `es`, …); a list given replaces casewire's default.
    pub keywords: BTreeMap<String, KeywordLists>,
    /// Reply texts by language; a text given replaces casewire's default.
    pub replies: BTreeMap<String, ReplyTexts>,
    /// How fast the organization's campaigns may send, all together: message segments a
    /// second (one for a long code, three for a toll-free number, more for a Messaging
    /// Service with several numbers) and texts a day (a 10DLC campaign's carrier cap).
    /// One segment a second when left out; `null` for no cap.
    #[serde(default = "default_bulk_rate")]
    pub bulk_rate: Option<casewire_events::campaign::Rate>,
    /// How many admins other than the one who drafted a campaign must approve it before it
    /// is launched (four eyes on a blast): 0 to 3. An admin's launch counts as theirs.
    #[schema(maximum = 3)]
    pub approvals_required: u8,
    /// Origins of the organization's CMS whose pages may show a case's thread from the
    /// console inside their own (`https://cms.example.org`, at most 5); no other site may.
    pub embed_origins: Vec<String>,
}

fn default_bulk_rate() -> Option<casewire_events::campaign::Rate> {
    Some(casewire_events::campaign::Rate {
        per_second: Some(1.0),
        per_day: None,
    })
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            consent: ConsentPolicy::default(),
            quiet_hours: default_quiet_hours(),
            contact: None,
            keywords: BTreeMap::new(),
            replies: BTreeMap::new(),
            bulk_rate: default_bulk_rate(),
            approvals_required: 0,
            embed_origins: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ConsentPolicy {
    /// What an advocate's conversation text needs. Reminders and bulk texts always need
    /// a granted consent.
    pub conversation: ConversationConsent,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationConsent {
    /// Any number that has not opted out.
    #[default]
    UnlessRevoked,
    /// Only a number whose consent was granted.
    RequireGranted,
}

/// A daily window in the recipient's local time, `start` to `end` ("21:00" to "08:00"),
/// possibly across midnight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    pub start: String,
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    pub end: String,
    /// Hold advocates' conversation texts too (by default they go at once).
    #[serde(default)]
    pub conversation: bool,
}

fn default_quiet_hours() -> Option<QuietHours> {
    Some(QuietHours {
        start: "21:00".into(),
        end: "08:00".into(),
        conversation: false,
    })
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct KeywordLists {
    /// Whole-message keywords that opt out (STOP).
    #[schema(min_items = 1, max_items = 100)]
    pub opt_out: Option<Vec<String>>,
    /// Phrases that opt out wherever they appear ("stop texting").
    #[schema(min_items = 1, max_items = 100)]
    pub refusals: Option<Vec<String>>,
    #[schema(min_items = 1, max_items = 100)]
    pub opt_in: Option<Vec<String>>,
    #[schema(min_items = 1, max_items = 100)]
    pub confirm: Option<Vec<String>>,
    #[schema(min_items = 1, max_items = 100)]
    pub help: Option<Vec<String>>,
}

/// The texts casewire answers with; `{organization}` and `{contact}` are filled in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReplyTexts {
    #[schema(min_length = 1, max_length = 306)]
    pub confirmation: Option<String>,
    #[schema(min_length = 1, max_length = 306)]
    pub opt_out: Option<String>,
    #[schema(min_length = 1, max_length = 306)]
    pub opt_in: Option<String>,
    #[schema(min_length = 1, max_length = 306)]
    pub help: Option<String>,
    /// To a text that may be an opt-out ("Reply STOP to stop all texts from …").
    #[schema(min_length = 1, max_length = 306)]
    pub clarification: Option<String>,
    /// To a reply that neither confirms nor stops a pending request.
    #[schema(min_length = 1, max_length = 306)]
    pub how_to_confirm: Option<String>,
}

/// The placeholders a reply may use.
pub const REPLY_VARIABLES: [&str; 2] = ["organization", "contact"];

/// `HH:MM`, two digits each, as documented: chrono alone also reads "9:00".
fn time_of_day(what: &str, v: &str) -> Result<NaiveTime, String> {
    let wrong = || format!("{what}: {v:?} is not a time of day as HH:MM, such as 21:00 or 08:30");
    let digits = v.len() == 5 && v.as_bytes()[2] == b':';
    if !digits {
        return Err(wrong());
    }
    NaiveTime::parse_from_str(v, "%H:%M").map_err(|_| wrong())
}

impl Policy {
    /// Checks everything an admin may get wrong, naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(q) = &self.quiet_hours {
            let (start, end) = (
                time_of_day("quiet_hours.start", &q.start)?,
                time_of_day("quiet_hours.end", &q.end)?,
            );
            if start == end {
                return Err(
                    "quiet_hours: start and end are the same time; to turn quiet hours off, set quiet_hours to null"
                        .into(),
                );
            }
        }
        if let Some(rate) = &self.bulk_rate {
            rate.check("bulk_rate")?;
        }
        if self.approvals_required > 3 {
            return Err("approvals_required: 0 to 3 admins".into());
        }
        if self.embed_origins.len() > 5 {
            return Err("embed_origins: at most 5".into());
        }
        for (i, origin) in self.embed_origins.iter().enumerate() {
            check_origin(origin).map_err(|e| format!("embed_origins[{i}]: {e}"))?;
        }
        if let Some(c) = &self.contact {
            if c.trim().is_empty() || c.chars().count() > 100 || c.chars().any(char::is_control) {
                return Err("contact: 1 to 100 characters, on one line".into());
            }
        }
        for (lang, lists) in &self.keywords {
            check_language("keywords", lang)?;
            let named = [
                ("opt_out", &lists.opt_out),
                ("refusals", &lists.refusals),
                ("opt_in", &lists.opt_in),
                ("confirm", &lists.confirm),
                ("help", &lists.help),
            ];
            for (name, list) in named {
                let Some(list) = list else { continue };
                let what = format!("keywords.{lang}.{name}");
                if list.is_empty() || list.len() > 100 {
                    return Err(format!("{what}: 1 to 100 entries"));
                }
                if let Some(bad) = list
                    .iter()
                    .find(|k| !k.chars().any(char::is_alphanumeric) || k.chars().count() > 60)
                {
                    return Err(format!(
                        "{what}: {bad:?} must hold a letter or digit and be at most 60 characters"
                    ));
                }
            }
        }
        for (lang, texts) in &self.replies {
            check_language("replies", lang)?;
            let named = [
                ("confirmation", &texts.confirmation),
                ("opt_out", &texts.opt_out),
                ("opt_in", &texts.opt_in),
                ("help", &texts.help),
                ("clarification", &texts.clarification),
                ("how_to_confirm", &texts.how_to_confirm),
            ];
            for (name, text) in named {
                let Some(text) = text else { continue };
                check_reply(&format!("replies.{lang}.{name}"), text)?;
            }
        }
        Ok(())
    }

    /// When a text for `purpose` queued now to someone in `zone` may go: `None` at once,
    /// or the end of the quiet hours it falls in. Reminders and bulk texts wait; an
    /// advocate's conversation waits only if the tenant says so; casewire's own answers
    /// to a client's keyword never wait.
    pub fn release(&self, purpose: Purpose, now: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        match self.holds(purpose) {
            true => self.quiet_hours.as_ref()?.release(now, zone),
            false => None,
        }
    }

    /// How long the provider may keep a text for `purpose` sent now to someone in `zone`
    /// in its queue (Twilio's `ValidityPeriod`) before it must drop it rather than deliver
    /// it late: until the recipient's next quiet hours begin for a text quiet hours hold
    /// (a court reminder is not delivered at midnight), an hour for the others (an
    /// advocate's text an hour late is better re-decided by the advocate; and after a
    /// crash, a text casewire cannot tell was taken waits this long before it may be sent
    /// again). In seconds, 60 to 36000 (Twilio's largest).
    pub fn valid_for(&self, purpose: Purpose, now: DateTime<Utc>, zone: Tz) -> u32 {
        const UNHELD: u32 = 3600;
        const MAX: i64 = 36_000;
        match (self.holds(purpose), &self.quiet_hours) {
            (true, Some(q)) => q
                .next_start(now, zone)
                .map_or(MAX, |start| (start - now).num_seconds().clamp(60, MAX))
                as u32,
            _ => UNHELD,
        }
    }

    /// Whether quiet hours hold texts for `purpose` at all.
    pub fn holds(&self, purpose: Purpose) -> bool {
        let Some(q) = &self.quiet_hours else {
            return false;
        };
        match purpose {
            Purpose::Reminder | Purpose::Bulk => true,
            Purpose::Conversation => q.conversation,
            Purpose::System => false,
        }
    }

    /// Whether a text for `purpose` may go to a number whose consent is `state`.
    pub fn allows(&self, purpose: Purpose, state: State) -> bool {
        match (purpose, state) {
            (Purpose::System, _) => true,
            (_, State::Revoked) => false,
            (_, State::Granted) => true,
            (Purpose::Conversation, _) => {
                self.consent.conversation == ConversationConsent::UnlessRevoked
            }
            (Purpose::Reminder | Purpose::Bulk, _) => false,
        }
    }

    /// Consent's answer for a text for `purpose` to `phone`, whose consent is `state`: whether
    /// it may go and, if not, what staff can do about it.
    pub fn answer(&self, purpose: Purpose, state: State, phone: &str) -> ConsentAnswer {
        let allowed = self.allows(purpose, state);
        let name = state.as_str();
        let reason = (!allowed).then(|| match (state, purpose) {
            (State::Revoked, _) => "the client opted out of texts (they replied STOP or asked to stop); \
                                    they must text START or YES to receive texts again"
                .to_string(),
            (_, Purpose::Conversation) => format!(
                "the organization's policy needs the client's consent before an advocate texts them, \
                 and this number's consent is {name}: ask with POST /v1/consents/{phone}/request, \
                 or record consent given in person with PUT /v1/consents/{phone}"
            ),
            _ => format!(
                "{} texts need the client's consent, and this number's consent is {name}: \
                 ask with POST /v1/consents/{phone}/request, or record consent given in person \
                 with PUT /v1/consents/{phone}",
                purpose.as_str()
            ),
        });
        ConsentAnswer {
            allowed,
            state,
            reason,
        }
    }
}

/// Consent's answer for one text: whether it may go, and if not, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentAnswer {
    pub allowed: bool,
    pub state: State,
    pub reason: Option<String>,
}

impl ConsentAnswer {
    /// Why it may not go.
    pub fn reason(&self) -> String {
        self.reason
            .clone()
            .unwrap_or_else(|| "the client's consent does not allow this text".into())
    }
}

fn check_reply(what: &str, text: &str) -> Result<(), String> {
    // Two segments of GSM-7: carriers' limit for these answers in practice.
    check_text(what, text, 306, &REPLY_VARIABLES)
}

impl QuietHours {
    fn window(&self) -> Option<(NaiveTime, NaiveTime)> {
        Some((
            time_of_day("start", &self.start).ok()?,
            time_of_day("end", &self.end).ok()?,
        ))
    }

    /// When the next quiet hours begin after `now`, in `zone`'s local time; `now` itself
    /// when they already hold.
    pub fn next_start(&self, now: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let (start, _) = self.window()?;
        if self.release(now, zone).is_some() {
            return Some(now);
        }
        let local = now.with_timezone(&zone);
        let day = match local.time() < start {
            true => local.date_naive(),
            false => local.date_naive() + Duration::days(1),
        };
        Some(local_to_utc(zone, day.and_time(start)))
    }

    /// The end of the quiet hours `now` falls in, in `zone`'s local time, or `None` when
    /// `now` is outside them.
    pub fn release(&self, now: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let (start, end) = self.window()?;
        let local = now.with_timezone(&zone);
        let t = local.time();
        let quiet = if start < end {
            start <= t && t < end
        } else {
            t >= start || t < end
        };
        if !quiet {
            return None;
        }
        // The end is today when it is still ahead, else tomorrow.
        let day = if t < end {
            local.date_naive()
        } else {
            local.date_naive() + Duration::days(1)
        };
        Some(local_to_utc(zone, day.and_time(end)))
    }
}

/// An origin as a browser names it in `frame-ancestors`: `https://`, a lower-case host
/// name, and a port if not 443; nothing else (no path, no wildcard, no `http://`, which
/// would let anyone on the network between pose as the CMS).
fn check_origin(origin: &str) -> Result<(), String> {
    let wrong = || format!("{origin:?} is not an origin such as https://cms.example.org");
    let rest = origin.strip_prefix("https://").ok_or_else(wrong)?;
    let (host, port) = match rest.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0) && !p.starts_with('0'));
    if host.len() > 253 || !host.contains('.') || !labels_ok || !port_ok {
        return Err(wrong());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn default_quiet() -> QuietHours {
        default_quiet_hours().unwrap()
    }

    #[test]
    fn embed_origins_are_https_origins_only() {
        for good in [
            "https://cms.example.org",
            "https://legalserver.example.org:8443",
        ] {
            assert_eq!(check_origin(good), Ok(()), "{good}");
        }
        for bad in [
            "http://cms.example.org",
            "https://cms.example.org/",
            "https://cms.example.org/thread",
            "https://*.example.org",
            "https://CMS.example.org",
            "https://cms.example.org:0",
            "https://localhost",
            "cms.example.org",
            "https://cms.example.org 'unsafe-inline'",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
        let many = Policy {
            embed_origins: vec!["https://a.example.org".into(); 6],
            ..Policy::default()
        };
        assert!(many.validate().unwrap_err().contains("at most 5"));
    }

    #[test]
    fn a_held_text_may_wait_in_the_providers_queue_only_until_quiet_hours_begin() {
        let policy = Policy::default();
        let chicago = chrono_tz::America::Chicago;
        // 09:00 in Chicago: a reminder may wait until 21:00, twelve hours, capped at ten.
        assert_eq!(
            policy.valid_for(Purpose::Reminder, at("2026-12-02T15:00:00Z"), chicago),
            36_000
        );
        // 19:30 in Chicago: an hour and a half.
        assert_eq!(
            policy.valid_for(Purpose::Bulk, at("2026-12-03T01:30:00Z"), chicago),
            5_400
        );
        // An advocate's text and casewire's answers: an hour.
        assert_eq!(
            policy.valid_for(Purpose::Conversation, at("2026-12-03T01:30:00Z"), chicago),
            3_600
        );
        assert_eq!(
            policy.valid_for(Purpose::System, at("2026-12-03T01:30:00Z"), chicago),
            3_600
        );
        // A reminder caught at the edge of quiet hours: the least Twilio is given.
        assert_eq!(
            policy.valid_for(Purpose::Reminder, at("2026-12-03T03:00:00Z"), chicago),
            60
        );
    }

    #[test]
    fn a_text_at_night_waits_until_eight_in_the_recipients_zone() {
        let q = default_quiet();
        // 22:30 in Chicago (CST, UTC-6) waits for 08:00 Chicago the next morning.
        assert_eq!(
            q.release(at("2026-12-02T04:30:00Z"), chrono_tz::America::Chicago),
            Some(at("2026-12-02T14:00:00Z"))
        );
        // The same instant is 20:30 in Los Angeles: no wait.
        assert_eq!(
            q.release(at("2026-12-02T04:30:00Z"), chrono_tz::America::Los_Angeles),
            None
        );
        // 06:00 in New York waits two hours, the same day.
        assert_eq!(
            q.release(at("2026-12-02T11:00:00Z"), chrono_tz::America::New_York),
            Some(at("2026-12-02T13:00:00Z"))
        );
    }

    #[test]
    fn the_edges_of_the_window() {
        let q = default_quiet();
        let ny = chrono_tz::America::New_York;
        // 20:59:59 goes; 21:00 waits; 07:59 waits; 08:00 goes.
        assert_eq!(q.release(at("2026-12-03T01:59:59Z"), ny), None);
        assert!(q.release(at("2026-12-03T02:00:00Z"), ny).is_some());
        assert_eq!(
            q.release(at("2026-12-03T12:59:00Z"), ny),
            Some(at("2026-12-03T13:00:00Z"))
        );
        assert_eq!(q.release(at("2026-12-03T13:00:00Z"), ny), None);
    }

    #[test]
    fn across_a_dst_change_eight_stays_eight_local() {
        let q = default_quiet();
        let ny = chrono_tz::America::New_York;
        // Saturday 2026-03-07 22:00 EST; clocks spring forward that night; 08:00 is EDT (UTC-4).
        assert_eq!(
            q.release(at("2026-03-08T03:00:00Z"), ny),
            Some(at("2026-03-08T12:00:00Z"))
        );
        // Saturday 2026-10-31 23:00 EDT; clocks fall back; 08:00 is EST (UTC-5).
        assert_eq!(
            q.release(at("2026-11-01T03:00:00Z"), ny),
            Some(at("2026-11-01T13:00:00Z"))
        );
    }

    #[test]
    fn a_window_inside_one_day_and_an_end_skipped_by_dst() {
        let q = QuietHours {
            start: "12:00".into(),
            end: "13:00".into(),
            conversation: false,
        };
        let utc = chrono_tz::UTC;
        assert_eq!(
            q.release(at("2026-12-03T12:30:00Z"), utc),
            Some(at("2026-12-03T13:00:00Z"))
        );
        assert_eq!(q.release(at("2026-12-03T13:30:00Z"), utc), None);
        // 02:30 does not exist in New York on 2026-03-08: the release is 03:00 EDT.
        let q = QuietHours {
            start: "01:00".into(),
            end: "02:30".into(),
            conversation: false,
        };
        assert_eq!(
            q.release(at("2026-03-08T06:30:00Z"), chrono_tz::America::New_York),
            Some(at("2026-03-08T07:00:00Z"))
        );
    }

    #[test]
    fn which_purposes_each_consent_state_allows() {
        let mut p = Policy::default();
        let table = |p: &Policy| {
            State::ALL.map(|s| {
                [
                    Purpose::Conversation,
                    Purpose::Reminder,
                    Purpose::Bulk,
                    Purpose::System,
                ]
                .map(|purpose| p.allows(purpose, s))
            })
        };
        assert_eq!(
            table(&p),
            [
                [true, false, false, true],
                [true, false, false, true],
                [true, true, true, true],
                [false, false, false, true],
            ]
        );
        p.consent.conversation = ConversationConsent::RequireGranted;
        assert_eq!(table(&p)[0], [false, false, false, true]);
        assert_eq!(table(&p)[2], [true, true, true, true]);
    }

    #[test]
    fn only_reminders_and_bulk_wait_unless_the_tenant_holds_conversations_too() {
        let night = at("2026-12-02T04:30:00Z");
        let chicago = chrono_tz::America::Chicago;
        let mut p = Policy::default();
        assert!(p.release(Purpose::Reminder, night, chicago).is_some());
        assert!(p.release(Purpose::Bulk, night, chicago).is_some());
        assert_eq!(p.release(Purpose::Conversation, night, chicago), None);
        assert_eq!(p.release(Purpose::System, night, chicago), None);
        p.quiet_hours.as_mut().unwrap().conversation = true;
        assert!(p.release(Purpose::Conversation, night, chicago).is_some());
        assert_eq!(p.release(Purpose::System, night, chicago), None);
        p.quiet_hours = None;
        assert_eq!(p.release(Purpose::Reminder, night, chicago), None);
    }

    #[test]
    fn a_policy_names_what_is_wrong() {
        let parse = |v: serde_json::Value| -> Result<Policy, String> {
            let p: Policy = serde_json::from_value(v).map_err(|e| e.to_string())?;
            p.validate()?;
            Ok(p)
        };
        assert_eq!(parse(serde_json::json!({})).unwrap(), Policy::default());
        assert_eq!(
            parse(serde_json::json!({ "quiet_hours": null }))
                .unwrap()
                .quiet_hours,
            None
        );
        let err = |v| parse(v).unwrap_err();
        assert!(
            err(serde_json::json!({ "consent": { "conversation": "always" } }))
                .contains("unknown variant `always`")
        );
        assert!(err(serde_json::json!({ "quiet": {} })).contains("unknown field `quiet`"));
        assert_eq!(
            err(serde_json::json!({ "quiet_hours": { "start": "9pm", "end": "08:00" } })),
            "quiet_hours.start: \"9pm\" is not a time of day as HH:MM, such as 21:00 or 08:30"
        );
        // As documented, HH:MM: a lenient parser would take "9:00" and "21:0".
        for loose in ["9:00", "21:0", "021:00", "24:00"] {
            let e = err(serde_json::json!({ "quiet_hours": { "start": "21:00", "end": loose } }));
            assert!(e.starts_with("quiet_hours.end:"), "{loose}: {e}");
        }
        assert_eq!(
            err(serde_json::json!({ "replies": { "en": { "help": "Call {phone}" } } })),
            "replies.en.help: unknown variable {phone}; use {organization} or {contact}"
        );
        assert_eq!(
            err(serde_json::json!({ "keywords": { "english": { "help": ["HELP"] } } })),
            "keywords: \"english\" is not a language code such as en or es"
        );
        assert_eq!(
            err(serde_json::json!({ "keywords": { "en": { "opt_out": ["!!"] } } })),
            "keywords.en.opt_out: \"!!\" must hold a letter or digit and be at most 60 characters"
        );
        // Campaigns go at one segment a second unless the organization says otherwise.
        let rate = |v| parse(v).unwrap().bulk_rate;
        assert_eq!(rate(serde_json::json!({})).unwrap().per_second, Some(1.0));
        assert_eq!(rate(serde_json::json!({ "bulk_rate": null })), None);
        assert_eq!(
            err(serde_json::json!({ "bulk_rate": { "per_second": -1 } })),
            "bulk_rate.per_second: more than 0 and at most 1000 segments"
        );
    }
}
