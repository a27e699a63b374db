//! `X-Twilio-Signature`: how Twilio proves a webhook came from Twilio.
//!
//! Twilio computes HMAC-SHA1, keyed with the account's auth token, over the full URL it
//! requested (scheme, host, path and query string, exactly as requested) followed by
//! every POST parameter of a form-encoded body as name immediately followed by value,
//! sorted by name, with nothing in between; and sends it base64-encoded.
//!
//! Two details follow Twilio's official helper libraries (twilio-node `webhooks.ts`,
//! twilio-python `request_validator.py`), since the public documentation is silent:
//! - a name sent several times is sorted by name, then by value, and a pair repeated
//!   identically is signed once;
//! - [`verify`] also accepts the signature over the same URL with the scheme's default
//!   port written out or left out (`https://host/…` and `https://host:443/…`), because
//!   Twilio does not always sign the form that was configured.
//!
//! [`sign`] is exact and has no such leniency: it is what our fake Twilio uses to sign
//! the callbacks it sends in tests.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::SmsError;

/// The header Twilio puts the signature in.
pub const HEADER: &str = "X-Twilio-Signature";

/// The signature Twilio would send for a form POST of `params` to `url`.
///
/// `params` are the decoded form fields, in any order; pass an empty slice for a GET
/// or a JSON body (whose parameters are in the URL).
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    sorted.sort_unstable();
    sorted.dedup();

    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC accepts a key of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    B64.encode(mac.finalize().into_bytes())
}

