//! Who is signed in: the session cookie's person, checked on every page.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use casewire_events::Actor;
use casewire_people::{directory, session, SignOutReason, UserCommand, UserRow};

use super::Shown;
use crate::{ApiError, Caller, Gateway};

/// A person signed in to the console, with their session's CSRF token for the page's
/// forms.
pub(crate) struct Person {
    pub user: UserRow,
    pub csrf: String,
    /// The hash of the session's token, which signs it out.
    pub session_hash: String,
}

impl super::api::Speaks for Person {
    /// The person as the API sees a caller: a member of their tenant with their role,
    /// named `user:<id>` in every event, and bound to their advocate id as a key would be.
    fn caller(&self) -> Caller {
        Caller::Member {
            actor: Actor::User(self.user.id.clone()),
            tenant_id: self.user.tenant_id.clone(),
            role: self.user.role,
            advocate: self.user.advocate_id.clone(),
        }
    }
}

impl Person {
    /// Whether a form came from one of this person's pages: its CSRF token, or a 403 that
    /// says to reload.
    pub fn check_csrf(&self, sent: &str) -> Result<(), Shown> {
        if casewire_crypto::constant_time_eq(self.csrf.as_bytes(), sent.as_bytes()) {
            Ok(())
        } else {
            Err(super::sign_in::expired_form())
        }
    }
}

/// A form that carries nothing but its CSRF token: a button that does one thing.
#[derive(serde::Deserialize)]
pub(crate) struct Csrf {
    pub(crate) csrf: String,
}

impl FromRequestParts<Gateway> for Person {
    type Rejection = Shown;

    async fn from_request_parts(parts: &mut Parts, gw: &Gateway) -> Result<Self, Shown> {
        let then = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/console".into());
        let sign_in = || Shown::SignIn { then: then.clone() };
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(session::COOKIE).map(|c| c.value().to_string()) else {
            return Err(sign_in());
        };
        let hash = session::hash(&token);
        let store = gw.store();
        let Some(found) = directory::session(store, &hash)
            .await
            .map_err(ApiError::internal)?
        else {
            return Err(sign_in());
        };
        let at = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(ApiError::internal)
        };
        let now = casewire_events::utc_now();
        if !session::alive(at(&found.created_at)?, at(&found.seen_at)?, now) {
            // Ended by time: recorded, so the trail shows when each session ended.
            let end = UserCommand::SignOut {
                session_hash: hash,
                why: SignOutReason::Expired,
            };
            let metadata = casewire_events::Metadata::new(Actor::User(found.user.id.clone()));
            casewire_eventstore::framework::<casewire_people::User>(
                store,
                &found.user.tenant_id,
                (),
            )
            .execute_with_metadata(&found.user.id, end, metadata.into_map())
            .await
            .map_err(ApiError::from)?;
            return Err(sign_in());
        }
        directory::seen(store, &hash, &found.seen_at)
            .await
            .map_err(ApiError::internal)?;
        Ok(Person {
            user: found.user,
            csrf: session::csrf(&token),
            session_hash: hash,
        })
    }
}

/// A cookie as the console sets them: HttpOnly, Secure, SameSite=Strict, the whole site.
/// Browsers keep Secure cookies of http://localhost too, so `casewire dev` works as is.
pub(crate) fn cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .build()
}

/// The visitor's token (made now if they have none), for the CSRF token of the forms of
/// someone not signed in: the jar carries the new cookie back.
pub(crate) fn visitor(jar: CookieJar) -> (CookieJar, String) {
    match jar
        .get(session::VISITOR_COOKIE)
        .map(|c| c.value().to_string())
    {
        Some(token) => (jar, token),
        None => {
            let token = session::token();
            (
                jar.add(cookie(session::VISITOR_COOKIE, token.clone())),
                token,
            )
        }
    }
}
