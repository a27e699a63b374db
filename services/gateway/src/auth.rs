//! Who is calling. The tenant always comes from the credential, never from the request:
//! a key of one tenant naming another tenant's object gets a 404, as if it did not exist.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use casewire_events::{Actor, Metadata};
use casewire_tenancy::Role;

use crate::{ApiError, Gateway};

/// The namespace of ids derived from Idempotency-Keys (a fixed, random UUID).
const IDEMPOTENT_IDS: uuid::Uuid = uuid::Uuid::from_u128(0x6f1c_2a3e_9b4d_4f61_8a27_5c0d_e3b1_94a8);

#[derive(Clone, Debug)]
pub enum Caller {
    /// The platform operator (`CASEWIRE_OPERATOR_TOKEN`): creates tenants, sees every one.
    Operator,
    /// A member of one tenant: an API key, or a person signed in to the console.
    Member {
        /// `Actor::ApiKey(key id)` or `Actor::User(user id)`: named in every event it causes.
        actor: Actor,
        tenant_id: String,
        role: Role,
        /// The advocate a bound advocate key acts for: it sees only the cases that list them.
        advocate: Option<String>,
    },
}

/// The authenticated caller of a request, with the request's id and the person it acts
/// for, for the audit trail.
#[derive(Clone, Debug)]
pub struct Auth {
    pub caller: Caller,
    /// `Casewire-On-Behalf-Of`: see [`on_behalf_of`].
    on_behalf_of: Option<String>,
    request_id: Option<String>,
    /// The request's `Idempotency-Key` (checked by the idempotency layer).
    idempotency_key: Option<String>,
}

impl FromRequestParts<Gateway> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, gw: &Gateway) -> Result<Self, ApiError> {
        let header = |name: &str| {
            (parts.headers.get(name))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (request_id, idempotency_key) = (header("x-request-id"), header("idempotency-key"));
        let on_behalf_of = on_behalf_of(parts.headers.get(ON_BEHALF_OF))?;
        // Already authenticated by the Idempotency-Key layer: not looked up twice.
        let caller = match parts.extensions.get::<Caller>().cloned() {
            Some(caller) => caller,
            None => {
                if !parts.headers.contains_key(AUTHORIZATION) {
                    return Err(ApiError::unauthorized(
                        "missing credential: send Authorization: Bearer <API key>",
                    ));
                }
                let token = bearer(&parts.headers).ok_or_else(|| {
                    ApiError::unauthorized("the Authorization header must be: Bearer <API key>")
                })?;
                gw.authenticate(token).await?
            }
        };
        // A bound key acts for its advocate, and for no one else.
        let on_behalf_of = match (caller.advocate(), on_behalf_of) {
            (Some(bound), Some(named)) if named != bound => {
                return Err(ApiError::forbidden(format!(
                    "this key is bound to advocate {bound:?} and cannot act on behalf of {named:?}"
                )))
            }
            (Some(bound), _) => Some(bound.to_string()),
            (None, named) => named,
        };
        Ok(Auth {
            caller,
            on_behalf_of,
            request_id,
            idempotency_key,
        })
    }
}

impl Caller {
    /// The advocate a bound key (or an advocate's console user) acts for.
    fn advocate(&self) -> Option<&str> {
        match self {
            Caller::Member {
                advocate: Some(a), ..
            } => Some(a),
            _ => None,
        }
    }

    /// What the caller is, for refusals: "a key", "a user", "the operator".
    fn noun(&self) -> &'static str {
        match self {
            Caller::Member {
                actor: Actor::User(_),
                ..
            } => "a user",
            Caller::Member { .. } => "a key",
            Caller::Operator => "the operator",
        }
    }
}

/// The header a CMS names the person it acts for by.
pub const ON_BEHALF_OF: &str = "casewire-on-behalf-of";

/// The person a request acts for (`Casewire-On-Behalf-Of: <advocate id>`), recorded beside
/// the key in every event it causes: 1 to 128 visible ASCII characters, as the CMS names
/// its people. Absent, the key alone is named.
fn on_behalf_of(value: Option<&HeaderValue>) -> Result<Option<String>, ApiError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let person = (value.to_str().ok().map(str::trim)).filter(|p| casewire_events::is_person_id(p));
    match person {
        Some(person) => Ok(Some(person.to_string())),
        None => Err(ApiError::bad_request(format!(
            "Casewire-On-Behalf-Of names the person the key acts for: {}",
            casewire_events::PERSON_ID_RULE
        ))),
    }
}

/// The bearer token a request sent, if any. The scheme's name is case-insensitive (RFC 9110).
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let (scheme, token) = headers.get(AUTHORIZATION)?.to_str().ok()?.split_once(' ')?;
    Some(token.trim()).filter(|t| scheme.eq_ignore_ascii_case("bearer") && !t.is_empty())
}

