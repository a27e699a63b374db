//! The case-link service owns the links between the CMS's cases and clients' phones, routes inbound texts to cases, keeps each case's thread and delivers its events to the CMS.
//!
//! So far it keeps its directory of tenants; the feature issues fill in its domain.

use casewire_bus::Wiring;
use casewire_tenancy::TenantDirectory;

pub const SERVICE: &str = "case-link";

/// What this service runs: start it with `Bus::start`.
pub fn wiring() -> Wiring {
    Wiring::new(SERVICE).projection(TenantDirectory::new("caselink_tenants", "caselink_tenants"))
}
