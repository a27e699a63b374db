//! What a client's text means for consent: opt out, opt in, confirm, ask for help, or
//! nothing. The rule (issue 4; FCC 2024: revocation "in any reasonable manner"):
//!
//! 1. The text is normalized: letters folded to upper case, accents kept, punctuation and
//!    emoji around and between words dropped, runs of spaces made one.
//! 2. A keyword counts only as the *whole* message: "STOP", "stop!", " Stop. " are STOP;
//!    "I'll stop by the office tomorrow" is not.
//! 3. A plain refusal counts anywhere in the message: a phrase that asks for the texts to
//!    end ("please stop texting me", "take me off your list", "don't text me", "no me
//!    manden mensajes"). A phrase needs the texting verb or the list: "stop" alone inside a
//!    sentence is never enough, which is what keeps "stop by" and "can't stop worrying"
//!    from revoking.
//! 4. Opt-out wins over everything else; then opt-in, confirmation and help.
//!
//! Each tenant may replace the lists and add languages ([`Keywords::for_policy`]), but the
//! opt-out keywords carriers require ([`REQUIRED_OPT_OUT`]) always stay;
//! [`Keywords::default`] holds English and Spanish.

use std::collections::BTreeMap;

use casewire_tenancy::Policy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Meaning {
    OptOut,
    OptIn,
    /// Y or YES to a confirmation request (also an opt-in once revoked).
    Confirm,
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
        refusals: list(&[
            "stop texting",
            "stop txting",
            "stop messaging",
            "stop sending",
            "stop contacting",
            "stop the texts",
            "stop these texts",
            "stop the messages",
            "stop these messages",
            "don't text",
            "dont text",
            "do not text",
            "don't message",
            "dont message",
            "do not message",
            "don't send",
            "dont send",
            "do not send",
            "don't contact",
            "do not contact",
            "no more texts",
            "no more messages",
            "take me off",
            "remove me from",
            "unsubscribe me",
            "opt me out",
            "leave me alone",
        ]),
        opt_in: list(&["START", "UNSTOP", "YES", "SUBSCRIBE"]),
        confirm: list(&["Y", "YES"]),
        help: list(&["HELP", "INFO"]),
    }
}

fn spanish() -> Lists {
    Lists {
        opt_out: list(&["PARAR", "PARE", "ALTO", "BAJA", "CANCELAR", "DETENER"]),
        refusals: list(&[
            "no me envíen",
            "no me envien",
            "no me manden",
            "no me escriban",
            "no me contacten",
            "dejen de enviar",
            "dejen de mandar",
            "dejen de escribir",
            "deje de enviar",
            "deje de mandar",
            "no más mensajes",
            "no mas mensajes",
            "quítenme de",
            "quitenme de",
            "sáquenme de",
            "saquenme de",
            "dar de baja",
        ]),
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

/// Whether `phrase` appears in `text` as whole words.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    !phrase.is_empty() && format!(" {text} ").contains(&format!(" {phrase} "))
}

impl Keywords {
    /// What the text means, and the language of the keyword that said so (the language
    /// casewire answers in).
    pub fn classify(&self, text: &str) -> Option<(Meaning, &str)> {
        let t = normalize(text);
        if t.is_empty() {
            return None;
        }
        [
            Meaning::OptOut,
            Meaning::Confirm,
            Meaning::OptIn,
            Meaning::Help,
        ]
        .into_iter()
        .find_map(|meaning| {
            self.by_language
                .iter()
                .find(|(_, lists)| lists.say(&t, meaning))
                .map(|(lang, _)| (meaning, lang.as_str()))
        })
    }
}

impl Lists {
    /// Whether the normalized text `t` means `meaning` by these lists.
    fn say(&self, t: &str, meaning: Meaning) -> bool {
        let whole = |words: &[String]| words.iter().any(|w| w == t);
        match meaning {
            Meaning::OptOut => {
                whole(&self.opt_out) || self.refusals.iter().any(|p| contains_phrase(t, p))
            }
            Meaning::Confirm => whole(&self.confirm),
            Meaning::OptIn => whole(&self.opt_in),
            Meaning::Help => whole(&self.help),
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

    #[test]
    fn plain_refusals_revoke_anywhere_in_the_message() {
        for t in [
            "please stop texting me",
            "Take me off your list",
            "don't text me",
            "Don’t text me again.",
            "DO NOT TEXT THIS NUMBER",
            "no more texts please",
            "can you remove me from this list",
            "Por favor no me manden mensajes",
            "dejen de enviar mensajes",
            "Quítenme de la lista",
        ] {
            assert_eq!(meaning(t), Some(Meaning::OptOut), "{t:?}");
        }
    }

    #[test]
    fn a_message_that_only_mentions_the_word_does_not_revoke() {
        for t in [
            "I'll stop by the office tomorrow",
            "stop by at 3?",
            "I can't stop worrying about the hearing",
            "The bus didn't stop",
            "Is this the end of my case?",
            "Can I cancel my appointment and come Friday?",
            "quit my job last week, does that matter?",
            "stopped",
            "stops",
            "unstoppable",
        ] {
            assert_eq!(meaning(t), None, "{t:?}");
        }
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
            None,
            "a keyword is the whole message"
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
            None,
            "the tenant's list replaced OPT OUT"
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
