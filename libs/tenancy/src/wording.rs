//! Checks shared by the settings a tenant writes in words (its replies and its reminder
//! templates), and the one way a local wall time becomes an instant.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A language code such as en or es: the key of a tenant's keywords, replies or templates.
pub fn check_language(what: &str, tag: &str) -> Result<(), String> {
    if (2..=3).contains(&tag.len()) && tag.chars().all(|c| c.is_ascii_lowercase()) {
        Ok(())
    } else {
        Err(format!(
            "{what}: {tag:?} is not a language code such as en or es"
        ))
    }
}

/// A text of 1 to `max` characters whose `{placeholders}` are all among `variables`.
pub fn check_text(what: &str, text: &str, max: usize, variables: &[&str]) -> Result<(), String> {
    if text.trim().is_empty() || text.chars().count() > max {
        return Err(format!("{what}: 1 to {max} characters"));
    }
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("{what}: a {{ without its }}"))?;
        let name = &after[..close];
        if !variables.contains(&name) {
            let names: Vec<String> = variables.iter().map(|v| format!("{{{v}}}")).collect();
            let listed = match names.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => "none".into(),
            };
            return Err(format!("{what}: unknown variable {{{name}}}; use {listed}"));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// The instant a wall time in `zone` names. A time a DST change skips does not exist that
/// day: it is the first minute after the gap; a time it repeats is the earlier one.
pub(crate) fn local_to_utc(zone: Tz, mut at: NaiveDateTime) -> DateTime<Utc> {
    loop {
        match zone.from_local_datetime(&at) {
            chrono::LocalResult::Single(t) => return t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(earliest, _) => return earliest.with_timezone(&Utc),
            chrono::LocalResult::None => at += Duration::minutes(1),
        }
    }
}
