//! Pictures and files from clients (MMS): photos of eviction notices, court papers. Each is
//! fetched from Twilio with the tenant's credentials (its URL made from the message's and
//! the media's SIDs, never taken from the webhook), checked (type, size), kept sealed with
//! the client's data key in `messaging_media` (so erasing the client erases it), recorded
//! on the message (`MediaStored`: type, size, SHA-256; or `MediaRefused` and why), and
//! then deleted at Twilio, so the client's papers are not left in Twilio's storage.
//!
//! Fetching is a job made with the text's `InboundReceived`: a crash at any point repeats
//! what was not recorded; a picture stored twice is the same row, recorded once.

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, Outcome, Worker};
use casewire_bus::{Of, Projection, Reads};
use casewire_events::message::{client_subject, MessageEvent};
use casewire_events::{Actor, Metadata, RecordedEvent};
use casewire_eventstore::EventStore;
use casewire_sms::twilio::{FailureKind, TwilioClient};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};

use crate::message::{Message, MessageCommand};
use crate::provider::Provider;

pub const QUEUE: &str = "messaging.media";
/// Twilio's limit for one MMS, and casewire's for one picture or file.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;
/// What casewire keeps: pictures and documents. Anything else (audio, video, contact cards)
/// is refused with its type named, and the text itself stays.
pub const ACCEPTED: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/heic",
    "image/heif",
    "image/webp",
    "application/pdf",
];

/// Makes a text's fetching job with its `InboundReceived`, when it came with media.
pub struct MediaQueue;

#[async_trait]
impl Projection for MediaQueue {
    fn name(&self) -> &'static str {
        "messaging_media_queue"
    }

    fn reads(&self) -> Reads {
        Reads::Only(&[])
    }

    fn inline(&self) -> Reads {
        const OF: &[Of] = &[Of::only(
            casewire_events::message::AGGREGATE,
            &["InboundReceived", "OutboundQueued", "StatusReported"],
        )];
        Reads::Only(OF)
    }

    fn feeds(&self) -> &'static [&'static str] {
        &[QUEUE]
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        _: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let now = casewire_events::utc_now();
        let (tenant, id) = (&e.tenant_id, &e.aggregate_id);
        match e.decode()? {
            MessageEvent::InboundReceived { media, .. } if !media.is_empty() => {
                jobs::enqueue(tx, QUEUE, tenant, id, &json!({}), now).await?
            }
            MessageEvent::OutboundQueued { attachments, .. } if !attachments.is_empty() => {
                jobs::enqueue(tx, QUEUE, tenant, id, &json!({}), now).await?
            }
            // An MMS's job waits for its text to settle: it need not wait for its next look.
            // (One statement per settled text, MMS or not: the event does not say which.)
            MessageEvent::StatusReported { status, .. }
                if casewire_events::message::settled(&status) =>
            {
                jobs::bring_forward(tx, QUEUE, tenant, id, now).await?
            }
            _ => {}
        }
        Ok(())
    }
}

/// What becomes of one fetched picture or file.
#[derive(Debug, PartialEq, Eq)]
pub enum Kept {
    Yes,
    No(String),
}

/// Whether casewire keeps a picture or file of this type and size.
pub fn keep(content_type: &str, size: u64) -> Kept {
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !ACCEPTED.contains(&media_type) {
        return Kept::No(format!(
            "{media_type} is not kept: casewire keeps pictures (JPEG, PNG, GIF, HEIC, WebP) and PDF documents"
        ));
    }
    if size > MAX_BYTES {
        return Kept::No(format!("{size} bytes is more than the {MAX_BYTES} kept"));
    }
    Kept::Yes
}

/// Fetches, keeps and deletes at Twilio each picture or file of a client's text.
pub struct MediaFetcher {
    pub(crate) twilio: TwilioClient,
}

