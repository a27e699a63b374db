//! The world the messaging tests run in: a real (SQLite) event store, the consent service
//! on the in-process bus, a fake Twilio over loopback, a tenant with Twilio, and a case.

#![allow(dead_code)]

use std::sync::Arc;

use casewire_bus::jobs::run_due;
use casewire_bus::{Bus, CommandHandler, Reader, Worker};
use casewire_crypto::Key;
use casewire_events::{Actor, Metadata};
use casewire_eventstore::{Db, EventStore};
use casewire_messaging::message::{Message, MessageCommand};
use casewire_messaging::{wiring, MessageView, MessagingSettings};
use casewire_tenancy::{SmsSettingsInput, Tenant, TenantCommand};
use casewire_testkit::FakeTwilio;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "the-auth-token";
pub const FROM: &str = "+13125550199";
pub const CLIENT: &str = "+13125550100";
pub const TENANT: &str = "t1";

pub struct World {
    _dir: tempfile::TempDir,
    pub store: EventStore,
    pub twilio: FakeTwilio,
    pub bus: Bus,
    /// Messaging's reader of the log: its projections are caught up on demand here, as the
    /// bus's follower would.
    pub reader: Reader,
    pub commands: Arc<dyn CommandHandler>,
    pub dispatcher: Arc<dyn Worker>,
    pub scheduler: Arc<dyn Worker>,
    /// The campaign sender.
    pub sender: Arc<dyn Worker>,
    /// Every worker of messaging.
    pub workers: Vec<Arc<dyn Worker>>,
}

/// The tenant's Twilio account, as its admin sets it.
pub fn twilio_settings() -> SmsSettingsInput {
    SmsSettingsInput {
        kind: "twilio".into(),
        account_sid: Some(SID.into()),
        auth_token: Some(TOKEN.into()),
        from: Some(FROM.into()),
        messaging_service_sid: None,
        price_per_segment_usd: None,
        price_per_mms_usd: None,
    }
}

pub async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::sqlite_file(&dir.path().join("log.db")).await.unwrap();
    db.migrate().await.unwrap();
    let store = EventStore::new(db, Key::generate());
    let twilio = FakeTwilio::start().await;
    twilio.account(SID, TOKEN);
    let tenant = |c| async {
        casewire_eventstore::framework::<Tenant>(&store, TENANT, ())
            .execute(TENANT, c)
            .await
            .unwrap()
    };
    tenant(TenantCommand::Create {
        name: "Prairie Legal Aid".into(),
        timezone: "America/Chicago".into(),
    })
    .await;
    tenant(TenantCommand::ConfigureSms(twilio_settings())).await;
    let settings = MessagingSettings {
        public_url: Some("https://casewire.example.org".into()),
        twilio_api_base: twilio.url(),
        sandbox_by_default: false,
    };
    // Staff record consent through the consent service, whose events messaging reads.
    let bus = casewire_bus::Bus::in_process();
    bus.start(
        &store,
        casewire_consent::wiring(&store, &bus),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let w = wiring(&store, settings);
    let world = World {
        _dir: dir,
        store,
        twilio,
        bus,
        reader: w.reader,
        commands: w.commands.unwrap(),
        dispatcher: w.workers[0].clone(),
        scheduler: w.workers[1].clone(),
        sender: w
            .workers
            .iter()
            .find(|w| w.queue() == casewire_messaging::sending::QUEUE)
            .expect("the campaign sender")
            .clone(),
        workers: w.workers.clone(),
    };
    world.link_case("C-1", None).await;
    world
}

