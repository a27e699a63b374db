//! NATS JetStream: the events stream, durable pull consumers, command request/reply.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream, AckKind};
use async_nats::HeaderMap;
use casewire_crypto::Key;
use casewire_events::{subjects, RecordedEvent};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::nats_access::{redacted, NatsAccess};
use crate::{BusError, CommandError, CommandHandler, Reader, Result};

/// A consumer with no message for this long catches up on the events no message announced.
const IDLE: Duration = Duration::from_millis(500);
/// Messages taken at once from those that have arrived.
const TAKEN: usize = 500;

/// How the events stream is set up. Production runs a 3- or 5-node cluster with
/// `replicas: 3` (infra/nats/production.conf).
#[derive(Clone, Debug)]
pub struct NatsSettings {
    /// Where the servers are and how to sign in.
    pub access: NatsAccess,
    /// Seals every command request and answer on NATS (see [`COMMANDS_KEY`]): they carry
    /// clients' texts, names, notes and places, which the log keeps sealed too.
    pub commands_key: Key,
    pub replicas: usize,
    /// How long JetStream remembers a `Nats-Msg-Id` to drop a republished event. A relay
    /// down for longer than this may publish some events twice; consumers skip them by
    /// cursor all the same.
    pub duplicate_window: Duration,
    /// The stream is not the record (the log is): old messages may go.
    pub max_age: Duration,
    /// How long a starting service waits for NATS (which may be starting too) before it
    /// gives up with the last error NATS gave.
    pub first_connection: Duration,
}

/// The purpose the commands key is derived for from the master key, in every process
/// alike: `master.derive(COMMANDS_KEY)`.
pub const COMMANDS_KEY: &str = "casewire nats commands v1";

impl NatsSettings {
    /// `master`: the deployment's master key, which every service already holds.
    pub fn new(access: NatsAccess, master: &Key) -> Self {
        NatsSettings {
            access,
            commands_key: master.derive(COMMANDS_KEY),
            replicas: 1,
            duplicate_window: Duration::from_secs(15 * 60),
            max_age: Duration::from_secs(7 * 24 * 3600),
            first_connection: Duration::from_secs(25),
        }
    }
}

#[derive(Clone)]
pub struct Nats {
    client: async_nats::Client,
    js: jetstream::Context,
    commands_key: Key,
}

/// What a command's answer is bound to: the command's subject, as an answer, so neither
/// opens as the other or as another command's.
fn answer_aad(subject: &str) -> Vec<u8> {
    format!("{subject} answer").into_bytes()
}

fn nats_err(e: impl std::fmt::Display) -> BusError {
    BusError::Nats(e.to_string())
}

fn trace_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in casewire_telemetry::inject() {
        h.insert(k.as_str(), v.as_str());
    }
    h
}

fn trace_of(headers: Option<&HeaderMap>) -> std::collections::HashMap<String, String> {
    ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|k| Some((k.to_string(), headers?.get(k)?.as_str().to_string())))
        .collect()
}

