//! What an outsider with access to NATS sees: every message on every subject (commands,
//! their answers' inboxes, events), kept for a test to search for personal data in clear.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tokio::task::JoinHandle;

/// Each message heard: its subject and payload.
type Heard = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

pub struct NatsSpy {
    seen: Heard,
    listening: JoinHandle<()>,
}

impl NatsSpy {
    /// Listens on `>` from now on. (Listening on every subject makes the spy a
    /// responder to every request: a command to a service that is down then times out
    /// instead of failing at once, so a spy belongs only in scenarios where all run.)
    pub async fn start(url: &str) -> NatsSpy {
        let client = async_nats::connect(url).await.expect("the spy connects");
        let mut everything = client.subscribe(">").await.expect("the spy subscribes");
        // Listening for sure once its own message comes back through the server (a flush
        // only writes the subscription out).
        client
            .publish("spy.listening", "".into())
            .await
            .expect("the spy publishes");
        let probe = tokio::time::timeout(std::time::Duration::from_secs(10), everything.next())
            .await
            .expect("the spy hears itself");
        assert_eq!(
            probe.map(|m| m.subject.to_string()).as_deref(),
            Some("spy.listening")
        );
        let seen: Heard = Arc::default();
        let into = seen.clone();
        let listening = tokio::spawn(async move {
            let _client = client;
            while let Some(m) = everything.next().await {
                into.lock()
                    .unwrap()
                    .push((m.subject.to_string(), m.payload.to_vec()));
            }
        });
        NatsSpy { seen, listening }
    }

    /// Panics naming the subject of the first message that holds any of `private` in
    /// clear; and when it heard no command at all, since then it proves nothing.
    pub fn assert_never_saw(&self, private: &[&str]) {
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
