//! When reminders go before each kind of appointment, and their wording: a tenant's
//! reminder policy (`PUT /v1/tenants/{id}/reminder-policy`).

use std::collections::BTreeMap;

use casewire_events::appointment::AppointmentKind;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::wording::{check_language, check_text, local_to_utc};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReminderPolicy {
    pub court_date: KindPolicy,
    pub meeting: KindPolicy,
    pub deadline: KindPolicy,
}

/// One kind's reminders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KindPolicy {
    /// ISO 8601 durations before the appointment: "P7D", "P1D", "PT2H".
    pub offsets: Vec<String>,
    /// Wording by language, replacing casewire's; variables: {client_first_name}, {date},
    /// {time}, {location}, {organization}, {advocate}.
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
}

impl KindPolicy {
    fn with(offsets: &[&str]) -> Self {
        KindPolicy {
            offsets: offsets.iter().map(|o| o.to_string()).collect(),
            templates: BTreeMap::new(),
        }
    }
}

impl Default for ReminderPolicy {
    fn default() -> Self {
        ReminderPolicy {
            court_date: KindPolicy::with(&["P7D", "P1D"]),
            meeting: KindPolicy::with(&["P1D", "PT2H"]),
            deadline: KindPolicy::with(&["P7D", "P1D"]),
        }
    }
}

/// The variables a reminder's wording may use.
pub const TEMPLATE_VARIABLES: [&str; 6] = [
    "client_first_name",
    "date",
    "time",
    "location",
    "organization",
    "advocate",
];

/// How long before an appointment: whole days and weeks are counted on the calendar of
/// the appointment's zone (a reminder "P1D" before 09:00 goes at 09:00 the day before,
/// across a DST change too); hours and minutes are counted on the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offset {
    pub days: i64,
    pub minutes: i64,
}

impl Offset {
    /// Parses `PnW`, `PnD`, `PTnH`, `PTnM` and their combinations ("P1DT12H").
    pub fn parse(s: &str) -> Result<Offset, String> {
        let bad = || {
            format!("{s:?} is not a duration such as P7D, P1D, PT2H or PT30M (weeks, days, hours, minutes)")
        };
        let rest = s.strip_prefix('P').ok_or_else(bad)?;
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) if !t.is_empty() => (d, Some(t)),
            Some(_) => return Err(bad()),
            None => (rest, None),
        };
        let mut offset = Offset {
            days: 0,
            minutes: 0,
        };
        let mut parts = |text: &str, units: &[(char, bool, i64)]| -> Result<(), String> {
            let mut number = String::new();
            let mut last = 0;
            for c in text.chars() {
                if c.is_ascii_digit() {
                    number.push(c);
                    continue;
                }
                let i = units.iter().position(|(u, ..)| *u == c).ok_or_else(bad)?;
                if number.is_empty() || number.len() > 5 || i < last {
                    return Err(bad());
                }
                last = i + 1;
                let n: i64 = number.parse().map_err(|_| bad())?;
                let (_, is_days, factor) = units[i];
                if is_days {
                    offset.days += n * factor;
                } else {
                    offset.minutes += n * factor;
                }
                number.clear();
            }
            if number.is_empty() {
                Ok(())
            } else {
                Err(bad())
            }
        };
        parts(date, &[('W', true, 7), ('D', true, 1)])?;
        if let Some(t) = time {
            parts(t, &[('H', false, 60), ('M', false, 1)])?;
        }
        if offset.days == 0 && offset.minutes == 0 {
            return Err(bad());
        }
        if offset.days * 1440 + offset.minutes > 90 * 1440 {
            return Err(format!("{s:?} is more than 90 days"));
        }
        Ok(offset)
    }

    /// The offset as a span of time, days counted as 24 hours: for periods that are not
    /// tied to a calendar (a survey's time to answer, "texted within").
    pub fn span(&self) -> Duration {
        Duration::days(self.days) + Duration::minutes(self.minutes)
    }

    /// When a reminder this long before `starts_at` goes, in `zone`'s calendar.
    pub fn before(&self, starts_at: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        let local = starts_at.with_timezone(&zone).naive_local() - Duration::days(self.days);
        local_to_utc(zone, local) - Duration::minutes(self.minutes)
    }
}

impl ReminderPolicy {
    pub fn kind(&self, kind: AppointmentKind) -> &KindPolicy {
        match kind {
            AppointmentKind::CourtDate => &self.court_date,
            AppointmentKind::Meeting => &self.meeting,
            AppointmentKind::Deadline => &self.deadline,
        }
    }

    /// Checks everything an admin may get wrong, naming the field.
    pub fn validate(&self) -> Result<(), String> {
        for kind in AppointmentKind::ALL {
            let k = self.kind(kind);
            let name = kind.as_str();
            if k.offsets.len() > 10 {
                return Err(format!("{name}.offsets: at most 10"));
            }
            for (i, o) in k.offsets.iter().enumerate() {
                Offset::parse(o).map_err(|e| format!("{name}.offsets[{i}]: {e}"))?;
                if k.offsets[..i].contains(o) {
                    return Err(format!("{name}.offsets[{i}]: {o:?} is given twice"));
                }
            }
            for (language, text) in &k.templates {
                check_template(&format!("{name}.templates.{language}"), language, text)?;
            }
        }
        Ok(())
    }

