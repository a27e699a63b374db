//! The case-link service owns the links between the CMS's cases and clients' phones,
//! routes inbound texts to cases ([`routing`]), and delivers every text of a case to the
//! CMS through signed webhooks ([`webhooks`]).

pub mod case;
pub mod cases;
mod commands;
pub mod routing;
pub mod targets;
pub mod webhooks;

use std::sync::Arc;

use casewire_bus::{Projection, Reader, Wiring};
use casewire_eventstore::EventStore;
use casewire_tenancy::TenantDirectory;

pub use cases::{CaseView, ClientView};
pub use targets::Targets;
pub use webhooks::{DeliveryView, EndpointView};

pub use casewire_contract::case_link::SERVICE;

fn projections() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(TenantDirectory::new("caselink_tenants", "caselink_tenants")),
        Arc::new(cases::Cases),
        Arc::new(webhooks::Webhooks),
        Arc::new(routing::RoutingInbox),
    ]
}

/// What this service runs: start it with `Bus::start`. `targets`: where the CMS's
/// webhooks may go.
pub fn wiring(store: &EventStore, targets: Targets) -> Wiring {
    let reader = Reader::new(store, SERVICE, projections());
    Wiring::new(reader.clone())
        .commands(commands::handlers(commands::Commands {
            store: store.clone(),
            reader: reader.clone(),
            targets,
        }))
        .worker(routing::Router { reader })
        .worker(webhooks::Deliverer::new(targets))
}
