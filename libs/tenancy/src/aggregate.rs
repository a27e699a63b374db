use std::collections::HashMap;
use std::str::FromStr;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::{
    Policy, ReminderPolicy, Retention, ReviewRules, Role, SmsSettings, SmsSettingsInput,
    SsoSettings,
};

/// A legal-aid organization: its name, time zone and API keys.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Tenant {
    created: bool,
    /// key id → revoked?
    keys: HashMap<String, bool>,
    policy: Option<Policy>,
    /// The provider refused the tenant's credentials since they were last set.
    sms_refused: bool,
}

#[derive(Clone, Debug)]
pub enum TenantCommand {
    Create {
        name: String,
        timezone: String,
    },
    IssueApiKey {
        key_id: String,
        name: String,
        role: Role,
        /// An advocate key bound to one advocate sees and texts only the cases that list them.
        advocate_id: Option<String>,
        prefix: String,
        secret_hash: String,
    },
    RevokeApiKey {
        key_id: String,
    },
    ConfigureSms(SmsSettingsInput),
    SetPolicy(Policy),
    SetReminderPolicy(ReminderPolicy),
    SetReviewRules(ReviewRules),
    SetRetention(Retention),
    /// The OpenID Connect provider the tenant's people sign in with.
    SetSso(SsoSettings),
    /// A signed webhook from the tenant's provider that casewire refused as malformed.
    RefuseWebhook {
        webhook: String,
        reason: String,
    },
    /// The provider refused the tenant's credentials (Twilio's 20003): texts wait.
    RefuseSmsCredentials {
        code: String,
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum TenantEvent {
    TenantCreated {
        name: String,
        timezone: String,
    },
    /// Only the key's hash is recorded: the secret itself exists only in its holder's hands.
    ApiKeyIssued {
        key_id: String,
        name: String,
        role: Role,
        /// The advocate (as the CMS names them) an advocate key is bound to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        advocate_id: Option<String>,
        prefix: String,
        secret_hash: String,
    },
    ApiKeyRevoked {
        key_id: String,
    },
    /// The auth token is sealed: the log holds it only encrypted.
    SmsProviderConfigured {
        settings: SmsSettings,
    },
    /// The whole policy, defaults filled in: each event says what held from then on.
    PolicySet {
        policy: Policy,
    },
    ReminderPolicySet {
        policy: ReminderPolicy,
    },
    /// The words that flag a text for review, the whole list each time.
    ReviewRulesSet {
        rules: ReviewRules,
    },
    /// How long clients' data is kept after their cases close.
    RetentionSet {
        retention: Retention,
    },
    /// The OpenID Connect provider; the client secret is sealed.
    SsoConfigured {
        settings: SsoSettings,
    },
    /// A webhook signed with the tenant's provider token but holding what the provider
    /// never sends (a malformed MessageSid, an oversized body, a NUL): answered 400 and
    /// kept here with the reason, never passed on.
    WebhookRefused {
        webhook: String,
        reason: String,
    },
    /// The provider refused the tenant's credentials (an auth token rotated in the
    /// Twilio console, say): the tenant's texts wait, queued, until an admin sets the
    /// provider again (`SmsProviderConfigured`).
    SmsCredentialsRefused {
        code: String,
        reason: String,
    },
}

impl DomainEvent for TenantEvent {
    fn event_type(&self) -> String {
        match self {
            TenantEvent::TenantCreated { .. } => "TenantCreated",
            TenantEvent::ApiKeyIssued { .. } => "ApiKeyIssued",
            TenantEvent::ApiKeyRevoked { .. } => "ApiKeyRevoked",
            TenantEvent::SmsProviderConfigured { .. } => "SmsProviderConfigured",
            TenantEvent::PolicySet { .. } => "PolicySet",
            TenantEvent::ReminderPolicySet { .. } => "ReminderPolicySet",
            TenantEvent::ReviewRulesSet { .. } => "ReviewRulesSet",
            TenantEvent::RetentionSet { .. } => "RetentionSet",
            TenantEvent::SsoConfigured { .. } => "SsoConfigured",
            TenantEvent::WebhookRefused { .. } => "WebhookRefused",
            TenantEvent::SmsCredentialsRefused { .. } => "SmsCredentialsRefused",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    #[error("this tenant already exists")]
    AlreadyExists,
    #[error("no such tenant")]
    NoSuchTenant,
    #[error("name: {0}")]
    InvalidName(String),
    #[error("timezone: {0:?} is not an IANA time zone (such as America/Chicago)")]
    InvalidTimezone(String),
    #[error("an API key with this id already exists")]
    KeyExists,
    #[error("no such API key")]
    NoSuchKey,
    #[error("advocate_id: {0}")]
    InvalidAdvocate(String),
    #[error("sms provider: {0}")]
    InvalidSmsProvider(String),
    #[error("policy: {0}")]
    InvalidPolicy(String),
    #[error("review rules: {0}")]
    InvalidReviewRules(String),
    #[error("{0}")]
    InvalidSso(String),
}

impl casewire_bus::Refusal for TenantError {
    fn code(&self) -> casewire_bus::ErrorCode {
        use casewire_bus::ErrorCode as C;
        match self {
            TenantError::NoSuchTenant | TenantError::NoSuchKey => C::NotFound,
            TenantError::AlreadyExists | TenantError::KeyExists => C::Conflict,
            TenantError::InvalidName(_)
            | TenantError::InvalidTimezone(_)
            | TenantError::InvalidAdvocate(_)
            | TenantError::InvalidSmsProvider(_)
            | TenantError::InvalidPolicy(_)
            | TenantError::InvalidReviewRules(_)
            | TenantError::InvalidSso(_) => C::Invalid,
        }
    }
}

fn check_name(what: &str, name: &str) -> Result<(), TenantError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(TenantError::InvalidName(format!(
            "{what} must not be empty"
        )));
    }
    if n.chars().count() > 200 {
        return Err(TenantError::InvalidName(format!(
            "{what} must be at most 200 characters"
        )));
    }
    if n.chars().any(char::is_control) {
        return Err(TenantError::InvalidName(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(())
}

impl Aggregate for Tenant {
    const TYPE: &'static str = "tenant";
    type Command = TenantCommand;
    type Event = TenantEvent;
    type Error = TenantError;
    type Services = ();

    async fn handle(
        &mut self,
        command: TenantCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), TenantError> {
        let event = match command {
            TenantCommand::Create { name, timezone } => {
                if self.created {
                    return Err(TenantError::AlreadyExists);
                }
                check_name("name", &name)?;
                if chrono_tz::Tz::from_str(&timezone).is_err() {
                    return Err(TenantError::InvalidTimezone(timezone));
                }
                TenantEvent::TenantCreated {
                    name: name.trim().to_string(),
                    timezone,
                }
            }
            TenantCommand::IssueApiKey {
                key_id,
                name,
                role,
                advocate_id,
                prefix,
                secret_hash,
            } => {
                if !self.created {
                    return Err(TenantError::NoSuchTenant);
                }
                if self.keys.contains_key(&key_id) {
                    return Err(TenantError::KeyExists);
                }
                check_name("name", &name)?;
                let advocate_id = advocate_id.map(|a| a.trim().to_string());
                match &advocate_id {
                    Some(_) if role != Role::Advocate => {
                        return Err(TenantError::InvalidAdvocate(format!(
                            "only an advocate key can be bound to an advocate, not a {} key",
                            role.as_str()
                        )))
                    }
                    Some(a) if !casewire_events::is_person_id(a) => {
                        return Err(TenantError::InvalidAdvocate(
                            casewire_events::PERSON_ID_RULE.to_string(),
                        ))
                    }
                    _ => {}
                }
                TenantEvent::ApiKeyIssued {
                    key_id,
                    name: name.trim().to_string(),
                    role,
                    advocate_id,
                    prefix,
                    secret_hash,
                }
            }
            TenantCommand::RevokeApiKey { key_id } => match self.keys.get(&key_id) {
                _ if !self.created => return Err(TenantError::NoSuchTenant),
                None => return Err(TenantError::NoSuchKey),
                // Revoking twice is asking for what is already so: nothing to record.
                Some(true) => return Ok(()),
                Some(false) => TenantEvent::ApiKeyRevoked { key_id },
            },
            TenantCommand::ConfigureSms(input) => {
                if !self.created {
                    return Err(TenantError::NoSuchTenant);
                }
                TenantEvent::SmsProviderConfigured {
                    settings: input.validate()?,
                }
            }
            TenantCommand::RefuseWebhook { webhook, reason } => {
                if !self.created {
                    return Err(TenantError::NoSuchTenant);
                }
                TenantEvent::WebhookRefused { webhook, reason }
            }
            TenantCommand::RefuseSmsCredentials { code, reason } => {
                if !self.created {
                    return Err(TenantError::NoSuchTenant);
                }
                // Every text held by it would say so again: once is the news.
                if self.sms_refused {
                    return Ok(());
                }
                TenantEvent::SmsCredentialsRefused { code, reason }
            }
            TenantCommand::SetPolicy(policy) => {
                if !self.created {
                    return Err(TenantError::NoSuchTenant);
                }
                policy.validate().map_err(TenantError::InvalidPolicy)?;
                if self.policy.as_ref() == Some(&policy) {
                    return Ok(());
                }
                TenantEvent::PolicySet { policy }
            }
            TenantCommand::SetReminderPolicy(policy) => {
                if !self.created {
                    return Err(TenantError::NoSuchTenant);
                }
                policy.validate().map_err(TenantError::InvalidPolicy)?;
                TenantEvent::ReminderPolicySet { policy }
            }
            TenantCommand::SetReviewRules(rules) => {
                if !self.created {
                    return Err(TenantError::NoSuchTenant);
                }
                let rules = rules.validate().map_err(TenantError::InvalidReviewRules)?;
                TenantEvent::ReviewRulesSet { rules }
            }
            TenantCommand::SetRetention(retention) => {
                if !self.created {
                    return Err(TenantError::NoSuchTenant);
                }
                let retention = retention.validate().map_err(TenantError::InvalidPolicy)?;
                TenantEvent::RetentionSet { retention }
            }
            TenantCommand::SetSso(settings) => {
                if !self.created {
                    return Err(TenantError::NoSuchTenant);
                }
                settings.validate().map_err(TenantError::InvalidSso)?;
                TenantEvent::SsoConfigured { settings }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: TenantEvent) {
        match event {
            TenantEvent::TenantCreated { .. } => self.created = true,
            TenantEvent::ApiKeyIssued { key_id, .. } => {
                self.keys.insert(key_id, false);
            }
            TenantEvent::ApiKeyRevoked { key_id } => {
                self.keys.insert(key_id, true);
            }
            TenantEvent::SmsProviderConfigured { .. } => self.sms_refused = false,
            TenantEvent::SmsCredentialsRefused { .. } => self.sms_refused = true,
            TenantEvent::PolicySet { policy } => self.policy = Some(policy),
            TenantEvent::ReminderPolicySet { .. }
            | TenantEvent::ReviewRulesSet { .. }
            | TenantEvent::RetentionSet { .. }
            | TenantEvent::SsoConfigured { .. }
            | TenantEvent::WebhookRefused { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<Tenant>;

    fn created() -> TenantEvent {
        TenantEvent::TenantCreated {
            name: "Prairie Legal Aid".into(),
            timezone: "America/Chicago".into(),
        }
    }

    fn issue(key_id: &str) -> TenantCommand {
        TenantCommand::IssueApiKey {
            key_id: key_id.into(),
            name: "LegalServer".into(),
            role: Role::Integration,
            advocate_id: None,
            prefix: "cw_abc".into(),
            secret_hash: "h".into(),
        }
    }

    fn issued(key_id: &str) -> TenantEvent {
        TenantEvent::ApiKeyIssued {
            key_id: key_id.into(),
            name: "LegalServer".into(),
            role: Role::Integration,
            advocate_id: None,
            prefix: "cw_abc".into(),
            secret_hash: "h".into(),
        }
    }

    #[test]
    fn a_tenant_is_created_once_with_a_real_time_zone() {
        Given::with(())
            .given_no_previous_events()
            .when(TenantCommand::Create {
                name: " Prairie Legal Aid ".into(),
                timezone: "America/Chicago".into(),
            })
            .then_expect_events(vec![created()]);
        Given::with(())
            .given(vec![created()])
            .when(TenantCommand::Create {
                name: "Again".into(),
                timezone: "UTC".into(),
            })
            .then_expect_error(TenantError::AlreadyExists);
        Given::with(())
            .given_no_previous_events()
            .when(TenantCommand::Create {
                name: "X".into(),
                timezone: "Mars/Olympus".into(),
            })
            .then_expect_error(TenantError::InvalidTimezone("Mars/Olympus".into()));
        Given::with(())
            .given_no_previous_events()
            .when(TenantCommand::Create {
                name: "  ".into(),
                timezone: "UTC".into(),
            })
            .then_expect_error_message("name: name must not be empty");
    }

    #[test]
    fn keys_are_issued_only_for_an_existing_tenant() {
        Given::with(())
            .given_no_previous_events()
            .when(issue("k1"))
            .then_expect_error(TenantError::NoSuchTenant);
        Given::with(())
            .given(vec![created()])
            .when(issue("k1"))
            .then_expect_events(vec![issued("k1")]);
        Given::with(())
            .given(vec![created(), issued("k1")])
            .when(issue("k1"))
            .then_expect_error(TenantError::KeyExists);
    }

    fn twilio(from: Option<&str>, service: Option<&str>) -> TenantCommand {
        TenantCommand::ConfigureSms(SmsSettingsInput {
            kind: "twilio".into(),
            account_sid: Some(format!("AC{}", "a".repeat(32))),
            auth_token: Some("secret-token".into()),
            from: from.map(Into::into),
            messaging_service_sid: service.map(Into::into),
            price_per_segment_usd: None,
            price_per_mms_usd: None,
        })
    }

    #[test]
    fn twilio_settings_seal_the_token_and_need_exactly_one_sender() {
        Given::with(())
            .given(vec![created()])
            .when(twilio(Some("(312) 555-0100"), None))
            .then_expect_events(vec![TenantEvent::SmsProviderConfigured {
                settings: SmsSettings {
                    provider: crate::SmsProvider::Twilio {
                        account_sid: format!("AC{}", "a".repeat(32)),
                        auth_token: casewire_events::Sealed::new(
                            crate::AUTH_TOKEN_SUBJECT,
                            "secret-token".to_string(),
                        ),
                        from: Some("+13125550100".into()),
                        messaging_service_sid: None,
                    },
                    price_per_segment_micros: crate::DEFAULT_PRICE_PER_SEGMENT_MICROS,
                    price_per_mms_micros: crate::DEFAULT_PRICE_PER_MMS_MICROS,
                },
            }]);
        Given::with(())
            .given(vec![created()])
            .when(twilio(None, None))
            .then_expect_error_message(
                "sms provider: give exactly one of from (a phone number) or messaging_service_sid",
            );
        Given::with(())
            .given(vec![created()])
            .when(twilio(None, Some("MG123")))
            .then_expect_error_message("sms provider: messaging_service_sid must be MG followed by 32 hexadecimal characters, as in the Twilio console");
        Given::with(())
            .given_no_previous_events()
            .when(twilio(Some("+13125550100"), None))
            .then_expect_error(TenantError::NoSuchTenant);
    }

    #[test]
    fn only_an_advocate_key_is_bound_to_an_advocate_named_as_the_cms_does() {
        let bound = |role, advocate: &str| TenantCommand::IssueApiKey {
            key_id: "k1".into(),
            name: "LegalServer".into(),
            role,
            advocate_id: Some(advocate.into()),
            prefix: "cw_abc".into(),
            secret_hash: "h".into(),
        };
        Given::with(())
            .given(vec![created()])
            .when(bound(Role::Advocate, " adv-7 "))
            .then_expect_events(vec![TenantEvent::ApiKeyIssued {
                key_id: "k1".into(),
                name: "LegalServer".into(),
                role: Role::Advocate,
                advocate_id: Some("adv-7".into()),
                prefix: "cw_abc".into(),
                secret_hash: "h".into(),
            }]);
        Given::with(())
            .given(vec![created()])
            .when(bound(Role::Compliance, "adv-7"))
            .then_expect_error_message(
                "advocate_id: only an advocate key can be bound to an advocate, not a compliance key",
            );
        Given::with(())
            .given(vec![created()])
            .when(bound(Role::Advocate, "adv\n7"))
            .then_expect_error_message(&format!(
                "advocate_id: {}",
                casewire_events::PERSON_ID_RULE
            ));
    }

    #[test]
    fn a_key_is_revoked_once_and_revoking_again_records_nothing() {
        let revoke = || TenantCommand::RevokeApiKey {
            key_id: "k1".into(),
        };
        Given::with(())
            .given(vec![created(), issued("k1")])
            .when(revoke())
            .then_expect_events(vec![TenantEvent::ApiKeyRevoked {
                key_id: "k1".into(),
            }]);
        Given::with(())
            .given(vec![
                created(),
                issued("k1"),
                TenantEvent::ApiKeyRevoked {
                    key_id: "k1".into(),
                },
            ])
            .when(revoke())
            .then_expect_events(vec![]);
        Given::with(())
            .given(vec![created()])
            .when(revoke())
            .then_expect_error(TenantError::NoSuchKey);
    }
}
