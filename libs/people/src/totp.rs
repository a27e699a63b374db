//! Two-step sign-in with an authenticator app: time-based one-time codes (RFC 6238; SHA-1,
//! six digits, 30-second steps, as every authenticator app reads them).

use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds a code lasts.
pub const STEP: u64 = 30;

/// A new secret, base32 as authenticator apps take it typed by hand.
pub fn new_secret() -> String {
    Secret::generate_secret().to_encoded().to_string()
}

fn totp(secret: &str, account: &str) -> anyhow::Result<TOTP> {
    let bytes = Secret::Encoded(secret.to_string())
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("a TOTP secret that is not base32: {e:?}"))?;
    // The account is a label only; an email has no ':' to trouble the URL's form.
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        bytes,
        Some("casewire".into()),
        account.replace(':', " "),
    )
    .map_err(|e| anyhow::anyhow!("a TOTP secret casewire cannot use: {e}"))
}

/// What an authenticator app scans: the `otpauth://` URL, and it as a QR code (PNG, in
/// base64 for a `data:` image).
pub fn enrollment(secret: &str, account: &str) -> anyhow::Result<(String, String)> {
    let totp = totp(secret, account)?;
    let qr = totp.get_qr_base64().map_err(anyhow::Error::msg)?;
    Ok((totp.get_url(), qr))
}

/// The code of `secret` at `unix` seconds (for tests, as the app would show it).
pub fn code(secret: &str, unix: u64) -> anyhow::Result<String> {
    Ok(totp(secret, "")?.generate(unix))
}

/// The time step whose code `code` is, at `unix` seconds: this step's, or one either side
/// for a phone's clock that drifts. None when it matches none.
pub fn matching_step(secret: &str, code: &str, unix: u64) -> Option<u64> {
    let totp = totp(secret, "").ok()?;
    let code = code.trim().replace(' ', "");
    let now = unix / STEP;
    [now, now.saturating_sub(1), now + 1]
        .into_iter()
        .find(|step| {
            casewire_crypto::constant_time_eq(
                totp.generate(step * STEP).as_bytes(),
                code.as_bytes(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_or_one_beside_it() {
        let secret = new_secret();
        let t = 1_800_000_000;
        let now = code(&secret, t).unwrap();
        assert_eq!(matching_step(&secret, &now, t), Some(t / STEP));
        let before = code(&secret, t - STEP).unwrap();
        assert_eq!(matching_step(&secret, &before, t), Some(t / STEP - 1));
        let old = code(&secret, t - 3 * STEP).unwrap();
        assert_eq!(matching_step(&secret, &old, t), None);
        assert_eq!(matching_step(&secret, "12345", t), None);
        let (url, qr) = enrollment(&secret, "ana@prairie.example").unwrap();
        assert!(
            url.starts_with("otpauth://totp/casewire:ana%40prairie.example?"),
            "{url}"
        );
        assert!(!qr.is_empty());
    }

    #[test]
    fn the_rfc_6238_test_vector_holds() {
        // RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at 59 s.
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        assert_eq!(code(&secret, 59).unwrap(), "287082");
    }
}
