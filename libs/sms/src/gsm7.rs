//! The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1).
//!
//! A text that uses only these characters travels as GSM-7 (160 characters a segment);
//! one character outside them turns the whole text into UCS-2 (70 a segment), which
//! more than doubles its price. So the table must be exactly the standard one: a
//! character wrongly listed here makes us promise a price Twilio will not honour.
//!
//! The tables are written as data, in code order, so they can be compared line by line
//! with the standard. Checked against the 3GPP TS 23.038 layout as published in SMPP
//! provider documentation and against Twilio's own segment calculator
//! (TwilioDevEd/message-segment-calculator, `UnicodeToGSM.ts`).
//!
//! One known divergence between sources: code 0x09 is CAPITAL C with cedilla (`Ç`) in
//! 3GPP TS 23.038 and in Twilio's calculator, while the Unicode Consortium's
//! GSM0338.TXT maps it to the small `ç`. We follow the standard and Twilio: `Ç` is
//! GSM-7, `ç` is not.
//!
//! National language shift tables (Turkish, Spanish, Portuguese, …) are not used, as
//! in Twilio's calculator: a text that would need one is counted as UCS-2.

/// Code of the escape that announces a character of the extension table. It is not a
/// character itself: a text containing U+001B is not GSM-7.
pub const ESCAPE: u8 = 0x1B;

/// The basic table, indexed by code (0x00..=0x7F). Each line is one row of 16 codes of
/// the standard's table. The slot at [`ESCAPE`] holds U+001B only as a placeholder.
pub const BASIC: [char; 128] = [
    // 0x00
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
    // 0x10
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É',
    // 0x20
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
    // 0x30
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
    // 0x40
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
    // 0x50
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
    // 0x60
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    // 0x70
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];

/// The extension table: (code after [`ESCAPE`], character). Each costs two septets.
pub const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'), // form feed
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// Where a character sits in GSM-7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gsm7Char {
    /// In the basic table, at this code: one septet.
    Basic(u8),
    /// In the extension table, at this code after the escape: two septets.
    Extension(u8),
}

impl Gsm7Char {
    /// Septets this character occupies in a message.
    pub fn septets(self) -> u32 {
        match self {
            Gsm7Char::Basic(_) => 1,
            Gsm7Char::Extension(_) => 2,
        }
    }
}

/// Looks a character up in the two tables; `None` means the text must go as UCS-2.
pub fn lookup(c: char) -> Option<Gsm7Char> {
    if let Some(code) = BASIC.iter().position(|&b| b == c) {
        // The escape slot is a placeholder, not a character.
        return (code != usize::from(ESCAPE)).then_some(Gsm7Char::Basic(code as u8));
    }
    EXTENSION
        .iter()
        .find(|&&(_, e)| e == c)
        .map(|&(code, _)| Gsm7Char::Extension(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_standard_table_where_people_get_it_wrong() {
        // The inverted marks and the currency sign sit where ASCII has @, ` and $.
        assert_eq!(lookup('¡'), Some(Gsm7Char::Basic(0x40)));
        assert_eq!(lookup('¿'), Some(Gsm7Char::Basic(0x60)));
        assert_eq!(lookup('¤'), Some(Gsm7Char::Basic(0x24)));
        assert_eq!(lookup('@'), Some(Gsm7Char::Basic(0x00)));
        assert_eq!(lookup('$'), Some(Gsm7Char::Basic(0x02)));
        assert_eq!(lookup('_'), Some(Gsm7Char::Basic(0x11)));
        assert_eq!(lookup('§'), Some(Gsm7Char::Basic(0x5F)));
        assert_eq!(lookup('à'), Some(Gsm7Char::Basic(0x7F)));
        assert_eq!(lookup('€'), Some(Gsm7Char::Extension(0x65)));
        assert_eq!(lookup('\u{0C}'), Some(Gsm7Char::Extension(0x0A)));
    }

    #[test]
    fn every_character_the_standard_lists_is_gsm7() {
        let basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                     ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
        assert_eq!(basic.chars().count(), 127);
        for c in basic.chars() {
            assert!(
                matches!(lookup(c), Some(Gsm7Char::Basic(_))),
                "{c:?} is basic"
            );
        }
        for c in "^{}\\[~]|€\u{0C}".chars() {
            assert!(
                matches!(lookup(c), Some(Gsm7Char::Extension(_))),
                "{c:?} is extension"
            );
        }
    }

    #[test]
    fn look_alikes_and_neighbours_are_not_gsm7() {
        // Backtick and typographic quotes (pasted from Word), accents GSM-7 lacks,
        // small c-cedilla, the escape itself, tab, and ASCII controls.
        for c in "`‘’“”…–—áíóúÁÍÓÚçêâôûëïÈÌÒÙ\u{1B}\t\u{0}\u{7F}".chars()
        {
            assert_eq!(lookup(c), None, "{c:?} must force UCS-2");
        }
    }

    #[test]
    fn tables_hold_each_character_once() {
        let mut all: Vec<char> = BASIC.to_vec();
        all.extend(EXTENSION.iter().map(|&(_, c)| c));
        let mut sorted = all.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len());
    }
}
