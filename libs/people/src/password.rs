//! Passwords: chosen long and uncommon, kept as argon2id hashes.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// NIST SP 800-63B asks at least 8; a legal-aid trail deserves more, and a passphrase of
/// a few words is easy to type and remember.
pub const MIN_LENGTH: usize = 12;
/// Long enough for any passphrase, short enough that hashing it costs nothing extra.
pub const MAX_LENGTH: usize = 128;

/// Whether `password` may be chosen by this person: long enough, and not among the
/// passwords people choose most (zxcvbn's lists of common passwords, names and words,
/// with the person's own email and name). The error says what to do.
pub fn check(password: &str, person: &[&str]) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(format!(
            "password: at least {MIN_LENGTH} characters (a few words make a good one)"
        ));
    }
    if length > MAX_LENGTH {
        return Err(format!("password: at most {MAX_LENGTH} characters"));
    }
    let guessable = u8::from(zxcvbn::zxcvbn(password, person).score()) < 3;
    if guessable {
        return Err(
            "password: this one is too common or too close to your name or email; try a few unrelated words"
                .into(),
        );
    }
    Ok(())
}

/// An argon2id hash (RFC 9106, OWASP's parameters: 19 MiB, two passes) in PHC form.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Whether `password` is the one `phc` was made from. A stored hash that does not parse
/// matches nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends a verification's time on nothing, so that an unknown email takes as long to
/// refuse as a wrong password (no timing tells which emails have accounts).
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("not a password of anyone").unwrap_or_default());
    verify(password, phc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_common_passwords_are_refused_with_what_to_do() {
        for (password, says) in [
            ("short", "at least 12"),
            ("password1234", "too common"),
            ("qwertyuiop123", "too common"),
            ("ana.ruiz@prairie.example", "too common"),
        ] {
            let error = check(password, &["ana.ruiz@prairie.example", "Ana Ruiz"]).unwrap_err();
            assert!(error.contains(says), "{password}: {error}");
        }
        check("correct horse battery staple", &["Ana Ruiz"]).unwrap();
    }

    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let phc = hash("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify("correct horse battery staple", &phc));
        assert!(!verify("correct horse battery stapler", &phc));
        assert!(!verify("correct horse battery staple", "not a hash"));
    }
}
