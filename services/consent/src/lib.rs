//! The consent service owns each (tenant, phone number) consent state and its evidence
//! ([`consent`]), interprets keywords ([`keywords`]), and answers whether a number may be
//! texted ([`states::may_text`]). Confirmation texts, HELP replies, purposes, policy and
//! quiet hours come next (issue 4).

mod commands;
pub mod consent;
pub mod keywords;
pub mod states;

use std::sync::Arc;

use casewire_bus::{Projection, Wiring};
use casewire_eventstore::EventStore;
use casewire_tenancy::TenantDirectory;

pub use states::ConsentView;

pub const SERVICE: &str = "consent";

fn projections() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(TenantDirectory::new("consent_tenants", "consent_tenants")),
        Arc::new(states::Consents),
    ]
}

/// What this service runs: start it with `Bus::start`.
pub fn wiring(store: &EventStore) -> Wiring {
    let mut w = Wiring::new(SERVICE)
        .commands(commands::Commands {
            store: store.clone(),
            projections: projections(),
        })
        .worker(states::KeywordReader {
            projections: projections(),
        });
    w.projections = projections();
    w
}
