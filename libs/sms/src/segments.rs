//! What a text costs: its encoding, its length and its number of SMS segments.
//!
//! Twilio bills per segment, so advocates see this count before they send and tenants
//! see it in their usage. A segment carries 140 octets: 160 GSM-7 septets or 70 UCS-2
//! code units when the text fits in one; when it does not, each part loses room to
//! the concatenation header and carries 153 septets or 67 code units.
//!
//! The text counted is the one Twilio sends: casewire sends every text with
//! `SmartEncoded=true`, so curly quotes, dashes and the like are first replaced
//! ([`crate::smart`]), as Twilio does before it encodes and bills.
//!
//! Segments are counted by packing the text the way it is split, because an escaped GSM-7
//! character (two septets), a UTF-16 surrogate pair (two code units) and a whole grapheme
//! cluster (a skin-toned or ZWJ emoji, a flag: several code points one person sees as one)
//! are never cut: one that would straddle a boundary moves whole into the next segment,
//! as Twilio's segment calculator does, which dividing the length by 153 or 67 would miss.

use serde::{Deserialize, Serialize};

use crate::gsm7;
use crate::SmsError;

/// Twilio refuses bodies longer than this many characters.
pub const MAX_BODY_CHARS: usize = 1600;

/// Septets in a text that fits in one GSM-7 segment.
pub const GSM7_SINGLE: u32 = 160;
/// Septets in each part of a concatenated GSM-7 text.
pub const GSM7_PART: u32 = 153;
/// UTF-16 code units in a text that fits in one UCS-2 segment.
pub const UCS2_SINGLE: u32 = 70;
/// UTF-16 code units in each part of a concatenated UCS-2 text.
pub const UCS2_PART: u32 = 67;

/// How the text travels: GSM-7 when every character is in the GSM alphabet, else UCS-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// The size of a text as Twilio bills it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SegmentCount {
    pub encoding: Encoding,
    /// Billable segments; at least 1.
    pub segments: u32,
    /// Septets for GSM-7 (an extension character counts 2), UTF-16 code units for
    /// UCS-2 (a character outside the Basic Multilingual Plane, like most emoji,
    /// counts 2).
    pub units: u32,
}

/// Counts the segments `body` costs.
///
/// An empty body is counted as 1 segment of 0 units: a message that is sent at all is
/// billed at least one segment. [`validate_body`] refuses empty bodies anyway.
pub fn count(body: &str) -> SegmentCount {
    count_as(body, true)
}

/// Counts the segments `body` costs with Twilio's Smart Encoding on (`smart`, as casewire
/// always sends) or off (as a client's own text arrives, or another sender's).
pub fn count_as(body: &str, smart: bool) -> SegmentCount {
    use std::borrow::Cow;
    use unicode_segmentation::UnicodeSegmentation;
    let sent = match smart {
        true => crate::smart::encode(body),
        false => Cow::Borrowed(body),
    };
    let gsm7_costs: Option<Vec<u32>> = sent
        .chars()
        .map(|c| gsm7::lookup(c).map(gsm7::Gsm7Char::septets))
        .collect();
    match gsm7_costs {
        Some(costs) => pack(Encoding::Gsm7, &costs, GSM7_SINGLE, GSM7_PART),
        None => {
            let costs: Vec<u32> = sent
                .graphemes(true)
                .map(|g| g.encode_utf16().count() as u32)
                .collect();
            pack(Encoding::Ucs2, &costs, UCS2_SINGLE, UCS2_PART)
        }
    }
}

/// Packs characters of the given costs into segments, never splitting a character.
fn pack(encoding: Encoding, costs: &[u32], single: u32, part: u32) -> SegmentCount {
    let units: u32 = costs.iter().sum();
    if units <= single {
        return SegmentCount {
            encoding,
            segments: 1,
            units,
        };
    }
    let mut segments = 1;
    let mut filled = 0;
    for &cost in costs {
        if filled + cost > part {
            segments += 1;
            filled = 0;
        }
        filled += cost;
    }
    SegmentCount {
        encoding,
        segments,
        units,
    }
}

/// Refuses a body Twilio would refuse, or that would text a client nothing: empty,
/// only whitespace, or longer than [`MAX_BODY_CHARS`] characters (Unicode scalar
/// values, so an accented letter counts 1 however many bytes it takes).
pub fn validate_body(body: &str) -> Result<(), SmsError> {
    let chars = body.chars().count();
    if chars == 0 {
        return Err(SmsError::EmptyBody);
    }
    if body.chars().all(char::is_whitespace) {
        return Err(SmsError::BlankBody { chars });
    }
    if chars > MAX_BODY_CHARS {
        return Err(SmsError::BodyTooLong {
            chars,
            max: MAX_BODY_CHARS,
        });
    }
    Ok(())
}

