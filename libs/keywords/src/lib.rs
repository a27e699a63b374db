//! What a client's text means for consent: opt out, may opt out, opt in, confirm, agree,
//! ask for help, or nothing. The rule (issue 4, issue 11; FCC 2024: revocation "in any
//! reasonable manner"):
//!
//! 1. The text is normalized: letters folded to upper case, accents kept, punctuation and
//!    emoji around and between words dropped, runs of spaces made one.
//! 2. A keyword counts as the *whole* message, with only fillers around it ("please",
//!    "thanks", "now", "por favor"): "STOP", "stop!", "Stop please", "STOP STOP" are STOP;
//!    "I'll stop by the office tomorrow" is not.
//! 3. A tenant's refusal phrases count anywhere in the message.
//! 4. Beyond the lists, [`crate::grammar`] hears a request not to be texted written as
//!    people write it, in English and Spanish, and what may be one but is not clearly.
//! 5. A revocation wins over everything else; then an unclear one, a confirmation, an
//!    agreement, an opt-in and help.
//!
//! Each tenant may replace the lists and add languages ([`Keywords::for_policy`]), but the
//! opt-out keywords carriers require ([`REQUIRED_OPT_OUT`]) and the grammar always stay: a
//! revocation cannot be configured away. [`Keywords::default`] holds English and Spanish.

pub mod grammar;

use std::collections::BTreeMap;

use casewire_tenancy::Policy;

use crate::grammar::{Heard, Words};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    OptOut,
    /// May be an opt-out, is not clearly one: why, for staff.
    Unclear(&'static str),
    /// Y or YES to a confirmation request (also an opt-in once revoked).
    Confirm,
    /// A yes with words around it ("Yes please", "Sí, gracias"): confirms a pending
    /// request, and nothing else: an "ok" to "you are unsubscribed" does not subscribe.
    Agree,
    OptIn,
    Help,
}

/// One language's lists, normalized.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lists {
    pub opt_out: Vec<String>,
    /// Phrases that revoke wherever they appear in the message.
    pub refusals: Vec<String>,
    pub opt_in: Vec<String>,
    pub confirm: Vec<String>,
    pub help: Vec<String>,
}

/// The lists of every language casewire reads, by language code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keywords {
    pub by_language: BTreeMap<String, Lists>,
}

fn list(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| normalize(w)).collect()
}

/// The opt-out keywords carriers and the FCC require every sender to honor: a tenant's
/// lists add to them and can never remove them.
pub const REQUIRED_OPT_OUT: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];

fn english() -> Lists {
    let mut opt_out = list(&REQUIRED_OPT_OUT);
    opt_out.extend(list(&["OPT OUT", "OPT-OUT"]));
    Lists {
        opt_out,
        // casewire hears refusals by its grammar (crate::grammar); a tenant may add phrases.
        refusals: Vec::new(),
        opt_in: list(&["START", "UNSTOP", "YES", "SUBSCRIBE"]),
        confirm: list(&["Y", "YES"]),
        help: list(&["HELP", "INFO"]),
    }
}

fn spanish() -> Lists {
    Lists {
        opt_out: list(&["PARAR", "PARE", "ALTO", "BAJA", "CANCELAR", "DETENER"]),
        refusals: Vec::new(),
        opt_in: list(&["COMENZAR", "SÍ", "SI"]),
        confirm: list(&["SÍ", "SI"]),
        help: list(&["AYUDA"]),
    }
}

impl Default for Keywords {
    fn default() -> Self {
        Keywords {
            by_language: BTreeMap::from([("en".into(), english()), ("es".into(), spanish())]),
        }
    }
}

impl Keywords {
    /// casewire's lists with the tenant's replacements: a list the tenant gives replaces
    /// that language's list; a language it adds is read too.
    pub fn for_policy(policy: &Policy) -> Self {
        let mut k = Keywords::default();
        for (lang, given) in &policy.keywords {
            let lists = k.by_language.entry(lang.clone()).or_default();
            let replace = |into: &mut Vec<String>, from: &Option<Vec<String>>| {
                if let Some(words) = from {
                    *into = words.iter().map(|w| normalize(w)).collect();
                }
            };
            replace(&mut lists.opt_out, &given.opt_out);
            replace(&mut lists.refusals, &given.refusals);
            replace(&mut lists.opt_in, &given.opt_in);
            replace(&mut lists.confirm, &given.confirm);
            replace(&mut lists.help, &given.help);
        }
        let en = k.by_language.entry("en".into()).or_default();
        for required in list(&REQUIRED_OPT_OUT) {
            if !en.opt_out.contains(&required) {
                en.opt_out.push(required);
            }
        }
        k
    }
}