impl Auth {
    /// The id of what this request creates when it carries an Idempotency-Key: derived from
    /// the tenant, the credential and the key, so that a retry names the same thing and the
    /// service answers it again instead of creating a second one, whatever the gateway
    /// remembered of the first request (docs/texting.md, "Idempotency-Key").
    pub fn idempotent_id(&self) -> Option<String> {
        let key = self.idempotency_key.as_deref()?;
        let credential = match &self.caller {
            Caller::Operator => "operator:".to_string(),
            // A key's ids are as they always were: retries across an upgrade still match.
            Caller::Member {
                actor: Actor::ApiKey(key_id),
                tenant_id,
                ..
            } => format!("{tenant_id}:{key_id}"),
            Caller::Member {
                actor, tenant_id, ..
            } => format!("{tenant_id}:{actor}"),
        };
        let name = format!("{credential}:{key}");
        Some(uuid::Uuid::new_v5(&IDEMPOTENT_IDS, name.as_bytes()).to_string())
    }

    /// The event metadata of what this request causes.
    pub fn metadata(&self) -> Metadata {
        let actor = match &self.caller {
            Caller::Operator => Actor::Operator,
            Caller::Member { actor, .. } => actor.clone(),
        };
        let trace = casewire_telemetry::inject();
        Metadata {
            on_behalf_of: self.on_behalf_of.clone(),
            request_id: self.request_id.clone(),
            correlation_id: self.request_id.clone(),
            traceparent: trace.get("traceparent").cloned(),
            tracestate: trace.get("tracestate").cloned(),
            ..Metadata::new(actor)
        }
    }

    /// Checks that this caller may act on `tenant_id` with one of `roles` (the operator
    /// always may). Another tenant, or a tenant that does not exist, is a 404.
    pub async fn require(
        &self,
        gw: &Gateway,
        tenant_id: &str,
        roles: &[Role],
    ) -> Result<(), ApiError> {
        match &self.caller {
            Caller::Operator => {
                if gw.tenant(tenant_id).await?.is_none() {
                    return Err(ApiError::not_found("no such tenant"));
                }
                Ok(())
            }
            Caller::Member {
                tenant_id: own,
                role,
                ..
            } => {
                if own != tenant_id {
                    return Err(ApiError::not_found("no such tenant"));
                }
                if !roles.contains(role) {
                    return Err(ApiError::forbidden(format!(
                        "{} with role {} may not do this; it needs one of: {}",
                        self.caller.noun(),
                        role.as_str(),
                        roles
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                Ok(())
            }
        }
    }

    /// Only the operator.
    pub fn require_operator(&self) -> Result<(), ApiError> {
        match self.caller {
            Caller::Operator => Ok(()),
            Caller::Member { .. } => Err(ApiError::forbidden(
                "only the platform operator may do this",
            )),
        }
    }

    /// Whether the caller reviews rather than works the cases: a compliance officer's reads
    /// of clients' texts are recorded in the trail.
    pub fn reviews(&self) -> bool {
        matches!(
            self.caller,
            Caller::Member {
                role: Role::Compliance,
                ..
            }
        )
    }

    /// The advocate a bound key acts for: it sees and texts only the cases that list them.
    pub fn advocate(&self) -> Option<&str> {
        self.caller.advocate()
    }

    /// Whether this caller may see a case that lists these advocates: any key of the case's
    /// tenant may, but a bound key only when the case lists its advocate.
    pub fn sees_case(&self, advocates: &[String]) -> bool {
        self.advocate()
            .is_none_or(|a| advocates.iter().any(|b| b == a))
    }

    /// Refuses a bound key what spans its whole tenant (the unrouted inbox, campaigns,
    /// consents by phone): it sees only its advocate's cases.
    pub fn whole_tenant(&self, what: &str) -> Result<(), ApiError> {
        match self.advocate() {
            Some(a) => Err(ApiError::forbidden(format!(
                "this key is bound to advocate {a:?} and sees only the cases that list them; {what} spans the whole organization"
            ))),
            None => Ok(()),
        }
    }

    /// The tenant of an API key; the operator has none.
    pub fn own_tenant(&self, roles: &[Role]) -> Result<&str, ApiError> {
        match &self.caller {
            Caller::Member {
                tenant_id, role, ..
            } if roles.contains(role) => Ok(tenant_id),
            Caller::Member { role, .. } => Err(ApiError::forbidden(format!(
                "{} with role {} may not do this",
                self.caller.noun(),
                role.as_str()
            ))),
            Caller::Operator => Err(ApiError::forbidden("use an API key of the tenant for this")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_behalf_of_names_a_person_or_says_what_is_wrong() {
        let of = |v: &str| on_behalf_of(Some(&HeaderValue::from_str(v).unwrap()));
        assert_eq!(on_behalf_of(None).unwrap(), None);
        assert_eq!(of(" a.lee ").unwrap().as_deref(), Some("a.lee"));
        assert_eq!(
            of("Ana Lee (intake)").unwrap().as_deref(),
            Some("Ana Lee (intake)")
        );
        for bad in ["", "   ", &"x".repeat(129)] {
            assert!(of(bad).is_err(), "{bad:?}");
        }
        let not_ascii = HeaderValue::from_bytes("Ana Peña".as_bytes()).unwrap();
        assert!(on_behalf_of(Some(&not_ascii)).is_err());
    }
}