#[async_trait]
impl Worker for MediaFetcher {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let (tenant, id) = (job.tenant_id.as_str(), job.id.as_str());
        let mut message = casewire_bus::load::<Message>(store, tenant, id).await?;
        let m = message.0.clone();
        let facts = crate::checks::facts(store, tenant, &m.phone).await?;
        let Some(settings) = facts.provider else {
            return Ok(Outcome::Done);
        };
        let Provider::Twilio { client, creds, .. } =
            Provider::from_settings(settings, &self.twilio)
        else {
            return Ok(Outcome::Done);
        };
        if m.is_outbound() {
            return forget_sent(&client, &creds, &m, job.attempts).await;
        }
        let message_sid = m.provider_sid.clone().unwrap_or_default();
        let retry = |why: String| {
            let wait = jobs::backoff(
                job.attempts,
                std::time::Duration::from_secs(5),
                std::time::Duration::from_secs(1800),
            );
            Ok(Outcome::RetryAt(
                casewire_events::utc_now() + chrono::Duration::from_std(wait).unwrap_or_default(),
                why,
            ))
        };
        let metadata = || Metadata::new(Actor::System).into_map();
        for (n, item) in m.media.iter().enumerate() {
            let n = n as u32;
            if !m.awaits_media(n) {
                continue;
            }
            let command = match client
                .fetch_media(&creds, &message_sid, &item.sid, MAX_BYTES)
                .await
            {
                Ok((content_type, bytes)) => match keep(&content_type, bytes.len() as u64) {
                    Kept::No(reason) => MessageCommand::RefuseMedia { n, reason },
                    Kept::Yes => {
                        let sha256 = hex::encode(Sha256::digest(&bytes));
                        let sealed = store
                            .seal_bytes(tenant, &client_subject(&m.phone), &context(id, n), &bytes)
                            .await?;
                        sqlx::query(
                            "INSERT INTO messaging_media (tenant_id, message_id, n, content_type, size, sha256, sealed, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, message_id, n) DO NOTHING",
                        )
                        .bind(tenant)
                        .bind(id)
                        .bind(n as i64)
                        .bind(&content_type)
                        .bind(bytes.len() as i64)
                        .bind(&sha256)
                        .bind(sealed)
                        .bind(casewire_events::now())
                        .execute(store.db().writer())
                        .await?;
                        MessageCommand::StoreMedia {
                            n,
                            content_type,
                            size: bytes.len() as u64,
                            sha256,
                        }
                    }
                },
                // Gone at Twilio, or larger than kept: final. Anything else (credentials
                // refused, Twilio down) is tried again.
                Err(e)
                    if e.kind == FailureKind::Rejected
                        && (e.http_status == 404 || (200..300).contains(&e.http_status)) =>
                {
                    MessageCommand::RefuseMedia {
                        n,
                        reason: e.reason(),
                    }
                }
                Err(e) => return retry(format!("fetching media {n}: {e}")),
            };
            casewire_bus::record_on::<Message>(
                store,
                tenant,
                id,
                &mut message,
                command,
                metadata(),
            )
            .await?;
        }
        for (n, item) in m.media.iter().enumerate() {
            if let Err(e) = client.delete_media(&creds, &message_sid, &item.sid).await {
                return retry(format!("deleting media {n} at Twilio: {e}"));
            }
        }
        Ok(Outcome::Done)
    }
}

/// How often an MMS's copy at Twilio is looked at again until its text has settled.
const SETTLING: chrono::TimeDelta = chrono::TimeDelta::minutes(15);
/// Looks after which the copy goes whatever the last status said (a lost callback): a
/// day, more than twice the longest Twilio keeps a text queued.
const SETTLED_ANYWAY: i64 = 96;

/// Deletes Twilio's copy of what an advocate's MMS carried once the text has settled
/// (delivered, undelivered, failed): Twilio needs it no more, and the client's papers are
/// not left in its storage. A text Twilio never took left nothing there.
async fn forget_sent(
    client: &TwilioClient,
    creds: &casewire_sms::twilio::Credentials,
    m: &Message,
    looks: i64,
) -> anyhow::Result<Outcome> {
    let later = |why: &str| {
        Ok(Outcome::RetryAt(
            casewire_events::utc_now() + SETTLING,
            why.into(),
        ))
    };
    let Some(sid) = &m.provider_sid else {
        return match m.dispatched() {
            true => Ok(Outcome::Done),
            false => later("the text is not with Twilio yet"),
        };
    };
    if !casewire_events::message::settled(&m.status) && looks < SETTLED_ANYWAY {
        return later("the text has not settled at Twilio yet");
    }
    let deleted = async {
        for media in client.list_media(creds, sid).await? {
            client.delete_media(creds, sid, &media).await?;
        }
        Ok::<_, casewire_sms::twilio::SendError>(())
    };
    match deleted.await {
        Ok(()) => Ok(Outcome::Done),
        Err(e) => later(&format!("deleting the MMS's media at Twilio: {e}")),
    }
}

/// What a stored picture's ciphertext is bound to: this text's `n`th.
fn context(message_id: &str, n: u32) -> String {
    format!("media/{message_id}/{n}")
}

/// A text's `n`th picture or file, either way (a client's, kept; an advocate's, sent):
/// its type and bytes; `None` when there is none, or it was erased with the client.
pub async fn read(
    store: &EventStore,
    tenant: &str,
    message_id: &str,
    n: u32,
) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    // The client's number (the subject of the data key) comes with the row; an upload's
    // own id is what its ciphertext is bound to.
    let row: Option<(String, Vec<u8>, String, Option<String>)> = sqlx::query_as(
        "SELECT m.content_type, m.sealed, t.phone, NULL FROM messaging_media m \
         JOIN messaging_messages t ON t.tenant_id = m.tenant_id AND t.id = m.message_id \
         WHERE m.tenant_id = $1 AND m.message_id = $2 AND m.n = $3 \
         UNION ALL \
         SELECT content_type, sealed, phone, id FROM messaging_attachments \
         WHERE tenant_id = $1 AND message_id = $2 AND n = $3",
    )
    .bind(tenant)
    .bind(message_id)
    .bind(n as i64)
    .fetch_optional(store.db().reader())
    .await?;
    let Some((content_type, sealed, phone, upload)) = row else {
        return Ok(None);
    };
    let context = match upload {
        Some(id) => crate::attachments::context(&id),
        None => context(message_id, n),
    };
    let plain = store
        .open_bytes(tenant, &client_subject(&phone), &context, &sealed)
        .await?;
    Ok(plain.map(|bytes| (content_type, bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_and_pdfs_are_kept_within_twilios_limit_and_the_rest_refused_with_why() {
        assert_eq!(keep("image/jpeg", 300_000), Kept::Yes);
        assert_eq!(keep("application/pdf; name=notice.pdf", 1_000), Kept::Yes);
        assert!(matches!(keep("video/mp4", 1_000), Kept::No(r) if r.contains("video/mp4")));
        assert!(matches!(keep("image/png", MAX_BYTES + 1), Kept::No(r) if r.contains("more than")));
    }
}