/// Upper case, words of letters and digits joined by single spaces; apostrophes and
/// hyphens inside a word are kept ("DON'T", "OPT-OUT").
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let chars: Vec<char> = text
        .chars()
        .map(|c| if c == '’' { '\'' } else { c })
        .collect();
    for (i, &c) in chars.iter().enumerate() {
        let inner = (c == '\'' || c == '-')
            && i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || inner {
            word.extend(c.to_uppercase());
        } else if !word.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&word);
            word.clear();
        }
    }
    if !word.is_empty() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// The message without the fillers around it, a keyword said twice said once: "STOP
/// please" → STOP, "stop stop" → STOP.
fn core(t: &str) -> String {
    let filler = |w: &&str| {
        let folded = Words::new(w);
        folded
            .single()
            .is_some_and(|f| grammar::FILLERS.contains(&f))
    };
    let mut words: Vec<&str> = t.split(' ').collect();
    while words.first().is_some_and(filler) {
        words.remove(0);
    }
    while words.last().is_some_and(filler) {
        words.pop();
    }
    words.dedup();
    words.join(" ")
}

/// Whether `phrase` appears in `text` as whole words.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    !phrase.is_empty() && format!(" {text} ").contains(&format!(" {phrase} "))
}

impl Keywords {
    /// What the text means, and the language of the keyword that said so (the language
    /// casewire answers in).
    pub fn classify<'a>(&'a self, text: &str) -> Option<(Meaning, &'a str)> {
        let t = normalize(text);
        if t.is_empty() {
            return None;
        }
        let core = core(&t);
        let listed = |meaning: Meaning| {
            self.by_language
                .iter()
                .find(|(_, lists)| lists.say(&t, &core, meaning))
                .map(|(lang, _)| (meaning, lang.as_str()))
        };
        // "Yes?" or "START?" asks; a question never grants consent.
        let asks = text.trim_end().ends_with('?');
        let heard = grammar::hear(&Words::new(text), asks).map(|(heard, lang)| {
            let meaning = match heard {
                Heard::Revocation => Meaning::OptOut,
                Heard::Unclear(why) => Meaning::Unclear(why),
                Heard::Agreement => Meaning::Agree,
            };
            (meaning, lang)
        });
        let heard_as = |wanted: fn(&Meaning) -> bool| heard.filter(|(m, _)| wanted(m));
        listed(Meaning::OptOut)
            .or(heard_as(|m| {
                matches!(m, Meaning::OptOut | Meaning::Unclear(_))
            }))
            .or_else(|| listed(Meaning::Confirm).filter(|_| !asks))
            .or(heard_as(|m| *m == Meaning::Agree))
            .or_else(|| listed(Meaning::OptIn).filter(|_| !asks))
            .or_else(|| listed(Meaning::Help))
    }
}

impl Lists {
    /// Whether the normalized text `t` (`core` without its fillers) means `meaning` by
    /// these lists.
    fn say(&self, t: &str, core: &str, meaning: Meaning) -> bool {
        let whole = |words: &[String]| words.iter().any(|w| w == t || w == core);
        match meaning {
            Meaning::OptOut => {
                whole(&self.opt_out) || self.refusals.iter().any(|p| contains_phrase(t, p))
            }
            Meaning::Confirm => whole(&self.confirm),
            Meaning::OptIn => whole(&self.opt_in),
            Meaning::Help => whole(&self.help),
            Meaning::Unclear(_) | Meaning::Agree => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meaning(text: &str) -> Option<Meaning> {
        Keywords::default().classify(text).map(|(m, _)| m)
    }

    #[test]
    fn opt_out_keywords_count_as_the_whole_message_in_any_case_with_punctuation_around() {
        for t in [
            "STOP",
            "stop",
            " Stop. ",
            "STOP!!!",
            "stopall",
            "Unsubscribe",
            "cancel",
            "END",
            "quit",
            "revoke",
            "optout",
            "opt out",
            "Opt-Out",
            "OPT  OUT",
            "🛑 stop 🛑",
            "Parar",
            "BAJA",
        ] {
            assert_eq!(meaning(t), Some(Meaning::OptOut), "{t:?}");
        }
    }

    /// `<language>: <phrase>` lines of a corpus file, without comments.
    fn corpus(file: &str) -> Vec<(&str, &str)> {
        file.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split_once(": ").expect("<language>: <phrase>"))
            .collect()
    }

    /// Every phrase of every corpus file heard as written: all misses reported at once.
    #[test]
    fn the_corpus_is_heard_as_written() {
        let k = Keywords::default();
        let mut misses = Vec::new();
        type Heard<'a> = Option<(Meaning, &'a str)>;
        let mut check = |file: &str, name: &str, ok: &dyn Fn(Heard, &str) -> bool| {
            for (language, phrase) in corpus(file) {
                let heard = k.classify(phrase);
                if !ok(heard, language) {
                    misses.push(format!("{name}: {phrase:?} heard as {heard:?}"));
                }
            }
        };
        check(
            include_str!("../tests/corpus/revoke.txt"),
            "revoke",
            &|h, l| h == Some((Meaning::OptOut, l)),
        );
        check(
            include_str!("../tests/corpus/unclear.txt"),
            "unclear",
            &|h, _| matches!(h, Some((Meaning::Unclear(_), _))),
        );
        check(
            include_str!("../tests/corpus/ordinary.txt"),
            "ordinary",
            &|h, _| !matches!(h, Some((Meaning::OptOut | Meaning::Unclear(_), _))),
        );
        check(
            include_str!("../tests/corpus/confirm.txt"),
            "confirm",
            &|h, l| matches!(h, Some((Meaning::Confirm | Meaning::Agree, lang)) if lang == l),
        );
        check(
            include_str!("../tests/corpus/not-confirm.txt"),
            "not-confirm",
            &|h, _| {
                !matches!(
                    h,
                    Some((Meaning::Confirm | Meaning::Agree | Meaning::OptIn, _))
                )
            },
        );
        assert!(
            misses.is_empty(),
            "{} misses:\n{}",
            misses.len(),
            misses.join("\n")
        );
    }