/// Checks the `X-Twilio-Signature` of a webhook request, in constant time.
///
/// `signature` is the header's value; pass `""` when the header is absent, which is
/// reported as [`SmsError::MissingSignature`] (400) rather than
/// [`SmsError::BadSignature`] (403). Neither error mentions the token.
pub fn verify(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> Result<(), SmsError> {
    let signature = signature.trim();
    if signature.is_empty() {
        return Err(SmsError::MissingSignature);
    }
    let mut matched = false;
    for candidate in url_forms(url) {
        let expected = sign(auth_token, &candidate, params);
        // Not short-circuited: every candidate is computed and compared.
        matched |= bool::from(expected.as_bytes().ct_eq(signature.as_bytes()));
    }
    if matched {
        Ok(())
    } else {
        Err(SmsError::BadSignature)
    }
}

/// The URL as given, plus the same URL with its scheme's default port toggled (added
/// when absent, removed when present). Other ports and unknown schemes are left alone.
fn url_forms(url: &str) -> Vec<String> {
    let mut forms = vec![url.to_owned()];
    let (scheme, default_port) = if url.starts_with("https://") {
        ("https://", ":443")
    } else if url.starts_with("http://") {
        ("http://", ":80")
    } else {
        return forms;
    };
    let rest = &url[scheme.len()..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_len);
    // The port follows the host, after any user info and any IPv6 literal.
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let has_port = host_port
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.contains(']'));
    if let Some(bare) = authority.strip_suffix(default_port) {
        forms.push(format!("{scheme}{bare}{tail}"));
    } else if !has_port && !authority.is_empty() {
        forms.push(format!("{scheme}{authority}{default_port}{tail}"));
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|&(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    /// The worked example of Twilio's webhook security documentation.
    fn documented_params() -> Vec<(String, String)> {
        pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ])
    }

    /// The value printed for that example in Twilio's documentation, as quoted by many
    /// independent implementations (the page itself was not readable from here), and
    /// recomputed with Python's hmac module while writing this test.
    const DOCUMENTED_SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    #[test]
    fn reproduces_twilios_documented_example() {
        assert_eq!(sign(TOKEN, URL, &documented_params()), DOCUMENTED_SIGNATURE);
        assert_eq!(
            verify(TOKEN, URL, &documented_params(), DOCUMENTED_SIGNATURE),
            Ok(())
        );
    }

    #[test]
    fn reproduces_the_vectors_of_twilios_own_helper_library() {
        // twilio-python tests/unit/test_request_validator.py.
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]);
        assert_eq!(sign(TOKEN, URL, &params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        // A name sent twice: sorted by name, then by value.
        let repeated = pairs(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]);
        assert_eq!(sign(TOKEN, URL, &repeated), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn signs_the_url_then_names_and_values_sorted_by_name() {
        // "To" sorts before "ToCity" (a prefix sorts first), even though "ToZ" would
        // sort after "ToCityX" if name and value were joined before sorting.
        let params = pairs(&[("ToCity", "X"), ("To", "Z")]);
        let mut mac = Hmac::<Sha1>::new_from_slice(b"tok").unwrap();
        mac.update(b"https://example.org/hook?t=1ToZToCityX");
        let expected = B64.encode(mac.finalize().into_bytes());
        assert_eq!(
            sign("tok", "https://example.org/hook?t=1", &params),
            expected
        );
    }

    #[test]
    fn parameter_order_does_not_matter() {
        let mut shuffled = documented_params();
        shuffled.reverse();
        shuffled.swap(0, 2);
        assert_eq!(sign(TOKEN, URL, &shuffled), DOCUMENTED_SIGNATURE);
        assert_eq!(verify(TOKEN, URL, &shuffled, DOCUMENTED_SIGNATURE), Ok(()));
    }

    #[test]
    fn a_changed_parameter_is_refused() {
        let mut params = documented_params();
        params[2].1 = "9999".into();
        assert_eq!(
            verify(TOKEN, URL, &params, DOCUMENTED_SIGNATURE),
            Err(SmsError::BadSignature)
        );
        // An added parameter, too (Twilio signs every one it sends).
        let mut params = documented_params();
        params.push(("Body".into(), "STOP".into()));
        assert_eq!(
            verify(TOKEN, URL, &params, DOCUMENTED_SIGNATURE),
            Err(SmsError::BadSignature)
        );
    }

    #[test]
    fn a_changed_url_is_refused() {
        for url in [
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            "https://mycompany.com/myapp.php?bar=2&foo=1",
            "https://mycompany.com/myapp.php",
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
        ] {
            assert_eq!(
                verify(TOKEN, url, &documented_params(), DOCUMENTED_SIGNATURE),
                Err(SmsError::BadSignature),
                "{url}"
            );
        }
    }

    #[test]
    fn a_wrong_token_is_refused_and_never_shown() {
        let token = "not-the-auth-token";
        let err = verify(token, URL, &documented_params(), DOCUMENTED_SIGNATURE).unwrap_err();
        assert_eq!(err, SmsError::BadSignature);
        assert!(!err.to_string().contains(token));
        assert!(!format!("{err:?}").contains(token));
    }

    #[test]
    fn a_missing_signature_is_told_apart_from_a_wrong_one() {
        assert_eq!(
            verify(TOKEN, URL, &documented_params(), ""),
            Err(SmsError::MissingSignature)
        );
        assert_eq!(
            verify(TOKEN, URL, &documented_params(), "  "),
            Err(SmsError::MissingSignature)
        );
        assert_eq!(
            verify(
                TOKEN,
                URL,
                &documented_params(),
                "0/KCTR6DLpKmkAf8muzZqo1nDgQ"
            ),
            Err(SmsError::BadSignature)
        );
    }

    #[test]
    fn the_default_port_may_be_written_or_left_out() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]);
        // twilio-python's vector for the same request signed with ":443".
        let with_port = "kvajT1Ptam85bY51eRf/AJRuM3w=";
        assert_eq!(verify(TOKEN, URL, &params, with_port), Ok(()));
        let url_443 = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(
            verify(TOKEN, url_443, &params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            Ok(())
        );
        // But sign itself is exact.
        assert_ne!(sign(TOKEN, url_443, &params), sign(TOKEN, URL, &params));
    }

    #[test]
    fn url_forms_toggle_only_the_default_port() {
        assert_eq!(
            url_forms("https://h.example/p?q=1"),
            ["https://h.example/p?q=1", "https://h.example:443/p?q=1"]
        );
        assert_eq!(
            url_forms("http://h.example:80?q=1"),
            ["http://h.example:80?q=1", "http://h.example?q=1"]
        );
        assert_eq!(
            url_forms("https://u:pw@h.example/p"),
            ["https://u:pw@h.example/p", "https://u:pw@h.example:443/p"]
        );
        assert_eq!(
            url_forms("https://[2001:db8::1]/p"),
            ["https://[2001:db8::1]/p", "https://[2001:db8::1]:443/p"]
        );
        assert_eq!(
            url_forms("https://h.example:8443/p"),
            ["https://h.example:8443/p"]
        );
        assert_eq!(
            url_forms("https://h.example:80/p"),
            ["https://h.example:80/p"]
        );
        assert_eq!(url_forms("wss://h.example/p"), ["wss://h.example/p"]);
    }
}
