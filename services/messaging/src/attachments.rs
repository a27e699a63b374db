//! Documents and pictures an advocate sends with a text (an outbound MMS): a court notice, a
//! form to sign. The CMS uploads each (`POST /v1/cases/{case_id}/attachments`), then names
//! them in the text it sends. Each is kept sealed with the client's data key (so erasing
//! the client erases it), and claimed by the text that sends it; one never sent is removed
//! a day after its upload.
//!
//! Twilio fetches what it sends (`MediaUrl`) without credentials, so the dispatcher gives
//! it a link of its own for each item: a token sealed with a key derived from the master
//! key, naming the tenant, the attachment and when the link ends (when Twilio may no
//! longer send the text). Nothing else opens an attachment without a key.
//!
//! The upload is written here, in the gateway's process, not sent over the bus: a bus
//! message carries at most a megabyte, an MMS five.

use casewire_events::message::{client_subject, Attachment};
use casewire_eventstore::EventStore;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};

use crate::media::{keep, Kept};

/// How long an upload waits for the text that sends it.
pub const KEPT_UNSENT: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// What the links Twilio fetches are sealed for.
const LINK: &str = "casewire media links v1";

/// An upload, as the API answers it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttachmentView {
    /// What the text that sends it names in `attachments`.
    pub id: String,
    pub content_type: String,
    pub size: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Removed then unless a text sent it.
    pub expires_at: String,
}

/// Keeps an upload for the client of a case (`phone`), sealed; refuses what Twilio would
/// not send (its type or size) with why.
pub async fn upload(
    store: &EventStore,
    tenant: &str,
    case_id: &str,
    phone: &str,
    content_type: &str,
    bytes: &[u8],
) -> anyhow::Result<Result<AttachmentView, String>> {
    if bytes.is_empty() {
        return Ok(Err("the upload is empty".into()));
    }
    if let Kept::No(reason) = keep(content_type, bytes.len() as u64) {
        return Ok(Err(reason));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let sha256 = hex::encode(Sha256::digest(bytes));
    let sealed = store
        .seal_bytes(tenant, &client_subject(phone), &context(&id), bytes)
        .await?;
    let now = casewire_events::utc_now();
    let db = store.db().writer();
    // Uploads no text sent, each tenant's at its own uploads (an index reads only those).
    sqlx::query(
        "DELETE FROM messaging_attachments WHERE tenant_id = $1 AND message_id IS NULL AND created_at < $2",
    )
    .bind(tenant)
    .bind(casewire_events::timestamp(now - KEPT_UNSENT))
    .execute(db)
    .await?;
    sqlx::query(
        "INSERT INTO messaging_attachments (tenant_id, id, case_id, phone, content_type, size, sha256, sealed, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant)
    .bind(&id)
    .bind(case_id)
    .bind(phone)
    .bind(content_type)
    .bind(bytes.len() as i64)
    .bind(&sha256)
    .bind(sealed)
    .bind(casewire_events::timestamp(now))
    .execute(db)
    .await?;
    Ok(Ok(AttachmentView {
        id,
        content_type: content_type.to_string(),
        size: bytes.len() as u64,
        sha256,
        expires_at: casewire_events::timestamp(now + KEPT_UNSENT),
    }))
}

/// The uploads `ids` for a text to the client `phone` of a case, in the order named:
/// `Err` names the first that is not there (another case's or tenant's, sent already, or
/// removed).
pub async fn unsent(
    store: &EventStore,
    tenant: &str,
    case_id: &str,
    phone: &str,
    ids: &[String],
) -> anyhow::Result<Result<Vec<Attachment>, String>> {
    if ids.is_empty() {
        return Ok(Ok(Vec::new()));
    }
    let marks = casewire_eventstore::sql::list(ids.len(), 4);
    let sql = format!(
        "SELECT id, content_type, size, sha256 FROM messaging_attachments \
         WHERE tenant_id = $1 AND case_id = $2 AND phone = $3 AND message_id IS NULL AND id IN ({marks})"
    );
    let mut query = sqlx::query_as::<_, (String, String, i64, String)>(&sql)
        .bind(tenant)
        .bind(case_id)
        .bind(phone);
    for id in ids {
        query = query.bind(id);
    }
    let found = query.fetch_all(store.db().reader()).await?;
    let mut attachments = Vec::with_capacity(ids.len());
    for id in ids {
        let Some((id, content_type, size, sha256)) = found.iter().find(|row| &row.0 == id) else {
            return Ok(Err(format!(
                "attachment {id}: no such upload for this case's client, or sent already \
                 (an upload is kept {} hours for the text that sends it)",
                KEPT_UNSENT.num_hours()
            )));
        };
        attachments.push(Attachment {
            id: id.clone(),
            content_type: content_type.clone(),
            size: *size as u64,
            sha256: sha256.clone(),
        });
    }
    Ok(Ok(attachments))
}

/// Marks a text's uploads as sent with it, in the transaction that records the text: an
/// upload sent by another text meanwhile fails the append, so none goes twice.
pub(crate) async fn claim(
    tx: &mut Transaction<'static, Any>,
    tenant: &str,
    message_id: &str,
    attachments: &[Attachment],
) -> anyhow::Result<()> {
    for (n, a) in attachments.iter().enumerate() {
        let claimed = sqlx::query(
            "UPDATE messaging_attachments SET message_id = $1, n = $2 \
             WHERE tenant_id = $3 AND id = $4 AND (message_id IS NULL OR message_id = $1)",
        )
        .bind(message_id)
        .bind(n as i64)
        .bind(tenant)
        .bind(&a.id)
        .execute(&mut **tx)
        .await?;
        anyhow::ensure!(
            claimed.rows_affected() == 1,
            "attachment {} was sent by another text, or removed",
            a.id
        );
    }
    Ok(())
}

/// What a stored upload's ciphertext is bound to.
pub(crate) fn context(id: &str) -> String {
    format!("attachment/{id}")
}

#[derive(Serialize, Deserialize)]
struct Link {
    tenant: String,
    attachment: String,
    /// Unix seconds.
    until: i64,
}

/// A link's token for Twilio to fetch an attachment until `until`.
pub fn link(store: &EventStore, tenant: &str, attachment: &str, until: DateTime<Utc>) -> String {
    let link = Link {
        tenant: tenant.into(),
        attachment: attachment.into(),
        until: until.timestamp(),
    };
    store.seal_token(LINK, &serde_json::to_vec(&link).expect("a link serializes"))
}

/// The attachment a link's token names, with its type and bytes, while the link lasts;
/// `None` for a forged, altered or ended link, and once the client was erased.
pub async fn by_link(store: &EventStore, token: &str) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    let Some(link) = store
        .open_token(LINK, token)
        .and_then(|plain| serde_json::from_slice::<Link>(&plain).ok())
    else {
        return Ok(None);
    };
    if link.until < casewire_events::utc_now().timestamp() {
        return Ok(None);
    }
    let row: Option<(String, Vec<u8>, String)> = sqlx::query_as(
        "SELECT content_type, sealed, phone FROM messaging_attachments WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&link.tenant)
    .bind(&link.attachment)
    .fetch_optional(store.db().reader())
    .await?;
    let Some((content_type, sealed, phone)) = row else {
        return Ok(None);
    };
    let plain = store
        .open_bytes(
            &link.tenant,
            &client_subject(&phone),
            &context(&link.attachment),
            &sealed,
        )
        .await?;
    Ok(plain.map(|bytes| (content_type, bytes)))
}