/// Connects for the first time, trying again (NATS may be starting too) until
/// `first_connection` has passed; a server that refuses casewire's sign-in ends it at once.
/// Once connected, the client reconnects by itself.
async fn first_connection(settings: &NatsSettings) -> Result<async_nats::Client> {
    use async_nats::ConnectErrorKind as Kind;
    let deadline = tokio::time::Instant::now() + settings.first_connection;
    let at = redacted(&settings.access.url);
    loop {
        let (options, servers) = settings.access.options().await?;
        match options.connect(servers).await {
            Ok(client) => return Ok(client),
            Err(e)
                if matches!(
                    e.kind(),
                    Kind::AuthorizationViolation | Kind::Authentication
                ) =>
            {
                return Err(BusError::Nats(format!(
                    "NATS at {at} refused casewire: {e}"
                )))
            }
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(BusError::Nats(format!(
                    "could not connect to NATS at {at} within {:?}: {e}",
                    settings.first_connection
                )))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Brings an existing events stream to the replicas asked for (`CASEWIRE_NATS_REPLICAS`),
/// or says why NATS would not. A stream is never brought down: a process asking for fewer
/// replicas than the stream has (a setting forgotten on one service) leaves it as it is
/// and says so, rather than lowering every service's durability.
async fn replicate(js: &jetstream::Context, current: stream::Config, asked: usize) -> Result<()> {
    let has = current.num_replicas;
    if asked < has {
        tracing::warn!(
            stream = %current.name,
            replicas = has,
            asked,
            "the events stream keeps its replicas: CASEWIRE_NATS_REPLICAS asks for fewer"
        );
    }
    if asked <= has {
        return Ok(());
    }
    let name = current.name.clone();
    js.update_stream(stream::Config {
        num_replicas: asked,
        ..current
    })
    .await
    .map_err(|e| {
        BusError::Nats(format!(
            "the events stream {name} has {has} replica(s) and CASEWIRE_NATS_REPLICAS asks for {asked}; NATS would not change it: {e}"
        ))
    })?;
    tracing::info!(stream = %name, from = has, to = asked, "the events stream's replicas raised");
    Ok(())
}

impl Nats {
    /// Connects and makes sure the events stream exists with these settings.
    pub async fn connect(settings: &NatsSettings) -> Result<Nats> {
        let deadline = tokio::time::Instant::now() + settings.first_connection;
        let client = first_connection(settings).await?;
        let js = jetstream::new(client.clone());
        let config = stream::Config {
            name: subjects::EVENTS_STREAM.to_string(),
            subjects: vec![subjects::EVENTS_ALL.to_string()],
            storage: stream::StorageType::File,
            num_replicas: settings.replicas,
            duplicate_window: settings.duplicate_window,
            max_age: settings.max_age,
            ..Default::default()
        };
        // A cluster still electing its JetStream leader (all starting together) answers
        // nothing for a while: ask again within the first connection's time.
        let stream = loop {
            use jetstream::context::CreateStreamErrorKind as Kind;
            match js.get_or_create_stream(config.clone()).await {
                Ok(stream) => break stream,
                Err(e)
                    if matches!(e.kind(), Kind::TimedOut | Kind::JetStreamUnavailable)
                        && tokio::time::Instant::now() < deadline =>
                {
                    tracing::warn!(error = %e, "NATS JetStream is not answering yet; asking again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(nats_err(e)),
            }
        };
        replicate(&js, stream.cached_info().config.clone(), settings.replicas).await?;
        Ok(Nats {
            client,
            js,
            commands_key: settings.commands_key.clone(),
        })
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    pub async fn ready(&self) -> Result<()> {
        // Disconnected, a JetStream request would wait out its whole timeout: say so now.
        let state = self.client.connection_state();
        if state != async_nats::connection::State::Connected {
            return Err(BusError::Nats(format!("not connected to NATS ({state})")));
        }
        self.js
            .get_stream(subjects::EVENTS_STREAM)
            .await
            .map(|_| ())
            .map_err(nats_err)
    }

    /// Publishes one committed event, de-duplicated by its id.
    pub(crate) async fn publish(
        &self,
        e: &RecordedEvent,
    ) -> Result<jetstream::context::PublishAckFuture> {
        let mut headers = HeaderMap::new();
        for (k, v) in crate::reader::trace_context(e) {
            headers.insert(k.as_str(), v.as_str());
        }
        let body = serde_json::to_vec(e).expect("an event serializes");
        self.js
            .send_publish(
                subjects::event(&e.tenant_id, &e.aggregate_type, &e.event_type),
                jetstream::message::PublishMessage::build()
                    .headers(headers)
                    .message_id(&e.event_id)
                    .payload(body.into()),
            )
            .await
            .map_err(nats_err)
    }

    /// Feeds a service's reader from its durable pull consumer until `stop`. The messages
    /// that have arrived are taken together and handed to the reader per tenant
    /// ([`Reader::deliver`]): events that follow on from what the reader last read are
    /// applied as they came, in one transaction; anything else (a gap, a redelivery, an
    /// event published out of order after a relay retry) is read from the log, the record.
    pub(crate) async fn consume(&self, reader: Reader, stop: CancellationToken) {
        while !stop.is_cancelled() {
            if let Err(e) = self.consume_until_error(&reader, &stop).await {
                tracing::warn!(consumer = reader.name(), error = %e, "consumer failed; restarting");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }

    async fn consume_until_error(
        &self,
        reader: &Reader,
        stop: &CancellationToken,
    ) -> anyhow::Result<()> {
        // Start from the log, so nothing committed while this service was down is missed.
        reader.follow_once().await?;
        let stream = self.js.get_stream(subjects::EVENTS_STREAM).await?;
        // Created, or updated to this version's filters: only what the service reads
        // crosses the wire to it.
        let consumer: consumer::PullConsumer = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some(reader.name().to_string()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                filter_subjects: reader.subjects(),
                ..Default::default()
            })
            .await?;
        let mut messages = consumer.messages().await?.ready_chunks(TAKEN);
        loop {
            let arrived = tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                m = tokio::time::timeout(IDLE, messages.next()) => match m {
                    // Quiet: catch up on events no message announced (skipped ones move the
                    // position only) and write the position.
                    Err(_) => {
                        reader.follow_once().await?;
                        reader.flush().await?;
                        continue;
                    }
                    Ok(Some(arrived)) => arrived,
                    Ok(None) => return Ok(()),
                },
            };
            let mut tenants: BTreeMap<String, Vec<(RecordedEvent, jetstream::Message)>> =
                BTreeMap::new();
            for msg in arrived {
                let msg = msg.map_err(|e| anyhow::anyhow!("{e}"))?;
                match serde_json::from_slice::<RecordedEvent>(&msg.payload) {
                    Ok(e) => tenants
                        .entry(e.tenant_id.clone())
                        .or_default()
                        .push((e, msg)),
                    Err(e) => {
                        tracing::error!(subject = %msg.subject, error = %e, "not an event; terminated");
                        let _ = msg.ack_with(AckKind::Term).await;
                    }
                }
            }
            let busy = !tenants.is_empty();
            for (tenant, delivered) in tenants {
                let (events, msgs): (Vec<_>, Vec<_>) = delivered.into_iter().unzip();
                let span = tracing::info_span!("consume", consumer = reader.name(), tenant = %tenant, events = events.len());
                // The batch continues the trace of its first event; each event's own span
                // (`apply`) continues its own.
                casewire_telemetry::continue_from(&span, &trace_of(msgs[0].headers.as_ref()));
                match reader.deliver(&tenant, events).instrument(span).await {
                    Ok(()) => {
                        for msg in msgs {
                            msg.ack().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(consumer = reader.name(), error = %e, "events not applied; redelivering");
                        for msg in msgs {
                            let _ = msg
                                .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                                .await;
                        }
                    }
                }
            }
            if busy {
                // Let the next messages gather, so a busy stream is applied in batches.
                tokio::time::sleep(crate::reader::GATHER).await;
            }
        }
    }

    pub(crate) async fn serve_commands(
        &self,
        service: &'static str,
        handler: Arc<dyn CommandHandler>,
        stop: CancellationToken,
    ) -> Result<JoinHandle<()>> {
        let prefix = subjects::command(service, "");
        let mut sub = self
            .client
            .queue_subscribe(format!("{prefix}*"), service.to_string())
            .await
            .map_err(nats_err)?;
        let mut pings = self
            .client
            .subscribe(subjects::ping(service))
            .await
            .map_err(nats_err)?;
        let client = self.client.clone();
        let key = self.commands_key.clone();
        Ok(tokio::spawn(async move {
            loop {
                let msg = tokio::select! {
                    _ = stop.cancelled() => return,
                    m = sub.next() => match m { Some(m) => m, None => return },
                    // Counted by `/v1/status`: an empty answer, nothing to seal.
                    Some(ping) = pings.next() => {
                        if let Some(reply) = ping.reply {
                            let _ = client.publish(reply, bytes::Bytes::new()).await;
                        }
                        continue;
                    }
                };
                let (client, handler, prefix, key) =
                    (client.clone(), handler.clone(), prefix.clone(), key.clone());
                tokio::spawn(async move {
                    let Some(reply) = msg.reply.clone() else {
                        return;
                    };
                    let command = msg
                        .subject
                        .as_str()
                        .strip_prefix(&prefix)
                        .unwrap_or_default()
                        .to_string();
                    let span = tracing::info_span!("command", service, command = %command);
                    casewire_telemetry::continue_from(&span, &trace_of(msg.headers.as_ref()));
                    let answer = async {
                        let plain = key.open(&msg.payload, msg.subject.as_bytes()).map_err(|_| {
                            CommandError::invalid(
                                "command not sealed with this deployment's key (CASEWIRE_MASTER_KEY differs?)",
                            )
                        })?;
                        let body: Value = serde_json::from_slice(&plain).map_err(|e| {
                            CommandError::invalid(format!("command body is not JSON: {e}"))
                        })?;
                        handler.handle(&command, body).await
                    }
                    .instrument(span)
                    .await;
                    let answer = match answer {
                        Ok(v) => json!({ "ok": v }),
                        Err(e) => json!({ "error": e }),
                    };
                    let sealed = key.seal(answer.to_string().as_bytes(), &answer_aad(&msg.subject));
                    let _ = client.publish(reply, sealed.into()).await;
                });
            }
        }))
    }

    /// How many processes serve `service`: those that answer a ping within `within`.
    pub(crate) async fn replicas(&self, service: &str, within: Duration) -> Result<usize> {
        let inbox = self.client.new_inbox();
        let mut answers = self
            .client
            .subscribe(inbox.clone())
            .await
            .map_err(nats_err)?;
        self.client
            .publish_with_reply(subjects::ping(service), inbox, bytes::Bytes::new())
            .await
            .map_err(nats_err)?;
        let mut n = 0;
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(Some(_)) = tokio::time::timeout_at(deadline, answers.next()).await {
            n += 1;
        }
        Ok(n)
    }

    pub(crate) async fn request(
        &self,
        service: &str,
        command: &str,
        body: Value,
    ) -> Result<Value, CommandError> {
        let subject = subjects::command(service, command);
        let sealed = self
            .commands_key
            .seal(body.to_string().as_bytes(), subject.as_bytes());
        let answer = self
            .client
            .request_with_headers(subject.clone(), trace_headers(), sealed.into())
            .await
            .map_err(|e| {
                CommandError::unavailable(format!("{service} did not answer {command}: {e}"))
            })?;
        let plain = self
            .commands_key
            .open(&answer.payload, &answer_aad(&subject))
            .map_err(|_| {
                CommandError::unavailable(format!(
                    "{service} answered {command} under another key (CASEWIRE_MASTER_KEY differs?)"
                ))
            })?;
        let mut answer: Value = serde_json::from_slice(&plain).map_err(|e| {
            CommandError::unavailable(format!(
                "{service} answered {command} with something not JSON: {e}"
            ))
        })?;
        if let Some(e) = answer.get("error") {
            return Err(serde_json::from_value(e.clone()).unwrap_or_else(|_| {
                CommandError::unavailable(format!("{service} failed {command}"))
            }));
        }
        Ok(answer["ok"].take())
    }
}