    #[test]
    fn the_corpus_holds_dozens_of_phrases_each_way() {
        let count = |file| corpus(file).len();
        assert!(count(include_str!("../tests/corpus/revoke.txt")) >= 48);
        assert!(count(include_str!("../tests/corpus/ordinary.txt")) >= 48);
        assert!(count(include_str!("../tests/corpus/unclear.txt")) >= 24);
        assert!(count(include_str!("../tests/corpus/confirm.txt")) >= 24);
    }

    #[test]
    fn opt_in_confirmation_and_help() {
        assert_eq!(meaning("START"), Some(Meaning::OptIn));
        assert_eq!(meaning("unstop"), Some(Meaning::OptIn));
        assert_eq!(meaning("yes"), Some(Meaning::Confirm));
        assert_eq!(meaning(" Y. "), Some(Meaning::Confirm));
        assert_eq!(meaning("Sí"), Some(Meaning::Confirm));
        assert_eq!(
            meaning("yes please"),
            Some(Meaning::Confirm),
            "polite words around a keyword leave it the keyword"
        );
        assert_eq!(
            meaning("yes I agree"),
            Some(Meaning::Agree),
            "a yes with words around it agrees; only the keyword re-subscribes"
        );
        assert_eq!(meaning("yesterday"), None);
        assert_eq!(meaning("HELP"), Some(Meaning::Help));
        assert_eq!(meaning("info?"), Some(Meaning::Help));
        assert_eq!(meaning("ayuda"), Some(Meaning::Help));
        assert_eq!(meaning("I need help with my lease"), None);
        assert_eq!(meaning(""), None);
        assert_eq!(meaning("   ...  "), None);
    }

    #[test]
    fn opt_out_wins_over_everything_else() {
        assert_eq!(meaning("yes stop texting me"), Some(Meaning::OptOut));
    }

    #[test]
    fn the_language_of_the_keyword_is_the_language_of_the_answer() {
        let k = Keywords::default();
        assert_eq!(k.classify("STOP"), Some((Meaning::OptOut, "en")));
        assert_eq!(k.classify("parar"), Some((Meaning::OptOut, "es")));
        assert_eq!(
            k.classify("no me manden nada"),
            Some((Meaning::OptOut, "es"))
        );
        assert_eq!(k.classify("Sí"), Some((Meaning::Confirm, "es")));
        assert_eq!(k.classify("ayuda"), Some((Meaning::Help, "es")));
        assert_eq!(k.classify("help"), Some((Meaning::Help, "en")));
    }

    #[test]
    fn a_tenant_can_replace_a_list_and_add_a_language() {
        let policy: Policy = serde_json::from_value(serde_json::json!({
            "keywords": {
                "en": { "opt_out": ["BASTA"], "refusals": ["enough texts"] },
                "pt": { "opt_out": ["PARE DE ENVIAR"], "help": ["AJUDA"] }
            }
        }))
        .unwrap();
        let k = Keywords::for_policy(&policy);
        assert_eq!(k.classify("basta!"), Some((Meaning::OptOut, "en")));
        assert_eq!(
            k.classify("opt out"),
            Some((Meaning::OptOut, "en")),
            "a revocation cannot be configured away: the grammar still hears it"
        );
        assert_eq!(
            k.classify("stop"),
            Some((Meaning::OptOut, "en")),
            "STOP can never be removed"
        );
        assert_eq!(
            k.classify("ok, enough texts"),
            Some((Meaning::OptOut, "en"))
        );
        assert_eq!(
            k.classify("HELP"),
            Some((Meaning::Help, "en")),
            "other lists kept"
        );
        assert_eq!(k.classify("parar"), Some((Meaning::OptOut, "es")));
        assert_eq!(k.classify("ajuda"), Some((Meaning::Help, "pt")));
    }

    #[test]
    fn normalizing_keeps_inner_apostrophes_and_hyphens() {
        assert_eq!(normalize("  don’t   text-me!! "), "DON'T TEXT-ME");
        assert_eq!(normalize("'stop'"), "STOP");
    }
}
