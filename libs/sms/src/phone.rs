//! Phone numbers as people type them, turned into the E.164 form Twilio needs.
//!
//! A number is also the key of a client's consent and of the case a reply is routed
//! to, so one number must have exactly one spelling: `+13125550100`, whether an
//! advocate typed `(312) 555-0100` or Twilio sent `+13125550100`.

use crate::SmsError;

/// Fewest digits after the `+` we accept (short national numbers plus country code).
const E164_MIN_DIGITS: usize = 8;
/// Most digits E.164 allows after the `+`.
const E164_MAX_DIGITS: usize = 15;

/// Normalizes `input` to E.164 (`+` and digits only).
///
/// Accepted:
/// - E.164: `+` then 8 to 15 digits, the first not 0 (`+442079460958`); spaces, dots,
///   dashes and parentheses between digits are ignored (`+44 20 7946 0958`);
/// - a US (NANP) number written any usual way: `(312) 555-0100`, `312.555.0100`,
///   `1-312-555-0100`, `3125550100`, giving `+13125550100`.
///
/// A number in country code 1, with or without `+`, must be a valid NANP number: 10
/// digits after the 1, area code and exchange not starting with 0 or 1. Anything else,
/// letters (`1-800-FLOWERS`) and extensions included, is refused. The error says why
/// and lists the accepted forms; it does not repeat the number, which is personal data.
pub fn normalize(input: &str) -> Result<String, SmsError> {
    let input = input.trim();
    let (international, rest) = match input.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            '+' => return Err(invalid("a '+' can only come first")),
            c if c.is_alphabetic() => {
                return Err(invalid("it contains letters; write the number in digits"))
            }
            _ => return Err(invalid(format!("it contains the character {c:?}"))),
        }
    }
    if digits.is_empty() {
        return Err(invalid("it has no digits"));
    }

    if international {
        if digits.starts_with('0') {
            return Err(invalid("a country code never starts with 0"));
        }
        if digits.len() < E164_MIN_DIGITS || digits.len() > E164_MAX_DIGITS {
            return Err(invalid(format!(
                "it has {} digits after the '+'; E.164 numbers have {E164_MIN_DIGITS} to \
                 {E164_MAX_DIGITS}",
                digits.len()
            )));
        }
        if let Some(national) = digits.strip_prefix('1') {
            return nanp(national);
        }
        return Ok(format!("+{digits}"));
    }

    match digits.len() {
        10 => nanp(&digits),
        11 if digits.starts_with('1') => nanp(&digits[1..]),
        11 => Err(invalid(
            "an 11-digit US number starts with 1; for another country, start with '+'",
        )),
        n => Err(invalid(format!(
            "it has {n} digits; a US number has 10 (or 11 starting with 1), and other \
             numbers start with '+' and the country code"
        ))),
    }
}

/// Checks the 10 national digits of a NANP number and returns it in E.164.
fn nanp(national: &str) -> Result<String, SmsError> {
    if national.len() != 10 {
        return Err(invalid(format!(
            "a number in country code 1 has 10 digits after the 1, this one has {}",
            national.len()
        )));
    }
    if national.starts_with(['0', '1']) {
        return Err(invalid("a US area code cannot start with 0 or 1"));
    }
    if national[3..].starts_with(['0', '1']) {
        return Err(invalid(
            "a US exchange (the 3 digits after the area code) cannot start with 0 or 1",
        ));
    }
    Ok(format!("+1{national}"))
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
        assert_eq!(normalize("+5215512345678").as_deref(), Ok("+5215512345678"));
        // 8 and 15 digits are the bounds.
        assert_eq!(normalize("+35312345").as_deref(), Ok("+35312345"));
        assert_eq!(
            normalize("+861234567890123").as_deref(),
            Ok("+861234567890123")
        );
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
        assert!(reason("+4420794").contains("7 digits after the '+'"));
        assert!(reason("+4420794609581234").contains("16 digits after the '+'"));
        assert!(reason("").contains("no digits"));
        assert!(reason("+").contains("no digits"));
    }

    #[test]
    fn a_country_code_starting_with_zero_is_refused() {
        assert!(reason("+0442079460958").contains("never starts with 0"));
    }

    #[test]
    fn nanp_rules_apply_to_area_code_and_exchange() {
        assert!(reason("(012) 555-0100").contains("area code"));
        assert!(reason("112-555-0100").contains("area code"));
        assert!(reason("312-055-0100").contains("exchange"));
        assert!(reason("312-155-0100").contains("exchange"));
        assert!(reason("+1 012 555 0100").contains("area code"));
        // +1 numbers must have the full 10 national digits.
        assert!(reason("+1312555010").contains("this one has 9"));
        // An 11-digit number without '+' must be a US number with its leading 1.
        assert!(reason("23125550100").contains("starts with 1"));
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
