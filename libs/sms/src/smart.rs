//! Twilio's Smart Encoding: with `SmartEncoded=true` (which casewire sends with every
//! text) Twilio replaces Unicode characters that look like GSM-7 ones before it encodes
//! and bills the text, so a notice pasted from a word processor (curly quotes, dashes, an
//! ellipsis, a no-break space) goes as GSM-7 at 160 characters a segment rather than
//! UCS-2 at 70. casewire's estimate applies the same replacements, so it never depends on
//! a setting it cannot see. The table is Twilio's published list (Twilio docs, "Smart
//! Encoding character list"), grouped by what each character becomes; the fullwidth forms
//! of ASCII are a rule ([`fullwidth`]).

use std::borrow::Cow;

const REPLACED: &[(&str, &[char])] = &[
    (
        "\"",
        &[
            '\u{ab}', '\u{bb}', '\u{201c}', '\u{201d}', '\u{201e}', '\u{201f}', '\u{2ba}',
            '\u{2ee}', '\u{275d}', '\u{275e}', '\u{301d}', '\u{301e}',
        ],
    ),
    (
        "'",
        &[
            '\u{2018}', '\u{2019}', '\u{201b}', '\u{2b9}', '\u{2bb}', '\u{2bc}', '\u{2bd}',
            '\u{2c8}', '\u{2ca}', '\u{2cb}', '\u{b4}', '\u{60}', '\u{275b}', '\u{275c}', '\u{313}',
            '\u{314}', '\u{fe10}', '\u{fe11}',
        ],
    ),
    (
        "-",
        &[
            '\u{2010}', '\u{2013}', '\u{2014}', '\u{2015}', '\u{2022}', '\u{2043}', '\u{23bc}',
            '\u{23bd}', '\u{fe63}',
        ],
    ),
    ("...", &['\u{2026}']),
    (
        " ",
        &[
            '\u{a0}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}',
            '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200a}', '\u{2028}', '\u{2029}',
            '\u{202f}', '\u{205f}', '\u{3000}',
        ],
    ),
    ("", &['\u{200b}', '\u{2060}', '\u{feff}']),
    (
        "/",
        &[
            '\u{f7}', '\u{2044}', '\u{2215}', '\u{29f8}', '\u{337}', '\u{338}',
        ],
    ),
    ("1/4", &['\u{bc}']),
    ("1/2", &['\u{bd}']),
    ("3/4", &['\u{be}']),
    ("\\", &['\u{20e5}', '\u{29f5}', '\u{29f9}', '\u{fe68}']),
    ("_", &['\u{332}']),
    (
        "|",
        &[
            '\u{20d2}', '\u{20d3}', '\u{2223}', '\u{239c}', '\u{239f}', '\u{23b8}', '\u{23b9}',
            '\u{23d0}',
        ],
    ),
    ("!", &['\u{1c3}', '\u{fe15}', '\u{fe57}']),
    ("!!", &['\u{203c}']),
    ("@", &['\u{fe6b}']),
    ("$", &['\u{fe69}']),
    ("#", &['\u{fe5f}']),
    ("%", &['\u{fe6a}']),
    ("&", &['\u{fe60}']),
    (
        ",",
        &[
            '\u{201a}', '\u{326}', '\u{3001}', '\u{fe50}', '\u{fe51}', '\u{ff64}',
        ],
    ),
    (
        "(",
        &['\u{2768}', '\u{276a}', '\u{27ee}', '\u{2985}', '\u{fe59}'],
    ),
    (
        ")",
        &['\u{2769}', '\u{276b}', '\u{27ef}', '\u{2986}', '\u{fe5a}'],
    ),
    (
        "*",
        &[
            '\u{204e}', '\u{2217}', '\u{229b}', '\u{2722}', '\u{2723}', '\u{2724}', '\u{2725}',
            '\u{2731}', '\u{2732}', '\u{2733}', '\u{273a}', '\u{273b}', '\u{273c}', '\u{273d}',
            '\u{2743}', '\u{2749}', '\u{274a}', '\u{274b}', '\u{29c6}', '\u{fe61}',
        ],
    ),
    ("+", &['\u{2d6}', '\u{fe62}']),
    (".", &['\u{3002}', '\u{fe52}', '\u{ff61}']),
    (
        ":",
        &['\u{2d0}', '\u{2f8}', '\u{2982}', '\u{a789}', '\u{fe13}'],
    ),
    (";", &['\u{204f}', '\u{fe14}', '\u{fe54}']),
    ("<", &['\u{2039}', '\u{fe64}']),
    ("=", &['\u{347}', '\u{a78a}', '\u{fe66}']),
    (">", &['\u{203a}', '\u{fe65}']),
    ("?", &['\u{fe16}', '\u{fe56}']),
    ("^", &['\u{2c6}', '\u{302}', '\u{1dcd}']),
    ("{", &['\u{2774}', '\u{fe5b}']),
    ("}", &['\u{2775}', '\u{fe5c}']),
    (
        "~",
        &[
            '\u{2dc}', '\u{2f7}', '\u{303}', '\u{330}', '\u{334}', '\u{223c}',
        ],
    ),
    // Small capitals.
    ("A", &['\u{1d00}']),
    ("B", &['\u{299}']),
    ("C", &['\u{1d04}']),
    ("D", &['\u{1d05}']),
    ("E", &['\u{1d07}']),
    ("F", &['\u{a730}']),
    ("G", &['\u{262}']),
    ("H", &['\u{29c}']),
    ("I", &['\u{26a}']),
    ("J", &['\u{1d0a}']),
    ("K", &['\u{1d0b}']),
    ("L", &['\u{29f}']),
    ("M", &['\u{1d0d}']),
    ("N", &['\u{274}']),
    ("O", &['\u{1d0f}']),
    ("P", &['\u{1d18}']),
    ("R", &['\u{280}']),
    ("S", &['\u{a731}']),
    ("T", &['\u{1d1b}']),
    ("U", &['\u{1d1c}']),
    ("V", &['\u{1d20}']),
    ("W", &['\u{1d21}']),
    ("Y", &['\u{28f}']),
    ("Z", &['\u{1d22}']),
];

