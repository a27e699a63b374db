//! The consent service owns each (tenant, phone number) consent state and its evidence, interprets keywords, and answers whether a number may be texted, for a purpose, now.
//!
//! So far: its directory of tenants, and what a client's text means for consent
//! ([`keywords`]), and the consent state machine ([`consent`]); its API, evidence
//! history and enforcement come next (issue 4).

pub mod consent;
pub mod keywords;

use casewire_bus::Wiring;
use casewire_tenancy::TenantDirectory;

pub const SERVICE: &str = "consent";

/// What this service runs: start it with `Bus::start`.
pub fn wiring() -> Wiring {
    Wiring::new(SERVICE).projection(TenantDirectory::new("consent_tenants", "consent_tenants"))
}
