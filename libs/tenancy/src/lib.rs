//! Tenancy: organizations and their API keys. The [`Tenant`] aggregate holds the rules;
//! the gateway runs its commands, and every service keeps a directory of tenants
//! ([`TenantDirectory`]) fed by its events.

mod aggregate;
mod api_key;
mod policy;
mod projection;
mod reminder_policy;
mod retention;
mod review_rules;
mod sms_provider;
mod sso;
mod wording;
pub use wording::{check_language, check_text};

pub use aggregate::{Tenant, TenantCommand, TenantError, TenantEvent};
pub use api_key::{ApiKeySecret, Role};
pub use policy::{
    ConsentAnswer, ConsentPolicy, ConversationConsent, KeywordLists, Policy, QuietHours,
    ReplyTexts, REPLY_VARIABLES,
};
pub use projection::{
    ApiKeys, Policies, ReminderPolicies, Retentions, ReviewRuleSets, SmsProviders, SsoConfigs,
    TenantDirectory, TenantSetting, TenantSettings,
};
pub use reminder_policy::{KindPolicy, Offset, ReminderPolicy, TEMPLATE_VARIABLES};
pub use retention::{Period, Retention};
pub use review_rules::{words, ReviewRules};
pub use sms_provider::{
    SmsProvider, SmsSettings, SmsSettingsInput, AUTH_TOKEN_SUBJECT, DEFAULT_PRICE_PER_MMS_MICROS,
    DEFAULT_PRICE_PER_SEGMENT_MICROS,
};
pub use sso::{SsoSettings, CLIENT_SECRET_SUBJECT};