/// The ASCII character a fullwidth form (U+FF01 to U+FF5E) stands for: `！` is `!`, `Ａ`
/// is `A`, `１` is `1`.
fn fullwidth(c: char) -> Option<char> {
    ('\u{ff01}'..='\u{ff5e}')
        .contains(&c)
        .then(|| char::from_u32(c as u32 - 0xfee0))
        .flatten()
}

/// What Twilio makes of one character, when it replaces it.
fn replacement(c: char) -> Option<Cow<'static, str>> {
    if c.is_ascii() {
        return None;
    }
    if let Some(ascii) = fullwidth(c) {
        return Some(Cow::Owned(ascii.to_string()));
    }
    REPLACED
        .iter()
        .find(|(_, from)| from.contains(&c))
        .map(|(to, _)| Cow::Borrowed(*to))
}

/// `body` as Twilio sends it with Smart Encoding on.
pub fn encode(body: &str) -> Cow<'_, str> {
    if body.chars().all(|c| replacement(c).is_none()) {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    for c in body.chars() {
        match replacement(c) {
            Some(r) => out.push_str(&r),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_word_processor_pastes_becomes_gsm_7() {
        assert_eq!(
            encode("Your hearing\u{a0}is “Monday” – don’t be late…"),
            "Your hearing is \"Monday\" - don't be late..."
        );
        assert_eq!(encode("ＡＢＣ！１２３"), "ABC!123");
        assert_eq!(encode("zero\u{200b}width"), "zerowidth");
        assert!(matches!(encode("plain text, ñ and é"), Cow::Borrowed(_)));
        // What Twilio does not replace stays: accents outside GSM-7, emoji.
        assert_eq!(encode("Señora Łucja 👍"), "Señora Łucja 👍");
    }

    #[test]
    fn no_character_is_listed_twice() {
        let mut seen = std::collections::HashSet::new();
        for (_, from) in REPLACED {
            for c in *from {
                assert!(seen.insert(*c), "{c:?} listed twice");
            }
        }
    }
}
