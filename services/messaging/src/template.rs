//! A reminder's words: the tenant's template for the kind and the client's language (else
//! casewire's), with the date and time written for that language in the appointment's
//! zone. Every default says who is sending and how to stop, and stays in GSM-7 (no
//! accents outside it) so that it costs one or two segments.

use casewire_events::appointment::AppointmentKind;
use casewire_tenancy::ReminderPolicy;
use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

/// What a reminder says, before it is worded.
pub struct Facts<'a> {
    pub kind: AppointmentKind,
    /// The client's language (BCP 47); its primary tag picks the template.
    pub language: &'a str,
    pub starts_at: DateTime<Utc>,
    pub zone: Tz,
    pub client_name: Option<&'a str>,
    pub location: Option<&'a str>,
    pub note: Option<&'a str>,
    pub organization: &'a str,
    pub advocate: Option<&'a str>,
}

fn default_template(kind: AppointmentKind, language: &str) -> Option<&'static str> {
    use AppointmentKind as K;
    Some(match (language, kind) {
        ("en", K::CourtDate) => {
            "{organization}: Hi {client_first_name}, your court date is {date} at {time}, {location}. Reply STOP to stop texts."
        }
        ("en", K::Meeting) => {
            "{organization}: Hi {client_first_name}, you have a meeting with {advocate} on {date} at {time}, {location}. Reply STOP to stop texts."
        }
        ("en", K::Deadline) => {
            "{organization}: Hi {client_first_name}, a deadline in your case is {date} at {time}. Reply STOP to stop texts."
        }
        ("es", K::CourtDate) => {
            "{organization}: Hola {client_first_name}, su cita en la corte es el {date} a las {time}, {location}. Responda PARAR para no recibir mensajes."
        }
        ("es", K::Meeting) => {
            "{organization}: Hola {client_first_name}, tiene una reunion con {advocate} el {date} a las {time}, {location}. Responda PARAR para no recibir mensajes."
        }
        ("es", K::Deadline) => {
            "{organization}: Hola {client_first_name}, una fecha limite de su caso es el {date} a las {time}. Responda PARAR para no recibir mensajes."
        }
        _ => return None,
    })
}

const EN_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
// Without accents (miercoles, sabado): GSM-7 keeps the text at 160 characters a segment.
const ES_DAYS: [&str; 7] = [
    "lunes",
    "martes",
    "miercoles",
    "jueves",
    "viernes",
    "sabado",
    "domingo",
];
const ES_MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// ("Monday, December 14", "9:00 AM") or ("lunes 14 de diciembre", "9:00").
fn date_and_time(at: DateTime<Utc>, zone: Tz, language: &str) -> (String, String) {
    let local = at.with_timezone(&zone);
    let weekday = local.weekday().num_days_from_monday() as usize;
    let month = local.month0() as usize;
    match language {
        "es" => (
            format!(
                "{} {} de {}",
                ES_DAYS[weekday],
                local.day(),
                ES_MONTHS[month]
            ),
            format!("{}:{:02}", local.hour(), local.minute()),
        ),
        _ => {
            let (pm, hour) = local.hour12();
            (
                format!("{}, {} {}", EN_DAYS[weekday], EN_MONTHS[month], local.day()),
                format!(
                    "{hour}:{:02} {}",
                    local.minute(),
                    if pm { "PM" } else { "AM" }
                ),
            )
        }
    }
}

/// The reminder's text.
pub fn render(facts: &Facts, policy: &ReminderPolicy) -> String {
    let primary = facts.language.split('-').next().unwrap_or("en");
    let own = policy.kind(facts.kind).templates.get(primary);
    let (template, language) = match (own, default_template(facts.kind, primary)) {
        (Some(own), _) => (own.as_str(), primary),
        (None, Some(default)) => (default, primary),
        (None, None) => (default_template(facts.kind, "en").unwrap_or_default(), "en"),
    };
    let (date, time) = date_and_time(facts.starts_at, facts.zone, language);
    let (someone, somewhere, you) = match language {
        "es" => ("su asesor legal", "en el lugar indicado", ""),
        _ => ("your advocate", "at the place on your notice", "there"),
    };
    let first_name = facts
        .client_name
        .and_then(|n| n.split_whitespace().next())
        .unwrap_or(you);
    let text = template
        .replace("{organization}", facts.organization)
        .replace("{client_first_name}", first_name)
        .replace("{date}", &date)
        .replace("{time}", &time)
        .replace("{location}", facts.location.unwrap_or(somewhere))
        .replace("{advocate}", facts.advocate.unwrap_or(someone))
        .replace(" ,", ",");
    match facts.note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(note) => format!("{text} {note}"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(language: &str) -> Facts<'static> {
        Facts {
            kind: AppointmentKind::CourtDate,
            language: if language == "es" { "es" } else { "en" },
            // 09:00 in Chicago.
            starts_at: "2026-12-14T15:00:00Z".parse().unwrap(),
            zone: chrono_tz::America::Chicago,
            client_name: Some("Ana Díaz"),
            location: Some("Daley Center, room 1402"),
            note: None,
            organization: "Prairie Legal Aid",
            advocate: Some("Ms. Lee"),
        }
    }

    #[test]
    fn a_court_date_in_english_and_spanish() {
        let policy = ReminderPolicy::default();
        assert_eq!(
            render(&facts("en"), &policy),
            "Prairie Legal Aid: Hi Ana, your court date is Monday, December 14 at 9:00 AM, Daley Center, room 1402. Reply STOP to stop texts."
        );
        assert_eq!(
            render(&facts("es"), &policy),
            "Prairie Legal Aid: Hola Ana, su cita en la corte es el lunes 14 de diciembre a las 9:00, Daley Center, room 1402. Responda PARAR para no recibir mensajes."
        );
    }

    #[test]
    fn the_time_is_the_appointments_zone_and_the_tenants_template_wins() {
        let mut policy = ReminderPolicy::default();
        policy.court_date.templates.insert(
            "en".into(),
            "{organization}: court {date} {time}. Reply STOP to stop.".into(),
        );
        let f = Facts {
            zone: chrono_tz::America::Los_Angeles,
            location: None,
            ..facts("en")
        };
        assert_eq!(
            render(&f, &policy),
            "Prairie Legal Aid: court Monday, December 14 7:00 AM. Reply STOP to stop."
        );
    }

    #[test]
    fn missing_facts_read_naturally_and_a_note_is_added() {
        let f = Facts {
            kind: AppointmentKind::Meeting,
            client_name: None,
            location: None,
            advocate: None,
            note: Some("Bring your lease."),
            ..facts("en")
        };
        assert_eq!(
            render(&f, &ReminderPolicy::default()),
            "Prairie Legal Aid: Hi there, you have a meeting with your advocate on Monday, December 14 at 9:00 AM, at the place on your notice. Reply STOP to stop texts. Bring your lease."
        );
    }

    #[test]
    fn every_default_stays_in_gsm_7() {
        for language in ["en", "es"] {
            for kind in AppointmentKind::ALL {
                let text = render(
                    &Facts {
                        kind,
                        ..facts(language)
                    },
                    &ReminderPolicy::default(),
                );
                let count = casewire_sms::segments::count(&text);
                assert_eq!(
                    count.encoding,
                    casewire_sms::segments::Encoding::Gsm7,
                    "{text}"
                );
                assert!(count.segments <= 2, "{text}");
            }
        }
    }
}
