//! A console session: a random token in an HttpOnly cookie, kept by casewire only as its
//! hash, with an idle and an absolute lifetime; every form carries a CSRF token derived
//! from the cookie.

use chrono::{DateTime, Duration, Utc};

/// The session cookie. `__Host-` makes browsers insist on Secure, Path=/ and no Domain.
pub const COOKIE: &str = "__Host-casewire_session";
/// The cookie a visitor who is not signed in gets, so the sign-in and invitation forms
/// carry a CSRF token too.
pub const VISITOR_COOKIE: &str = "__Host-casewire_visitor";

/// A session unused this long ends.
pub const IDLE: Duration = Duration::minutes(30);
/// A session ends this long after sign-in, used or not.
pub const ABSOLUTE: Duration = Duration::hours(12);

/// A new session's (or visitor's) token: 32 random bytes.
pub fn token() -> String {
    casewire_crypto::random_token(32)
}

/// What casewire keeps of a token.
pub fn hash(token: &str) -> String {
    casewire_crypto::hash_secret(token)
}

/// The CSRF token of the forms of the holder of this cookie: only a page that can read
/// the cookie's value (none but casewire's, which set it HttpOnly) can compute it.
pub fn csrf(cookie: &str) -> String {
    casewire_crypto::hash_secret(&format!("casewire.csrf:{cookie}"))
}

/// Whether a form's CSRF token is this cookie's, compared in constant time.
pub fn csrf_matches(cookie: &str, sent: &str) -> bool {
    casewire_crypto::constant_time_eq(csrf(cookie).as_bytes(), sent.as_bytes())
}

/// Whether a session begun at `created` and last used at `seen` is still good at `now`.
pub fn alive(created: DateTime<Utc>, seen: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < created + ABSOLUTE && now < seen + IDLE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_idle_or_old() {
        let t0 = DateTime::UNIX_EPOCH + Duration::days(20_000);
        assert!(alive(t0, t0, t0 + Duration::minutes(29)));
        assert!(!alive(t0, t0, t0 + Duration::minutes(30)));
        // Used every ten minutes, it still ends at twelve hours.
        let used = t0 + Duration::hours(11) + Duration::minutes(55);
        assert!(alive(
            t0,
            used,
            t0 + Duration::hours(11) + Duration::minutes(59)
        ));
        assert!(!alive(t0, used, t0 + Duration::hours(12)));
    }

    #[test]
    fn a_csrf_token_is_its_cookies_alone() {
        let (a, b) = (token(), token());
        assert!(csrf_matches(&a, &csrf(&a)));
        assert!(!csrf_matches(&b, &csrf(&a)));
        assert!(!csrf_matches(&a, ""));
    }
}
