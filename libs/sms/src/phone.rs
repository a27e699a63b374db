//! Phone numbers as people type them, turned into the E.164 form Twilio needs.
//!
//! A number is also the key of a client's consent and of the case a reply is routed
//! to, so one number must have exactly one spelling: `+13125550100`, whether an
//! advocate typed `(312) 555-0100` or Twilio sent `+13125550100`.
//!
//! Whether a number can exist is libphonenumber's knowledge (the `phonenumber` crate and
//! its metadata, kept current by Google for every country): an impossible number is
//! refused here, with a clear 422, before Twilio refuses it. What casewire adds is the
//! form it accepts (digits, not letters; no extensions) and errors that say what is wrong
//! without repeating the number, which is personal data.

use phonenumber::country::Id;
use phonenumber::{Mode, ParseError};

use crate::SmsError;

/// Normalizes `input` to E.164 (`+` and digits only).
///
/// Accepted: E.164 with or without spaces, dots, dashes and parentheses
/// (`+44 20 7946 0958`), and a US (NANP) number written any usual way (`(312) 555-0100`,
/// `312.555.0100`, `1-312-555-0100`), giving `+13125550100`. The number must be valid by
/// libphonenumber's metadata for its country. Letters (`1-800-FLOWERS`) and extensions are
/// refused.
pub fn normalize(input: &str) -> Result<String, SmsError> {
    let input = input.trim();
    if let Some(c) = input
        .chars()
        .find(|c| !(c.is_ascii_digit() || " -.()+".contains(*c)))
    {
        return Err(invalid(match c.is_alphabetic() {
            true => "it contains letters; write the number in digits".to_string(),
            false => format!("it contains the character {c:?}"),
        }));
    }
    if input.chars().skip(1).any(|c| c == '+') {
        return Err(invalid("a '+' can only come first"));
    }
    let digits = input.chars().filter(char::is_ascii_digit).count();
    if digits == 0 {
        return Err(invalid("it has no digits"));
    }
    let number = phonenumber::parse(Some(Id::US), input).map_err(|e| {
        invalid(match e {
            ParseError::InvalidCountryCode => {
                format!("it has {digits} digits and its country code does not exist")
            }
            ParseError::TooLong => format!("it has {digits} digits: too long for a phone number"),
            ParseError::TooShortNsn | ParseError::TooShortAfterIdd | ParseError::NoNumber => {
                format!("it has {digits} digits: too short for a phone number")
            }
            other => format!("it has {digits} digits and is not a phone number ({other})"),
        })
    })?;
    if !phonenumber::is_valid(&number) {
        return Err(invalid(format!(
            "it has {digits} digits, which is not a valid number in country code +{}",
            number.code().value()
        )));
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

fn invalid(reason: impl Into<String>) -> SmsError {
    SmsError::InvalidPhone {
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: &str = "+13125550100";

    #[test]
    fn us_numbers_in_every_usual_form_become_one_e164_number() {
        for input in [
            "(312) 555-0100",
            "312.555.0100",
            "1-312-555-0100",
            "3125550100",
            "13125550100",
            "312 555 0100",
            "1 (312) 555-0100",
            "+13125550100",
            "+1 312-555-0100",
            "  (312) 555-0100\n",
        ] {
            assert_eq!(normalize(input).as_deref(), Ok(US), "{input:?}");
        }
    }

    #[test]
    fn international_numbers_in_e164_are_kept() {
        assert_eq!(normalize("+442079460958").as_deref(), Ok("+442079460958"));
        assert_eq!(
            normalize("+44 20 7946 0958").as_deref(),
            Ok("+442079460958")
        );
        // Mexico's mobile numbers lost their "1" after +52 in 2019: one spelling.
        assert_eq!(normalize("+5215512345678").as_deref(), Ok("+525512345678"));
        assert_eq!(
            normalize("+52 55 1234 5678").as_deref(),
            Ok("+525512345678")
        );
    }

    /// What the hand-written normalizer let through because it counted digits only:
    /// numbers no country has, which Twilio would refuse later with a worse error.
    #[test]
    fn impossible_numbers_are_refused_before_twilio_sees_them() {
        assert!(reason("+35312345").contains("not a valid number in country code +353"));
        assert!(reason("+861234567890123").contains("country code +86"));
        assert!(reason("+99912345678").contains("country code does not exist"));
        assert!(reason("+4420794609").contains("+44"));
    }

    fn reason(input: &str) -> String {
        match normalize(input) {
            Err(SmsError::InvalidPhone { reason }) => reason,
            other => panic!("{input:?} should be refused, got {other:?}"),
        }
    }

    #[test]
    fn letters_are_refused() {
        assert!(reason("1-800-FLOWERS").contains("letters"));
        assert!(reason("312-555-0100 ext 12").contains("letters"));
        assert!(reason("call me").contains("letters"));
    }

    #[test]
    fn too_short_and_too_long_are_refused_with_the_digit_count() {
        assert!(reason("555-0100").contains("7 digits"));
        assert!(reason("312555010").contains("9 digits"));
        assert!(reason("312555010000").contains("12 digits"));
        assert!(reason("+4420794").contains("7 digits"));
        assert!(reason("+4420794609581234").contains("16 digits"));
        assert!(reason("").contains("no digits"));
        assert!(reason("+").contains("no digits"));
    }

    #[test]
    fn a_country_code_starting_with_zero_is_refused() {
        assert!(reason("+0442079460958").contains("country code"));
    }

    #[test]
    fn nanp_rules_apply_to_area_code_and_exchange() {
        for number in [
            "(012) 555-0100",
            "112-555-0100",
            "312-055-0100",
            "312-155-0100",
            "+1 012 555 0100",
            "+1312555010",
            "23125550100",
        ] {
            assert!(reason(number).contains("digits"), "{number}");
        }
    }

    #[test]
    fn other_characters_are_refused() {
        assert!(reason("312_555_0100").contains("'_'"));
        assert!(reason("312+555+0100").contains("'+'"));
        // Full-width digits look like digits but are not what Twilio accepts.
        assert!(reason("３１２５５５０１００").contains("'３'"));
    }

    #[test]
    fn the_error_lists_accepted_forms_and_not_the_number() {
        let message = normalize("212-867-530").unwrap_err().to_string();
        assert!(message.contains("+13125550100"), "{message}");
        assert!(message.contains("(312) 555-0100"), "{message}");
        assert!(message.contains("it has 9 digits"), "{message}");
        assert!(!message.contains("867"), "{message}");
    }
}
