//! Test harness: throw-away real servers on loopback, started from the binaries on this machine.
//!
//! * [`PgServer`]: a private PostgreSQL cluster (`initdb` in a temp dir, trust auth, superuser
//!   `casewire`), with [`PgServer::fresh_database`] handing each test its own empty database.
//! * [`NatsServer`]: a private `nats-server` with JetStream file storage in a temp dir, which can
//!   be [killed](NatsServer::kill) and [restarted](NatsServer::restart) on the same port and store
//!   to test durability.
//! * [`FakeTwilio`]: a fake Twilio REST API on loopback that speaks Twilio's wire format, can be
//!   scripted to fail (or to accept a message and lose the answer), lists what it accepted, and
//!   sends signed status callbacks and inbound webhooks.
//! * [`FakeCms`]: a CMS webhook receiver on loopback that records every `POST`, can be scripted
//!   to fail, and checks Standard Webhooks signatures.
//! * [`Browser`]: headless Chromium driven over WebDriver by a throw-away chromedriver,
//!   with screenshots and an accessibility audit (axe-core) of the page.
//! * [`wait_for`]: poll a condition with a deadline, instead of sleeping in tests.
//!
//! Each server lives as long as its value: dropping it stops the process and removes the temp
//! dir. If the test process dies without running destructors (aborted, killed, or a server kept
//! in a `static`), a small watchdog process notices that the process is gone, stops the server
//! and removes its temp dir, so nothing is left listening.
//!
//! Nothing is shared across processes: nextest runs each test in its own process, so each test
//! that needs a server starts one (PostgreSQL takes about a second, NATS a few milliseconds).

pub mod browser;
pub mod fake_cms;
pub mod fake_oidc;
pub mod fake_twilio;
mod nats;
mod pg;
mod proc;
pub mod spy;
mod wait;

pub use browser::Browser;
pub use fake_cms::{FakeCms, ReceivedWebhook};
pub use fake_oidc::FakeOidc;
pub use fake_twilio::{FakeTwilio, ListRequest, RecordedRequest, SentRecord};
pub use nats::{NatsCluster, NatsServer};
pub use pg::PgServer;
pub use spy::NatsSpy;
pub use wait::wait_for;
