//! A console user: a person of one organization, invited by an admin, who signs in with a
//! password. Command in, events out, no I/O: the password is checked before the command
//! (it is CPU work, not a decision), and time comes in the command.

use chrono::{DateTime, Duration, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use casewire_events::Sealed;
use casewire_tenancy::Role;

pub const AGGREGATE: &str = "user";

/// How long an invitation link may be opened.
pub const INVITATION_VALID: Duration = Duration::days(7);
/// Failed sign-ins within [`FAILURE_WINDOW`] that lock the account...
pub const FAILURES_TO_LOCK: usize = 5;
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
/// ...for this long.
pub const LOCKOUT: Duration = Duration::minutes(15);

/// The sealed subject of a user's personal fields (email, name, password hash): the
/// user's own data key, so that removing a person can erase them as a client is erased.
pub fn subject(user_id: &str) -> String {
    format!("user:{user_id}")
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct User {
    /// The user's id, which names the subject of their sealed fields.
    id: String,
    invited: bool,
    removed: bool,
    /// The hash of the invitation link's token while it may still be used.
    invitation: Option<(String, DateTime<Utc>)>,
    /// Failed sign-ins since the last success, newest last.
    failures: Vec<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
    /// Hashes of the sessions signed in and not out.
    sessions: Vec<String>,
    /// Two-step sign-in is on: a sign-in needs a code of a step not used before.
    totp: bool,
    /// The newest step whose code signed in: a code is good once (RFC 6238, 5.2).
    last_step: u64,
}

#[derive(Clone, Debug)]
pub enum UserCommand {
    Invite {
        /// The new user's id (made by the caller, as API keys' are).
        id: String,
        email: String,
        name: String,
        role: Role,
        advocate_id: Option<String>,
        invitation_hash: String,
        now: DateTime<Utc>,
    },
    /// The invitation link opened and a password chosen (already checked and hashed).
    ChoosePassword {
        invitation_hash: String,
        password_hash: String,
        now: DateTime<Utc>,
    },
    /// The right password (and, with two-step sign-in on, the code of `totp_step`): a
    /// session begins, unless the account is locked or the code was used.
    SignIn {
        session_hash: String,
        address: String,
        totp_step: Option<u64>,
        now: DateTime<Utc>,
    },
    /// Two-step sign-in turned on with this secret (the person showed a code of it).
    AddTotp {
        secret: String,
    },
    RemoveTotp,
    /// A wrong password.
    FailSignIn {
        address: String,
        now: DateTime<Utc>,
    },
    SignOut {
        session_hash: String,
        why: SignOutReason,
    },
    Remove,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignOutReason {
    /// The person signed out.
    SignedOut,
    /// Idle, or past the absolute lifetime.
    Expired,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum UserEvent {
    UserInvited {
        id: String,
        email: Sealed<String>,
        name: Sealed<String>,
        role: Role,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        advocate_id: Option<String>,
        /// Only the link's hash: the link itself exists only in the admin's hands.
        invitation_hash: String,
        expires_at: DateTime<Utc>,
    },
    /// An argon2id hash, sealed: an auditor's export holds no hash to guess against.
    PasswordChosen {
        password_hash: Sealed<String>,
    },
    SignedIn {
        session_hash: String,
        address: String,
        /// The step of the code that signed in, with two-step sign-in on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        totp_step: Option<u64>,
    },
    /// Sealed, as a password hash is.
    TotpAdded {
        secret: Sealed<String>,
    },
    TotpRemoved {},
    SignInFailed {
        address: String,
        at: DateTime<Utc>,
        /// Failures within the window, this one included.
        failures: u32,
    },
    LockedOut {
        until: DateTime<Utc>,
    },
    SignedOut {
        session_hash: String,
        why: SignOutReason,
    },
    UserRemoved {},
}

impl DomainEvent for UserEvent {
    fn event_type(&self) -> String {
        match self {
            UserEvent::UserInvited { .. } => "UserInvited",
            UserEvent::PasswordChosen { .. } => "PasswordChosen",
            UserEvent::SignedIn { .. } => "SignedIn",
            UserEvent::TotpAdded { .. } => "TotpAdded",
            UserEvent::TotpRemoved { .. } => "TotpRemoved",
            UserEvent::SignInFailed { .. } => "SignInFailed",
            UserEvent::LockedOut { .. } => "LockedOut",
            UserEvent::SignedOut { .. } => "SignedOut",
            UserEvent::UserRemoved { .. } => "UserRemoved",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("no such user")]
    NoSuchUser,
    #[error("this person is already a user of the organization")]
    Exists,
    #[error("{0}")]
    Invalid(String),
    #[error("this invitation link was used already, has expired or was withdrawn; ask your admin for a new one")]
    InvitationInvalid,
    #[error("too many failed sign-ins: this account is locked until {0}")]
    Locked(String),
    #[error("this code was used already; wait for your app's next one")]
    CodeUsed,
    #[error("two-step sign-in is {0} already")]
    TotpAlready(&'static str),
}

impl casewire_bus::Refusal for UserError {
    fn code(&self) -> casewire_bus::ErrorCode {
        use casewire_bus::ErrorCode as C;
        match self {
            UserError::NoSuchUser | UserError::InvitationInvalid => C::NotFound,
            UserError::Exists
            | UserError::Locked(_)
            | UserError::CodeUsed
            | UserError::TotpAlready(_) => C::Conflict,
            UserError::Invalid(_) => C::Invalid,
        }
    }
}

/// An email address as the console keys people by: trimmed, lowercased, one `@` with
/// something on each side, no spaces, at most 254 characters.
pub fn email(raw: &str) -> Result<String, UserError> {
    let email = raw.trim().to_lowercase();
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if ok {
        Ok(email)
    } else {
        Err(UserError::Invalid(format!(
            "email: {raw:?} is not an email address"
        )))
    }
}

impl User {
    fn locked(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }

    fn active(&self) -> Result<(), UserError> {
        if !self.invited || self.removed {
            return Err(UserError::NoSuchUser);
        }
        Ok(())
    }
}

impl Aggregate for User {
    const TYPE: &'static str = AGGREGATE;
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;
    type Services = ();

    async fn handle(
        &mut self,
        command: UserCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), UserError> {
        let events = match command {
            UserCommand::Invite {
                id,
                email: raw,
                name,
                role,
                advocate_id,
                invitation_hash,
                now,
            } => {
                if self.invited && !self.removed {
                    return Err(UserError::Exists);
                }
                let email = email(&raw)?;
                let name = name.trim().to_string();
                if name.is_empty()
                    || name.chars().count() > 200
                    || name.chars().any(char::is_control)
                {
                    return Err(UserError::Invalid(
                        "name: 1 to 200 characters, as colleagues know the person".into(),
                    ));
                }
                if role == Role::Integration {
                    return Err(UserError::Invalid(
                        "role: a person is an admin, an advocate or a compliance officer; a CMS uses an API key".into(),
                    ));
                }
                match &advocate_id {
                    Some(_) if role != Role::Advocate => {
                        return Err(UserError::Invalid(format!(
                            "advocate_id: only an advocate has one, not a {} user",
                            role.as_str()
                        )))
                    }
                    Some(a) if !casewire_events::is_person_id(a) => {
                        return Err(UserError::Invalid(format!(
                            "advocate_id: {}",
                            casewire_events::PERSON_ID_RULE
                        )))
                    }
                    _ => {}
                }
                let subject = subject(&id);
                vec![UserEvent::UserInvited {
                    id,
                    email: Sealed::new(subject.clone(), email),
                    name: Sealed::new(subject, name),
                    role,
                    advocate_id,
                    invitation_hash,
                    expires_at: now + INVITATION_VALID,
                }]
            }
            UserCommand::ChoosePassword {
                invitation_hash,
                password_hash,
                now,
            } => {
                self.active().map_err(|_| UserError::InvitationInvalid)?;
                match &self.invitation {
                    Some((hash, until))
                        if casewire_crypto::constant_time_eq(
                            hash.as_bytes(),
                            invitation_hash.as_bytes(),
                        ) && *until > now => {}
                    _ => return Err(UserError::InvitationInvalid),
                }
                vec![UserEvent::PasswordChosen {
                    password_hash: Sealed::new(subject(&self.id), password_hash),
                }]
            }
            UserCommand::SignIn {
                session_hash,
                address,
                totp_step,
                now,
            } => {
                self.active()?;
                if let Some(until) = self.locked(now) {
                    return Err(UserError::Locked(until.to_rfc3339()));
                }
                let totp_step =
                    match (self.totp, totp_step) {
                        (false, _) => None,
                        (true, Some(step)) if step > self.last_step => Some(step),
                        (true, Some(_)) => return Err(UserError::CodeUsed),
                        (true, None) => return Err(UserError::Invalid(
                            "code: this account signs in with a code from its authenticator app"
                                .into(),
                        )),
                    };
                vec![UserEvent::SignedIn {
                    session_hash,
                    address,
                    totp_step,
                }]
            }
            UserCommand::AddTotp { secret } => {
                self.active()?;
                if self.totp {
                    return Err(UserError::TotpAlready("on"));
                }
                vec![UserEvent::TotpAdded {
                    secret: Sealed::new(subject(&self.id), secret),
                }]
            }
            UserCommand::RemoveTotp => {
                self.active()?;
                if !self.totp {
                    return Err(UserError::TotpAlready("off"));
                }
                vec![UserEvent::TotpRemoved {}]
            }
            UserCommand::FailSignIn { address, now } => {
                self.active()?;
                if self.locked(now).is_some() {
                    // Locked already: the failure is the lock's, not a new one.
                    return Ok(());
                }
                let failures = self
                    .failures
                    .iter()
                    .filter(|at| **at > now - FAILURE_WINDOW)
                    .count()
                    + 1;
                let mut events = vec![UserEvent::SignInFailed {
                    address,
                    at: now,
                    failures: failures as u32,
                }];
                if failures >= FAILURES_TO_LOCK {
                    events.push(UserEvent::LockedOut {
                        until: now + LOCKOUT,
                    });
                }
                events
            }
            UserCommand::SignOut { session_hash, why } => {
                if !self.sessions.contains(&session_hash) {
                    return Ok(());
                }
                vec![UserEvent::SignedOut { session_hash, why }]
            }
            UserCommand::Remove => {
                self.active()?;
                vec![UserEvent::UserRemoved {}]
            }
        };
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: UserEvent) {
        match event {
            UserEvent::UserInvited {
                id,
                invitation_hash,
                expires_at,
                ..
            } => {
                *self = User {
                    id,
                    invited: true,
                    invitation: Some((invitation_hash, expires_at)),
                    ..User::default()
                };
            }
            UserEvent::PasswordChosen { .. } => self.invitation = None,
            UserEvent::SignedIn {
                session_hash,
                totp_step,
                ..
            } => {
                self.failures.clear();
                self.locked_until = None;
                self.sessions.push(session_hash);
                if let Some(step) = totp_step {
                    self.last_step = step;
                }
            }
            UserEvent::TotpAdded { .. } => self.totp = true,
            UserEvent::TotpRemoved {} => self.totp = false,
            UserEvent::SignInFailed { at, .. } => self.failures.push(at),
            UserEvent::LockedOut { until } => {
                self.failures.clear();
                self.locked_until = Some(until);
            }
            UserEvent::SignedOut { session_hash, .. } => {
                self.sessions.retain(|s| *s != session_hash)
            }
            UserEvent::UserRemoved {} => {
                self.removed = true;
                self.invitation = None;
                self.sessions.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<User>;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minutes)
    }

    fn invite() -> UserCommand {
        UserCommand::Invite {
            id: "u1".into(),
            email: " Ana@Prairie.example ".into(),
            name: "Ana Ruiz".into(),
            role: Role::Compliance,
            advocate_id: None,
            invitation_hash: "inv".into(),
            now: at(0),
        }
    }

    fn invited() -> UserEvent {
        UserEvent::UserInvited {
            id: "u1".into(),
            email: Sealed::new("user:u1", "ana@prairie.example".to_string()),
            name: Sealed::new("user:u1", "Ana Ruiz".to_string()),
            role: Role::Compliance,
            advocate_id: None,
            invitation_hash: "inv".into(),
            expires_at: at(0) + INVITATION_VALID,
        }
    }

    fn chosen() -> UserEvent {
        UserEvent::PasswordChosen {
            password_hash: Sealed::new("user:u1", "$argon2id$…".to_string()),
        }
    }

    fn fail(minute: i64) -> UserCommand {
        UserCommand::FailSignIn {
            address: "192.0.2.7".into(),
            now: at(minute),
        }
    }

    fn failed(minute: i64, failures: u32) -> UserEvent {
        UserEvent::SignInFailed {
            address: "192.0.2.7".into(),
            at: at(minute),
            failures,
        }
    }

    fn sign_in(minute: i64) -> UserCommand {
        UserCommand::SignIn {
            session_hash: "s1".into(),
            address: "192.0.2.7".into(),
            totp_step: None,
            now: at(minute),
        }
    }

    #[test]
    fn an_invitation_names_a_person_with_a_role_and_seals_them() {
        Given::with(())
            .given_no_previous_events()
            .when(invite())
            .then_expect_events(vec![invited()]);
        Given::with(())
            .given(vec![invited()])
            .when(invite())
            .then_expect_error(UserError::Exists);
        let bad = |f: fn(&mut UserCommand)| {
            let mut c = invite();
            f(&mut c);
            c
        };
        for (command, says) in [
            (
                bad(|c| {
                    if let UserCommand::Invite { email, .. } = c {
                        *email = "ana at prairie".into()
                    }
                }),
                "email:",
            ),
            (
                bad(|c| {
                    if let UserCommand::Invite { role, .. } = c {
                        *role = Role::Integration
                    }
                }),
                "role:",
            ),
            (
                bad(|c| {
                    if let UserCommand::Invite { advocate_id, .. } = c {
                        *advocate_id = Some("a.lee".into())
                    }
                }),
                "advocate_id: only an advocate",
            ),
        ] {
            let error = Given::with(())
                .given_no_previous_events()
                .when(command)
                .inspect_result()
                .unwrap_err();
            assert!(error.to_string().starts_with(says), "{error}");
        }
    }

    #[test]
    fn an_invitation_sets_one_password_within_its_week() {
        let choose = |hash: &str, minute: i64| UserCommand::ChoosePassword {
            invitation_hash: hash.into(),
            password_hash: "$argon2id$…".into(),
            now: at(minute),
        };
        Given::with(())
            .given(vec![invited()])
            .when(choose("inv", 60))
            .then_expect_events(vec![chosen()]);
        Given::with(())
            .given(vec![invited()])
            .when(choose("other", 60))
            .then_expect_error(UserError::InvitationInvalid);
        Given::with(())
            .given(vec![invited(), chosen()])
            .when(choose("inv", 60))
            .then_expect_error(UserError::InvitationInvalid);
        Given::with(())
            .given(vec![invited()])
            .when(choose("inv", 7 * 24 * 60 + 1))
            .then_expect_error(UserError::InvitationInvalid);
        Given::with(())
            .given(vec![invited(), UserEvent::UserRemoved {}])
            .when(choose("inv", 60))
            .then_expect_error(UserError::InvitationInvalid);
    }

    #[test]
    fn five_failures_in_fifteen_minutes_lock_the_account_for_fifteen() {
        Given::with(())
            .given(vec![invited(), chosen()])
            .when(fail(1))
            .then_expect_events(vec![failed(1, 1)]);
        let four = vec![
            invited(),
            chosen(),
            failed(1, 1),
            failed(2, 2),
            failed(3, 3),
            failed(4, 4),
        ];
        Given::with(())
            .given(four.clone())
            .when(fail(5))
            .then_expect_events(vec![
                failed(5, 5),
                UserEvent::LockedOut {
                    until: at(5) + LOCKOUT,
                },
            ]);
        // Old failures fall out of the window: at minute 17, those of minutes 3 and 4 count.
        Given::with(())
            .given(four.clone())
            .when(fail(17))
            .then_expect_events(vec![failed(17, 3)]);
        let mut locked = four;
        locked.extend([
            failed(5, 5),
            UserEvent::LockedOut {
                until: at(5) + LOCKOUT,
            },
        ]);
        // Locked: even the right password does not sign in, and says until when.
        Given::with(())
            .given(locked.clone())
            .when(sign_in(10))
            .then_expect_error(UserError::Locked((at(5) + LOCKOUT).to_rfc3339()));
        Given::with(())
            .given(locked.clone())
            .when(fail(10))
            .then_expect_events(vec![]);
        Given::with(())
            .given(locked)
            .when(sign_in(21))
            .then_expect_events(vec![UserEvent::SignedIn {
                session_hash: "s1".into(),
                address: "192.0.2.7".into(),
                totp_step: None,
            }]);
    }

    #[test]
    fn a_session_ends_once_and_a_removed_user_signs_in_no_more() {
        let signed_in = UserEvent::SignedIn {
            session_hash: "s1".into(),
            address: "192.0.2.7".into(),
            totp_step: None,
        };
        let out = |why| UserCommand::SignOut {
            session_hash: "s1".into(),
            why,
        };
        Given::with(())
            .given(vec![invited(), chosen(), signed_in.clone()])
            .when(out(SignOutReason::SignedOut))
            .then_expect_events(vec![UserEvent::SignedOut {
                session_hash: "s1".into(),
                why: SignOutReason::SignedOut,
            }]);
        Given::with(())
            .given(vec![
                invited(),
                chosen(),
                signed_in.clone(),
                UserEvent::SignedOut {
                    session_hash: "s1".into(),
                    why: SignOutReason::Expired,
                },
            ])
            .when(out(SignOutReason::SignedOut))
            .then_expect_events(vec![]);
        Given::with(())
            .given(vec![invited(), chosen(), UserEvent::UserRemoved {}])
            .when(sign_in(1))
            .then_expect_error(UserError::NoSuchUser);
        Given::with(())
            .given(vec![invited(), chosen(), UserEvent::UserRemoved {}])
            .when(UserCommand::Remove)
            .then_expect_error(UserError::NoSuchUser);
    }

    #[test]
    fn with_two_step_sign_in_a_code_is_needed_and_good_once() {
        let added = UserEvent::TotpAdded {
            secret: Sealed::new("user:u1", "JBSWY3DPEHPK3PXP".to_string()),
        };
        Given::with(())
            .given(vec![invited(), chosen()])
            .when(UserCommand::AddTotp {
                secret: "JBSWY3DPEHPK3PXP".into(),
            })
            .then_expect_events(vec![added.clone()]);
        let with_code = |step| UserCommand::SignIn {
            session_hash: "s2".into(),
            address: "192.0.2.7".into(),
            totp_step: step,
            now: at(1),
        };
        let error = Given::with(())
            .given(vec![invited(), chosen(), added.clone()])
            .when(with_code(None))
            .inspect_result()
            .unwrap_err();
        assert!(error.to_string().starts_with("code:"), "{error}");
        let first = UserEvent::SignedIn {
            session_hash: "s1".into(),
            address: "192.0.2.7".into(),
            totp_step: Some(100),
        };
        Given::with(())
            .given(vec![invited(), chosen(), added.clone(), first.clone()])
            .when(with_code(Some(100)))
            .then_expect_error(UserError::CodeUsed);
        Given::with(())
            .given(vec![invited(), chosen(), added.clone(), first])
            .when(with_code(Some(101)))
            .then_expect_events(vec![UserEvent::SignedIn {
                session_hash: "s2".into(),
                address: "192.0.2.7".into(),
                totp_step: Some(101),
            }]);
        Given::with(())
            .given(vec![invited(), chosen(), added])
            .when(UserCommand::AddTotp {
                secret: "other".into(),
            })
            .then_expect_error(UserError::TotpAlready("on"));
    }
}