    /// The policy with `text` as the wording of `kind` in `language`, checked as a saved
    /// one would be: for a preview of wording not saved yet.
    pub fn with_wording(
        mut self,
        kind: AppointmentKind,
        language: &str,
        text: &str,
    ) -> Result<ReminderPolicy, String> {
        check_template("template", language, text)?;
        let k = match kind {
            AppointmentKind::CourtDate => &mut self.court_date,
            AppointmentKind::Meeting => &mut self.meeting,
            AppointmentKind::Deadline => &mut self.deadline,
        };
        k.templates.insert(language.to_string(), text.to_string());
        Ok(self)
    }
}

fn check_template(what: &str, language: &str, text: &str) -> Result<(), String> {
    check_language(what, language)?;
    check_text(what, text, 480, &TEMPLATE_VARIABLES)?;
    // Every reminder says who is sending and how to stop.
    if !text.contains("{organization}") {
        return Err(format!(
            "{what}: must name the sender with {{organization}}"
        ));
    }
    let upper = text.to_uppercase();
    if !upper.contains("STOP") && !upper.contains("PARAR") {
        return Err(format!("{what}: must say how to stop (Reply STOP …)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn wording_tried_is_checked_and_replaces_only_its_kind_and_language() {
        let court = AppointmentKind::CourtDate;
        let tried =
            ReminderPolicy::default().with_wording(court, "es", "{organization}: {date}. PARAR");
        let tried = tried.unwrap();
        assert_eq!(
            tried.court_date.templates["es"],
            "{organization}: {date}. PARAR"
        );
        assert!(tried.meeting.templates.is_empty() && tried.court_date.templates.len() == 1);
        let unsigned = ReminderPolicy::default().with_wording(court, "en", "Court {date}. STOP");
        assert!(unsigned.unwrap_err().contains("{organization}"));
    }

    #[test]
    fn offsets_parse_and_name_what_is_wrong() {
        let days = |d, m| {
            Ok(Offset {
                days: d,
                minutes: m,
            })
        };
        assert_eq!(Offset::parse("P7D"), days(7, 0));
        assert_eq!(Offset::parse("P2W"), days(14, 0));
        assert_eq!(Offset::parse("PT2H"), days(0, 120));
        assert_eq!(Offset::parse("P1DT12H30M"), days(1, 750));
        for bad in [
            "7D", "P", "PT", "P1M", "P1Y", "PT2D", "P1H", "P0D", "P1D2W", "P-1D",
        ] {
            assert!(Offset::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Offset::parse("P91D").unwrap_err(),
            "\"P91D\" is more than 90 days"
        );
    }

    #[test]
    fn a_day_before_is_the_same_wall_time_the_day_before_even_across_dst() {
        let chicago = chrono_tz::America::Chicago;
        let p1d = Offset::parse("P1D").unwrap();
        // Monday 2026-03-09 09:00 CDT: the day before, at 09:00.
        assert_eq!(
            p1d.before(at("2026-03-09T14:00:00Z"), chicago),
            at("2026-03-08T14:00:00Z")
        );
        // Tuesday 2026-03-10 09:00 CDT: a week before is Tuesday 03-03 09:00 CST, across
        // the change, 167 hours earlier and not 168.
        assert_eq!(
            Offset::parse("P7D")
                .unwrap()
                .before(at("2026-03-10T14:00:00Z"), chicago),
            at("2026-03-03T15:00:00Z")
        );
        // Two hours before is on the clock.
        assert_eq!(
            Offset::parse("PT2H")
                .unwrap()
                .before(at("2026-03-08T08:00:00Z"), chicago),
            at("2026-03-08T06:00:00Z")
        );
    }

    #[test]
    fn a_policy_names_what_is_wrong() {
        let err = |v: serde_json::Value| {
            let p: ReminderPolicy = serde_json::from_value(v).map_err(|e| e.to_string())?;
            p.validate()
        };
        assert_eq!(err(serde_json::json!({})), Ok(()));
        assert_eq!(
            err(serde_json::json!({"court_date": {"offsets": ["P7D", "tomorrow"]}})),
            Err("court_date.offsets[1]: \"tomorrow\" is not a duration such as P7D, P1D, PT2H or PT30M (weeks, days, hours, minutes)".into())
        );
        assert_eq!(
            err(
                serde_json::json!({"meeting": {"offsets": ["P1D"], "templates": {"en": "See you {date}. Reply STOP to stop."}}})
            ),
            Err("meeting.templates.en: must name the sender with {organization}".into())
        );
        assert_eq!(
            err(serde_json::json!({"meeting": {"offsets": ["P1D"], "templates": {"en": "{organization}: see you {when}. Reply STOP to stop."}}})),
            Err("meeting.templates.en: unknown variable {when}; use {client_first_name}, {date}, {time}, {location}, {organization} or {advocate}".into())
        );
        assert!(err(serde_json::json!({"hearing": {"offsets": []}})).is_err());
    }
}
