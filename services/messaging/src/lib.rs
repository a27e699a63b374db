//! The messaging service owns messages: the outbound lifecycle and inbound receipt, dispatch to the SMS provider, scheduling and bulk campaigns (ARCHITECTURE.md, Processes).
//!
//! So far it keeps its directory of tenants; the feature issues fill in its domain.

use casewire_bus::Wiring;
use casewire_tenancy::TenantDirectory;

pub const SERVICE: &str = "messaging";

/// What this service runs: start it with `Bus::start`.
pub fn wiring() -> Wiring {
    Wiring::new(SERVICE).projection(TenantDirectory::new(
        "messaging_tenants",
        "messaging_tenants",
    ))
}
