//! Twilio's error codes as an advocate or an admin reads them: what happened and what to
//! do, from Twilio's Error and Warning Dictionary (twilio.com/docs/api/errors/<code>). The
//! send's refusals (21xxx, 20003) and the delivery failures its status callbacks report
//! (30xxx) share the table, so a text shows one reason whichever way Twilio said it.

/// A reason for a person, for the codes legal-aid texting meets; `None` for the others
/// (Twilio's own message is then shown).
pub fn explain(code: u32) -> Option<&'static str> {
    Some(match code {
        20003 => "Twilio authentication failed: check the organization's Account SID and auth token (rotated in the Twilio console?)",
        21211 => "the 'To' number is not a valid phone number",
        21265 => "the 'To' number is a short code, which cannot receive these texts",
        21266 => "the 'To' number is the organization's own sending number",
        21602 => "the message body is empty",
        21604 => "no 'To' phone number was given",
        21606 => "the 'From' number cannot send SMS (it is not an SMS-capable number of this account)",
        21608 => "this Twilio account is a trial account and can only text phone numbers verified in the Twilio console; upgrade the account to text anyone",
        21610 => "the recipient has replied STOP and is unsubscribed from this number; they must text START before they can receive messages again",
        21611 => "the organization's Twilio number has too many texts waiting to go; casewire tries again shortly",
        21614 => "the 'To' number is not a mobile number and cannot receive SMS",
        21635 => "the 'To' number is a landline: ask the client for a mobile number",
        21659 => "the 'From' number is not a Twilio number of this account, or a short code of another country",
        21660 => "the 'From' number belongs to another Twilio account than the organization's",
        21661 => "the 'From' number cannot send SMS",
        30003 => "the client's phone could not be reached (off, out of coverage, or blocking texts from short codes); it may work later",
        30005 => "the client's number is unknown to its carrier or no longer in service: check the number with the client",
        30006 => "the client's number is a landline or its carrier cannot receive texts: ask for a mobile number",
        30007 => "the carrier filtered the text as spam: reword it (fewer links, no shortened URLs) and check the number's registration",
        30034 => "the organization's number is not registered for US texting (A2P 10DLC), so carriers block its texts: an admin registers it in the Twilio console",
        _ => return None,
    })
}

/// Whether Twilio refused a send for a moment only, so it goes later rather than failing:
/// 21611, the sending number's queue is full.
pub fn is_transient(code: u32) -> bool {
    code == 21611
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_delivery_failures_and_the_2024_codes_have_reasons_for_people() {
        for code in [
            30003, 30005, 30006, 30007, 30034, 21635, 21265, 21266, 21659, 21660, 21661, 21611,
        ] {
            let reason = explain(code).unwrap_or_else(|| panic!("{code} has no reason"));
            assert!(
                !reason.contains("Error") && reason.len() > 30,
                "{code}: {reason}"
            );
        }
        assert_eq!(explain(12345), None);
        assert!(is_transient(21611) && !is_transient(21610));
    }
}
