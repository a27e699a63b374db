//! The consent service owns each (tenant, phone number) consent state and its evidence
//! ([`consent`]), reads clients' texts for keywords (`casewire_keywords`), answers them
//! ([`replies`]). Messaging reads its events and decides for each text itself whether it may
//! go, by the tenant's policy (`casewire_tenancy::Policy::answer`). docs/consent.md has the
//! rules.

mod commands;
pub mod consent;
pub mod replies;
pub mod states;

use std::sync::Arc;

use casewire_bus::{Bus, Projection, Reader, Wiring};
use casewire_eventstore::EventStore;
use casewire_tenancy::{Policies, TenantDirectory};

pub use states::ConsentView;

pub use casewire_contract::consent::SERVICE;

pub(crate) fn policies() -> Policies {
    Policies::new("consent_policies", "consent_policies")
}

fn projections() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(TenantDirectory::new("consent_tenants", "consent_tenants")),
        Arc::new(policies()),
        Arc::new(states::Consents),
    ]
}

/// What this service runs: start it with `Bus::start`.
pub fn wiring(store: &EventStore, bus: &Bus) -> Wiring {
    let reader = Reader::new(store, SERVICE, projections());
    Wiring::new(reader.clone())
        .commands(commands::handlers(commands::Commands {
            store: store.clone(),
            reader: reader.clone(),
        }))
        .worker(states::KeywordReader {
            reader,
            bus: bus.clone(),
        })
        .worker(states::Replier { bus: bus.clone() })
}
