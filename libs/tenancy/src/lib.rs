//! Tenancy: organizations and their API keys. The [`Tenant`] aggregate holds the rules;
//! the gateway runs its commands, and every service keeps a directory of tenants
//! ([`TenantDirectory`]) fed by its events.

mod aggregate;
mod api_key;
mod projection;

pub use aggregate::{Tenant, TenantCommand, TenantError, TenantEvent};
pub use api_key::{ApiKeySecret, Role};
pub use projection::{ApiKeys, TenantDirectory};
