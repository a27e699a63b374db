//! The casewire binary's library: [`run`] starts the services of a [`Mode`] on one
//! listener, so tests can start the whole thing on port 0.

pub mod config;
mod health;
pub mod proto;
mod secrets;

use std::time::Duration;

use anyhow::Context;
use casewire_bus::{relay, Bus, Nats, NatsSettings};
use casewire_crypto::Key;
use casewire_eventstore::{Db, EventStore};
use casewire_gateway::{Gateway, GatewaySettings};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Service {
    Gateway,
    Messaging,
    Consent,
    CaseLink,
    All,
}

/// How to run: the embedded default, or production services.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Everything in one process on SQLite under the data folder, with the in-process bus.
    Dev,
    /// The named services, on PostgreSQL and NATS JetStream.
    Serve(Service),
}

/// The event store and bus of a mode, migrated and connected.
pub async fn connect(config: &Config, mode: &Mode) -> anyhow::Result<(EventStore, Bus)> {
    let store = open_store(config, mode).await?;
    let bus = match mode {
        Mode::Dev => Bus::in_process(),
        Mode::Serve(_) => {
            let access = config
                .nats_access()
                .context("NATS_URL is not set: casewire serve needs nats://…")?;
            let settings = NatsSettings {
                replicas: config.nats_replicas,
                ..NatsSettings::new(access, &master_key(config, mode)?)
            };
            Bus::nats(
                Nats::connect(&settings)
                    .await
                    .context("connecting to NATS_URL")?,
            )
        }
    };
    Ok((store, bus))
}

/// The deployment's master key: CASEWIRE_MASTER_KEY, or under `dev` the data folder's own.
fn master_key(config: &Config, mode: &Mode) -> anyhow::Result<Key> {
    match (&config.master_key, mode) {
        (Some(k), _) => Key::from_base64(k.expose()).context("CASEWIRE_MASTER_KEY"),
        (None, Mode::Dev) => secrets::dev_master_key(&config.data_dir),
        (None, Mode::Serve(_)) => anyhow::bail!(
            "CASEWIRE_MASTER_KEY is not set: casewire serve needs the master key (base64 of 32 bytes)"
        ),
    }
}

/// The event store of a mode, migrated.
pub async fn open_store(config: &Config, mode: &Mode) -> anyhow::Result<EventStore> {
    match mode {
        Mode::Dev => {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating the data folder {}", config.data_dir.display())
            })?;
            let key = master_key(config, mode)?;
            let db = Db::sqlite_file(&config.data_dir.join("casewire.db")).await?;
            db.migrate().await?;
            Ok(EventStore::new(db, key))
        }
        Mode::Serve(_) => {
            let url = config
                .database_url
                .as_ref()
                .context("DATABASE_URL is not set: casewire serve needs postgres://…")?;
            let key = master_key(config, mode)?;
            let db = Db::connect(url.expose())
                .await
                .context("connecting to DATABASE_URL")?;
            // sqlx holds an advisory lock while migrating, so services starting together
            // migrate once.
            db.migrate().await?;
            Ok(EventStore::new(db, key))
        }
    }
}

/// Runs until `stop`. `listener` is where the gateway serves HTTP; when `None` it binds
/// `config.http_addr`.
pub async fn run(
    config: Config,
    mode: Mode,
    listener: Option<TcpListener>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let (store, bus) = connect(&config, &mode).await?;
    let services = match &mode {
        Mode::Dev | Mode::Serve(Service::All) => vec![
            Service::Gateway,
            Service::Messaging,
            Service::Consent,
            Service::CaseLink,
        ],
        Mode::Serve(s) => vec![*s],
    };
    // The gateway binds first: without CASEWIRE_PUBLIC_URL, Twilio is told to call back
    // where it listens.
    let listener = if services.contains(&Service::Gateway) {
        Some(match listener {
            Some(l) => l,
            None => TcpListener::bind(config.http_addr)
                .await
                .with_context(|| format!("listening on {}", config.http_addr))?,
        })
    } else {
        None
    };
    let public_url = match (&config.public_url, &listener) {
        (Some(u), _) => Some(u.trim_end_matches('/').to_string()),
        (None, Some(l)) => Some(format!("http://{}", l.local_addr()?)),
        (None, None) => None,
    };
    let sandbox_by_default = matches!(mode, Mode::Dev);

    let gateway_reader = casewire_gateway::reader(&store, config.cadence());
    let mut tasks = Vec::new();
    for service in &services {
        let wiring = match service {
            Service::Gateway => casewire_bus::Wiring::new(gateway_reader.clone())
                .worker(casewire_audit::Checkpointer {
                    key_name: config.audit_key_name.clone(),
                    cadence: config.cadence(),
                })
                .worker(casewire_audit::search::KeywordFlagger)
                .worker(casewire_audit::erasure::KeyDestroyer)
                .worker(casewire_audit::retention::Retainer {
                    every: Duration::from_secs(config.retention_seconds),
                }),
            Service::Messaging => casewire_messaging::wiring(
                &store,
                casewire_messaging::MessagingSettings {
                    public_url: public_url.clone(),
                    twilio_api_base: config.twilio_api_base.clone(),
                    sandbox_by_default,
                },
            ),
            Service::Consent => casewire_consent::wiring(&store, &bus),
            Service::CaseLink => casewire_case_link::wiring(
                &store,
                casewire_case_link::Targets {
                    allow_private: config
                        .webhook_allow_private
                        .unwrap_or(matches!(mode, Mode::Dev)),
                },
            ),
            Service::All => unreachable!("expanded above"),
        };
        tasks.extend(bus.start(&store, wiring, stop.clone()).await?);
    }
    // Every production process may relay; one at a time does (relay.rs).
    if let Some(nats) = bus.as_nats() {
        tasks.push(tokio::spawn(relay::run(
            store.clone(),
            nats.clone(),
            stop.clone(),
        )));
    }

    if let Some(listener) = listener {
        let operator_token = match (&config.operator_token, &mode) {
            (Some(t), _) => t.expose().to_string(),
            (None, Mode::Dev) => secrets::dev_operator_token(&config.data_dir)?,
            (None, Mode::Serve(_)) => {
                anyhow::bail!("CASEWIRE_OPERATOR_TOKEN is not set: the gateway needs it")
            }
        };
        let addr = listener.local_addr()?;
        // On stdout, not in the log: scripts and tests wait for this line.
        println!("casewire listening on http://{addr}");
        tracing::info!(%addr, mode = ?mode, "gateway listening");
        let gateway = Gateway::new(
            gateway_reader,
            bus.clone(),
            GatewaySettings {
                operator_token,
                public_url,
                sandbox_by_default,
                audit_key_name: config.audit_key_name.clone(),
            },
        );
        gateway.serve(listener, stop.clone()).await?;
    } else {
        // No API here: probes only, where the gateway would listen.
        let listener = TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("listening on {}", config.http_addr))?;
        println!(
            "casewire listening on http://{} (probes)",
            listener.local_addr()?
        );
        println!("casewire {mode:?} running");
        health::serve(listener, store.clone(), bus.clone(), stop.clone()).await?;
    }

    // Let consumers finish the event in hand; none holds anything that a restart loses.
    let _ = tokio::time::timeout(Duration::from_secs(10), futures_join(tasks)).await;
    Ok(())
}

async fn futures_join(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}
