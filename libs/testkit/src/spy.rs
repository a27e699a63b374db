//! What an outsider with access to NATS sees: every message on every subject (commands,
//! their answers' inboxes, events), kept for a test to search for personal data in clear.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How long the spy waits to hear its own probe.
const PROBE_WAIT: Duration = Duration::from_secs(10);

/// Each message heard: its subject and payload.
type Heard = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

pub struct NatsSpy {
    client: async_nats::Client,
    seen: Heard,
    /// The subject of each probe the spy heard come back, in order.
    probes: tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>,
    listening: JoinHandle<()>,
}

impl NatsSpy {
    /// Listens on `>` from now on. (Listening on every subject makes the spy a
    /// responder to every request: a command to a service that is down then times out
    /// instead of failing at once, so a spy belongs only in scenarios where all run.)
    pub async fn start(url: &str) -> NatsSpy {
        let client = async_nats::connect(url).await.expect("the spy connects");
        let mut everything = client.subscribe(">").await.expect("the spy subscribes");
        let seen: Heard = Arc::default();
        let (probed, probes) = mpsc::unbounded_channel();
        let into = seen.clone();
        let listening = tokio::spawn(async move {
            while let Some(m) = everything.next().await {
                if m.subject.starts_with("spy.probe.") {
                    let _ = probed.send(m.subject.to_string());
                } else {
                    into.lock()
                        .unwrap()
                        .push((m.subject.to_string(), m.payload.to_vec()));
                }
            }
        });
        let spy = NatsSpy {
            client,
            seen,
            probes: tokio::sync::Mutex::new(probes),
            listening,
        };
        // Listening for sure once its own probe comes back through the server: a flush
        // only writes the subscription out.
        spy.catch_up().await;
        spy
    }

    /// Returns once everything the server handled before now has reached the spy: its own
    /// probe, sent now, comes back after them.
    pub async fn catch_up(&self) {
        let subject = format!("spy.probe.{}", uuid::Uuid::new_v4().simple());
        self.client
            .publish(subject.clone(), "".into())
            .await
            .expect("the spy publishes its probe");
        let mut probes = self.probes.lock().await;
        tokio::time::timeout(PROBE_WAIT, async {
            while let Some(heard) = probes.recv().await {
                if heard == subject {
                    return;
                }
            }
        })
        .await
        .expect("the spy hears its own probe");
    }

    /// The subjects heard so far, in order (probes left out).
    pub fn subjects(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// Panics naming the subject of the first message that holds any of `private` in
    /// clear; and when it heard no command at all, since then it proves nothing. It first
    /// catches up, so nothing sent before the call is missed.
    pub async fn assert_never_saw(&self, private: &[&str]) {
        self.catch_up().await;
        let seen = self.seen.lock().unwrap();
        let commands = seen
            .iter()
            .filter(|(s, _)| s.starts_with("casewire.cmd."))
            .count();
        assert!(commands > 0, "the spy heard no command");
        for (subject, payload) in seen.iter() {
            let payload = String::from_utf8_lossy(payload);
            for p in private {
                assert!(
                    !payload.contains(p),
                    "{p:?} in clear on NATS subject {subject}: {payload}"
                );
            }
        }
    }
}

impl Drop for NatsSpy {
    fn drop(&mut self) {
        self.listening.abort();
    }
}
