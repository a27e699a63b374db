//! A survey reply read as an answer: the pure reading of what a client texted back to a
//! question, in English and Spanish, with the words people put around an answer ("yes
//! thank you", "I'd say 4", "la b"). What does not read as an answer is `None`: the survey
//! asks once more, then keeps the reply as text.
//!
//! STOP, HELP and the other keywords are not answers: the survey worker (surveys.rs) lets
//! `casewire_keywords` read every reply first, and a keyword never reaches this.

use casewire_events::survey::{Answer, AnswerKind};

const YES: &[&str] = &[
    "y", "yes", "yeah", "yep", "yup", "sure", "ok", "okay", "si", "claro", "bueno",
];
const NO: &[&str] = &["n", "no", "nope", "nah", "not"];
/// Neither yes nor no, though some hold a "no": asked again, then kept as words.
const UNSURE: &[&str] = &[
    "not sure",
    "don t know",
    "dont know",
    "no idea",
    "maybe",
    "no se",
    "no lo se",
    "no estoy seguro",
    "no estoy segura",
    "tal vez",
    "quiza",
    "quizas",
];
const NUMBERS: &[(&str, i64)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("cero", 0),
    ("uno", 1),
    ("una", 1),
    ("dos", 2),
    ("tres", 3),
    ("cuatro", 4),
    ("cinco", 5),
    ("seis", 6),
    ("siete", 7),
    ("ocho", 8),
    ("nueve", 9),
    ("diez", 10),
];

/// The reply in lower case, accents taken off (sí, SÍ: si), cut into words at anything
/// that is not a letter or a digit.
fn words(reply: &str) -> Vec<String> {
    let plain: String = reply
        .to_lowercase()
        .chars()
        .map(casewire_sms::words::fold)
        .collect();
    plain
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The answer `reply` gives to a question of `kind`, or `None` when it gives none (or two).
pub fn parse(kind: &AnswerKind, reply: &str) -> Option<Answer> {
    let words = words(reply);
    match kind {
        AnswerKind::FreeText => (!reply.trim().is_empty()).then_some(Answer::Text),
        AnswerKind::YesNo => {
            // "No lo sé" holds a no and says neither.
            let said = format!(" {} ", words.join(" "));
            if UNSURE.iter().any(|u| said.contains(&format!(" {u} "))) {
                return None;
            }
            let yes = words.iter().any(|w| YES.contains(&w.as_str()));
            let no = words.iter().any(|w| NO.contains(&w.as_str()));
            match (yes, no) {
                (true, false) => Some(Answer::Yes),
                (false, true) => Some(Answer::No),
                _ => None,
            }
        }
        AnswerKind::Scale { min, max } => {
            let numbers: Vec<i64> = words.iter().filter_map(|w| number(w)).collect();
            // One number in range: "4", "I'd say 4", "4 of 5" reads as 4 on a 1-5 scale.
            let in_range: Vec<i64> = numbers
                .iter()
                .copied()
                .filter(|n| (*min..=*max).contains(n))
                .collect();
            match in_range.as_slice() {
                [n] => Some(Answer::Number(*n)),
                [n, rest @ ..] if numbers.len() >= 2 && rest.iter().all(|r| r == max) => {
                    Some(Answer::Number(*n))
                }
                _ => None,
            }
        }
        AnswerKind::Choice { options } => {
            let by_label = |w: &str| -> Option<usize> {
                let mut chars = w.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if c.is_ascii_lowercase() => {
                        let i = (c as u8 - b'a') as usize;
                        (i < options.len()).then_some(i)
                    }
                    _ => number(w)
                        .and_then(|n| usize::try_from(n).ok())
                        .filter(|n| (1..=options.len()).contains(n))
                        .map(|n| n - 1),
                }
            };
            // The option's own words, else a single letter or number ("la b", "2").
            let reply_words = words.join(" ");
            let named: Vec<usize> = options
                .iter()
                .enumerate()
                .filter(|(_, o)| {
                    let o = self::words(o).join(" ");
                    !o.is_empty() && format!(" {reply_words} ").contains(&format!(" {o} "))
                })
                .map(|(i, _)| i)
                .collect();
            if let [i] = named.as_slice() {
                return Some(Answer::Option(*i as u32));
            }
            let labels: Vec<usize> = words.iter().filter_map(|w| by_label(w)).collect();
            match labels.as_slice() {
                [i] => Some(Answer::Option(*i as u32)),
                _ => None,
            }
        }
    }
}

/// A whole number written in digits, or as a word from zero to ten in English or Spanish.
fn number(word: &str) -> Option<i64> {
    word.parse()
        .ok()
        .or_else(|| NUMBERS.iter().find(|(w, _)| *w == word).map(|(_, n)| *n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_and_no_in_english_and_spanish_with_words_around_them() {
        let yes_no = AnswerKind::YesNo;
        for (reply, answer) in [
            ("Y", Some(Answer::Yes)),
            ("yes", Some(Answer::Yes)),
            ("YES thank you!", Some(Answer::Yes)),
            ("Sí", Some(Answer::Yes)),
            ("si, gracias", Some(Answer::Yes)),
            ("SÍ", Some(Answer::Yes)),
            ("n", Some(Answer::No)),
            ("No thanks", Some(Answer::No)),
            ("no, gracias", Some(Answer::No)),
            ("yes and no", None),
            ("No lo sé", None),
            ("I don't know", None),
            ("not sure", None),
            ("tal vez", None),
            ("maybe", None),
            ("it's fine", None),
            ("", None),
        ] {
            assert_eq!(parse(&yes_no, reply), answer, "{reply:?}");
        }
    }

    #[test]
    fn a_scale_takes_one_number_in_range_in_digits_or_words() {
        let scale = AnswerKind::Scale { min: 1, max: 5 };
        for (reply, answer) in [
            ("4", Some(Answer::Number(4))),
            ("I'd say 4", Some(Answer::Number(4))),
            ("4/5", Some(Answer::Number(4))),
            ("4 out of 5", Some(Answer::Number(4))),
            ("cuatro", Some(Answer::Number(4))),
            ("Five!", Some(Answer::Number(5))),
            ("9", None),
            ("3 or 4", None),
            ("great", None),
        ] {
            assert_eq!(parse(&scale, reply), answer, "{reply:?}");
        }
    }

    #[test]
    fn a_choice_is_read_by_letter_number_or_its_words() {
        let choice = AnswerKind::Choice {
            options: vec!["Housing".into(), "Family law".into(), "Other".into()],
        };
        for (reply, answer) in [
            ("b", Some(Answer::Option(1))),
            ("B)", Some(Answer::Option(1))),
            ("la b", Some(Answer::Option(1))),
            ("2", Some(Answer::Option(1))),
            ("family law please", Some(Answer::Option(1))),
            ("housing", Some(Answer::Option(0))),
            ("d", None),
            ("4", None),
            ("a or b", None),
        ] {
            assert_eq!(parse(&choice, reply), answer, "{reply:?}");
        }
    }

    #[test]
    fn free_text_keeps_what_was_said() {
        assert_eq!(
            parse(&AnswerKind::FreeText, "  They called me back fast. "),
            Some(Answer::Text)
        );
        assert_eq!(parse(&AnswerKind::FreeText, "   "), None);
    }
}