/// Price of a text in micro-dollars (integers: money never goes through floats).
/// Saturates instead of overflowing on absurd prices.
pub fn estimated_price(count: &SegmentCount, price_per_segment_micros: u64) -> u64 {
    u64::from(count.segments).saturating_mul(price_per_segment_micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gsm7(segments: u32, units: u32) -> SegmentCount {
        SegmentCount {
            encoding: Encoding::Gsm7,
            segments,
            units,
        }
    }

    fn ucs2(segments: u32, units: u32) -> SegmentCount {
        SegmentCount {
            encoding: Encoding::Ucs2,
            segments,
            units,
        }
    }

    fn repeat(c: char, n: usize) -> String {
        std::iter::repeat_n(c, n).collect()
    }

    #[test]
    fn gsm7_lengths_at_the_segment_limits() {
        assert_eq!(count(&repeat('a', 160)), gsm7(1, 160));
        assert_eq!(count(&repeat('a', 161)), gsm7(2, 161));
        assert_eq!(count(&repeat('a', 306)), gsm7(2, 306));
        assert_eq!(count(&repeat('a', 307)), gsm7(3, 307));
    }

    #[test]
    fn ucs2_lengths_at_the_segment_limits() {
        // 'á' is not in GSM-7, so these are UCS-2 texts of one code unit a character.
        assert_eq!(count(&repeat('á', 70)), ucs2(1, 70));
        assert_eq!(count(&repeat('á', 71)), ucs2(2, 71));
        assert_eq!(count(&repeat('á', 134)), ucs2(2, 134));
        assert_eq!(count(&repeat('á', 135)), ucs2(3, 135));
    }

    #[test]
    fn euro_costs_two_septets_and_currency_sign_one() {
        assert_eq!(count("€"), gsm7(1, 2));
        assert_eq!(count("¤"), gsm7(1, 1));
        assert_eq!(count("Fee: 5€ [paid]"), gsm7(1, 17));
    }

    #[test]
    fn extension_char_fits_in_a_single_segment_up_to_160_septets() {
        // 152 + 2 = 154 septets: one segment, nothing is split.
        let body = format!("{}€", repeat('a', 152));
        assert_eq!(count(&body), gsm7(1, 154));
        // 159 + 2 = 161 septets: no longer fits, so it is concatenated.
        let body = format!("{}€", repeat('a', 159));
        assert_eq!(count(&body), gsm7(2, 161));
    }

    #[test]
    fn extension_char_at_position_153_moves_to_the_next_segment() {
        // Septets 1..=152 are 'a'; the euro's escape would be septet 153 and its code
        // septet 154, across the boundary, so the euro starts part 2. That pushes one
        // 'a' into a third part: 306 septets, yet 3 segments, not 306/153 = 2.
        let body = format!("{}€{}", repeat('a', 152), repeat('a', 152));
        assert_eq!(count(&body), gsm7(3, 306));
        // The same text with the euro one place earlier fits in 2.
        let body = format!("{}€{}", repeat('a', 151), repeat('a', 153));
        assert_eq!(count(&body), gsm7(2, 306));
    }

    #[test]
    fn emoji_at_a_segment_boundary_moves_to_the_next_segment() {
        // 66 units, then an emoji (a surrogate pair) that would take units 67 and 68:
        // it moves whole to part 2, and the text needs 3 parts for 134 units.
        let body = format!("{}😀{}", repeat('á', 66), repeat('á', 66));
        assert_eq!(count(&body), ucs2(3, 134));
        let body = format!("{}😀{}", repeat('á', 65), repeat('á', 67));
        assert_eq!(count(&body), ucs2(2, 134));
    }

    #[test]
    fn an_emoji_counts_two_units() {
        assert_eq!(count("👍"), ucs2(1, 2));
        assert_eq!(count("See you at 9 👍"), ucs2(1, 15));
    }

    #[test]
    fn a_curly_apostrophe_is_billed_as_twilio_sends_it_smart_encoded() {
        // The classic: text pasted from Word. Without Smart Encoding, 160 characters that
        // would have been one GSM-7 segment become three UCS-2 segments; casewire sends
        // SmartEncoded=true, Twilio replaces the apostrophe, and it is one segment.
        let straight = format!("Don't forget court{}", repeat('.', 142));
        let curly = straight.replace('\'', "’");
        assert_eq!(count(&straight), gsm7(1, 160));
        assert_eq!(count(&curly), gsm7(1, 160));
        let pasted = "Your hearing\u{a0}is “Monday” – bring the notice…";
        assert_eq!(count(pasted).encoding, Encoding::Gsm7);
        // A character Twilio does not replace still makes the text UCS-2.
        assert_eq!(count("Łódź, 9am").encoding, Encoding::Ucs2);
    }

    #[test]
    fn a_grapheme_cluster_is_never_split_across_segments() {
        // Twilio's segment calculator keeps what a person sees as one character in one
        // segment: a family emoji is 7 code points, 11 UTF-16 units.
        let family = "👨‍👩‍👧‍👦";
        assert_eq!(family.encode_utf16().count(), 11);
        // 65 + 11 + 58 = 134 units in parts of 67. Split between code points, the first
        // part would take 65 + 2 and the second the other 9 + 58: two segments. Kept
        // whole, the family opens the second part (11 + 56) and two letters spill into a
        // third.
        let text = format!("{}{family}{}", repeat('ł', 65), repeat('ł', 58));
        assert_eq!(count(&text), ucs2(3, 134));
        assert_eq!(count(&format!("{}👍🏽", repeat('ł', 66))), ucs2(1, 70));
    }

    #[test]
    fn spanish_text_depends_on_which_accents_it_uses() {
        // ñ, é, ¿, ¡, ü, Ñ and É are in GSM-7 ...
        assert_eq!(
            count("¡Mañana es su cita, señor Pérez! ¿Vendrá?").encoding,
            Encoding::Ucs2, // ... but 'á' in "Vendrá" is not.
        );
        assert_eq!(
            count("¡Mañana es su cita, señor Pérez! ¿Puede venir?"),
            gsm7(1, 46)
        );
        for c in ['á', 'í', 'ó', 'ú', 'Á', 'Í', 'Ó', 'Ú'] {
            assert_eq!(count(&format!("cita {c}")).encoding, Encoding::Ucs2, "{c}");
        }
        for c in ['ñ', 'é', '¿', '¡', 'ü', 'Ñ', 'É', 'Ü'] {
            assert_eq!(count(&format!("cita {c}")), gsm7(1, 6), "{c}");
        }
    }

    #[test]
    fn line_breaks_are_one_septet_and_form_feed_two() {
        assert_eq!(count("a\nb\r\nc"), gsm7(1, 6));
        assert_eq!(count("a\u{0C}b"), gsm7(1, 4));
    }

    #[test]
    fn empty_body_is_one_segment_of_nothing() {
        assert_eq!(count(""), gsm7(1, 0));
    }

    #[test]
    fn longest_body_twilio_accepts() {
        assert_eq!(count(&repeat('a', 1600)), gsm7(11, 1600));
        assert_eq!(count(&repeat('á', 1600)), ucs2(24, 1600));
    }

    #[test]
    fn price_is_segments_times_unit_price_in_micro_dollars() {
        let three = count(&repeat('a', 307));
        assert_eq!(estimated_price(&three, 7_900), 23_700);
        assert_eq!(estimated_price(&count("hi"), 0), 0);
        assert_eq!(estimated_price(&three, u64::MAX), u64::MAX);
    }

    #[test]
    fn encoding_has_stable_lowercase_wire_names() {
        let json = serde_json::to_string(&count("€")).unwrap();
        assert_eq!(json, r#"{"encoding":"gsm7","segments":1,"units":2}"#);
        let back: SegmentCount =
            serde_json::from_str(r#"{"encoding":"ucs2","segments":3,"units":135}"#).unwrap();
        assert_eq!(back, ucs2(3, 135));
    }

    #[test]
    fn empty_and_blank_bodies_are_refused() {
        assert_eq!(validate_body(""), Err(SmsError::EmptyBody));
        let err = validate_body(" \n\t ").unwrap_err();
        assert_eq!(err, SmsError::BlankBody { chars: 4 });
        assert!(err.to_string().contains("only whitespace (4 characters)"));
        assert_eq!(validate_body(" ok "), Ok(()));
    }

    #[test]
    fn bodies_over_1600_characters_are_refused_with_their_length() {
        assert_eq!(validate_body(&repeat('a', 1600)), Ok(()));
        // Counted in characters, not bytes: 1600 'é' are 3200 bytes and still fine.
        assert_eq!(validate_body(&repeat('é', 1600)), Ok(()));
        let err = validate_body(&repeat('a', 1601)).unwrap_err();
        assert_eq!(
            err,
            SmsError::BodyTooLong {
                chars: 1601,
                max: 1600
            }
        );
        assert_eq!(
            err.to_string(),
            "the message body is 1601 characters long; Twilio accepts at most 1600"
        );
    }
}