impl World {
    pub async fn queue(&self, body: &str) -> String {
        self.send("C-1", body, "conversation").await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// An advocate's text for `purpose` on a case: messaging's answer, or its refusal.
    pub async fn send(
        &self,
        case_id: &str,
        body: &str,
        purpose: &str,
    ) -> Result<Value, casewire_bus::CommandError> {
        self.commands
            .handle(
                "send",
                json!({"tenant": TENANT, "metadata": {}, "body": {"case_id": case_id, "body": body, "purpose": purpose}}),
            )
            .await
    }

    /// Links a case for the client, as case-link records it.
    pub async fn link_case(&self, case_id: &str, time_zone: Option<&str>) {
        self.link_client(case_id, CLIENT, "Ana", time_zone).await
    }

    /// Links a case for a client of `phone`, named `name`, as case-link records it.
    pub async fn link_client(
        &self,
        case_id: &str,
        phone: &str,
        name: &str,
        time_zone: Option<&str>,
    ) {
        let details = json!({"client": {"name": name, "phone": phone, "language": "en"}, "status": "open", "problem_code": null, "office": null, "advocates": [], "time_zone": time_zone});
        self.case_event(case_id, 1, "CaseLinked", details).await
    }

    /// Case-link's event `event_type` (CaseLinked, CaseUpdated), the `sequence`th of the
    /// case, with `details` as the CMS sent them (the client's name is sealed here).
    pub async fn case_event(&self, case_id: &str, sequence: i64, event_type: &str, details: Value) {
        self.store
            .append(
                TENANT,
                vec![case_event(case_id, sequence, event_type, details)],
            )
            .await
            .unwrap();
    }

    /// Messaging's worker of `queue`.
    pub fn worker(&self, queue: &str) -> Arc<dyn Worker> {
        self.workers
            .iter()
            .find(|w| w.queue() == queue)
            .unwrap_or_else(|| panic!("a worker of {queue}"))
            .clone()
    }

    /// Staff record the client's consent (granted or revoked), through the consent service.
    pub async fn consent(&self, state: &str) {
        self.consent_of(CLIENT, state).await
    }

    /// Staff record the consent of the client of `phone`.
    pub async fn consent_of(&self, phone: &str, state: &str) {
        let record = casewire_contract::consent::Record {
            phone: phone.into(),
            state: casewire_events::consent::State::named(state).unwrap(),
            method: casewire_events::consent::Method::Intake,
            note: None,
        };
        self.bus
            .ask(TENANT, Default::default(), record)
            .await
            .unwrap();
    }

    /// A command of the tenant (its reminder policy, say), as an admin would give it.
    pub async fn tenant(&self, command: TenantCommand) {
        casewire_eventstore::framework::<Tenant>(&self.store, TENANT, ())
            .execute(TENANT, command)
            .await
            .unwrap();
    }

    /// Any command of messaging's, as the gateway sends it.
    pub async fn command(
        &self,
        name: &str,
        body: Value,
    ) -> Result<Value, casewire_bus::CommandError> {
        self.commands
            .handle(
                name,
                json!({"tenant": TENANT, "metadata": {}, "body": body}),
            )
            .await
    }

    /// Runs the scheduler, then the dispatcher, on what is due by casewire's clock.
    pub async fn remind_due(&self) -> usize {
        self.catch_up().await;
        let n = run_due(&self.store, self.scheduler.as_ref()).await.unwrap();
        self.dispatch_due().await;
        n
    }

    /// Runs the dispatcher on the jobs due by casewire's clock, once messaging's read
    /// models (and so its jobs) have caught up with the log, as the bus keeps them.
    pub async fn dispatch_due(&self) -> usize {
        self.catch_up().await;
        run_due(&self.store, self.dispatcher.as_ref())
            .await
            .unwrap()
    }

    pub async fn catch_up(&self) {
        self.reader.catch_up(TENANT).await.unwrap();
    }

    pub async fn record(&self, id: &str, command: MessageCommand) {
        casewire_bus::record::<Message>(
            &self.store,
            TENANT,
            id,
            command,
            Metadata::new(Actor::System).into_map(),
        )
        .await
        .unwrap();
    }

    pub async fn message(&self, id: &str) -> MessageView {
        self.catch_up().await;
        casewire_messaging::messages::find(&self.store, TENANT, id)
            .await
            .unwrap()
            .unwrap()
    }

    /// Runs the dispatcher as if every retry were due now.
    pub async fn dispatch(&self) -> usize {
        sqlx::query("UPDATE jobs SET due_at = '2000-01-01T00:00:00.000000Z'")
            .execute(self.store.db().writer())
            .await
            .unwrap();
        run_due(&self.store, self.dispatcher.as_ref())
            .await
            .unwrap()
    }

    pub fn sent(&self, body: &str) -> usize {
        self.twilio.sent().iter().filter(|m| m.body == body).count()
    }
}

/// The event of [`World::case_event`], to append with others.
pub fn case_event(
    case_id: &str,
    sequence: i64,
    event_type: &str,
    mut details: Value,
) -> casewire_eventstore::NewEvent {
    let phone = details["client"]["phone"].as_str().unwrap().to_string();
    let name = details["client"]["name"].take();
    details["client"]["name"] =
        json!({"$sealed": {"subject": format!("client:{phone}"), "value": name}});
    casewire_eventstore::NewEvent {
        aggregate_type: "case".into(),
        aggregate_id: case_id.into(),
        sequence,
        event_type: event_type.into(),
        event_version: "1".into(),
        payload: json!({ event_type: {"details": details} }),
        metadata: json!({}),
    }
}

/// A consumer case (problem code 01), open, of Rosa at `phone`, in English.
pub fn rosas_case(case_id: &str, phone: &str) -> casewire_eventstore::NewEvent {
    let details = json!({"client": {"name": "Rosa", "phone": phone, "language": "en"}, "status": "open", "problem_code": "01", "office": null, "advocates": []});
    case_event(case_id, 1, "CaseLinked", details)
}
