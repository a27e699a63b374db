//! The console's read model of people and their sessions (migration 0030), kept by the
//! gateway's reader from the `user` aggregate's events, and the queries that sign people
//! in with it.

use async_trait::async_trait;
use casewire_bus::{Of, Projection, Reads};
use casewire_events::{RecordedEvent, Sealed};
use casewire_eventstore::EventStore;
use casewire_tenancy::Role;
use serde::Serialize;
use sqlx::{Any, Transaction};

use crate::user::{UserEvent, AGGREGATE};

pub struct Directory;

#[async_trait]
impl Projection for Directory {
    fn name(&self) -> &'static str {
        "console_users"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[Of::all(AGGREGATE)];
        Reads::Only(OF)
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        store: &EventStore,
        e: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let (tenant, id, at) = (&e.tenant_id, &e.aggregate_id, &e.recorded_at);
        match e.decode::<UserEvent>()? {
            UserEvent::UserInvited {
                role,
                advocate_id,
                invitation_hash,
                expires_at,
                ..
            } => {
                let opened: UserEvent =
                    serde_json::from_value(store.open_payload(tenant, &e.payload).await?)?;
                let UserEvent::UserInvited { email, name, .. } = opened else {
                    unreachable!("the same event, opened")
                };
                let open = |s: Sealed<String>| s.value().cloned().unwrap_or_default();
                // Invited again after removal: the same id, a fresh row.
                sqlx::query(
                    "INSERT INTO console_users (tenant_id, id, email, name, role, advocate_id, \
                     invitation_hash, invited_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (tenant_id, id) DO UPDATE SET email = excluded.email, name = excluded.name, \
                     role = excluded.role, advocate_id = excluded.advocate_id, \
                     invitation_hash = excluded.invitation_hash, invited_until = excluded.invited_until, \
                     password_hash = NULL, locked_until = NULL, created_at = excluded.created_at, removed_at = NULL",
                )
                .bind(tenant)
                .bind(id)
                .bind(open(email))
                .bind(open(name))
                .bind(role.as_str())
                .bind(advocate_id)
                .bind(invitation_hash)
                .bind(casewire_events::timestamp(expires_at))
                .bind(at)
                .execute(&mut **tx)
                .await?;
            }
            UserEvent::PasswordChosen { .. } => {
                let opened: UserEvent =
                    serde_json::from_value(store.open_payload(tenant, &e.payload).await?)?;
                let UserEvent::PasswordChosen { password_hash } = opened else {
                    unreachable!("the same event, opened")
                };
                sqlx::query(
                    "UPDATE console_users SET password_hash = $1, invitation_hash = NULL, invited_until = NULL \
                     WHERE tenant_id = $2 AND id = $3",
                )
                .bind(password_hash.value().cloned())
                .bind(tenant)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            }
            UserEvent::SignedIn { session_hash, .. } => {
                sqlx::query(
                    "INSERT INTO console_sessions (token_hash, tenant_id, user_id, created_at, seen_at) \
                     VALUES ($1, $2, $3, $4, $4) ON CONFLICT (token_hash) DO NOTHING",
                )
                .bind(session_hash)
                .bind(tenant)
                .bind(id)
                .bind(at)
                .execute(&mut **tx)
                .await?;
                self.locked(tx, tenant, id, None).await?;
            }
            UserEvent::LockedOut { until } => {
                let until = casewire_events::timestamp(until);
                self.locked(tx, tenant, id, Some(&until)).await?;
            }
            UserEvent::SignedOut { session_hash, .. } => {
                sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
                    .bind(session_hash)
                    .execute(&mut **tx)
                    .await?;
            }
            UserEvent::UserRemoved {} => {
                sqlx::query(
                    "UPDATE console_users SET removed_at = $1, invitation_hash = NULL, password_hash = NULL \
                     WHERE tenant_id = $2 AND id = $3",
                )
                .bind(at)
                .bind(tenant)
                .bind(id)
                .execute(&mut **tx)
                .await?;
                sqlx::query("DELETE FROM console_sessions WHERE tenant_id = $1 AND user_id = $2")
                    .bind(tenant)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
            }
            UserEvent::TotpAdded { .. } => {
                // Kept sealed, as the log has it: opened only to check a code.
                let payload: serde_json::Value = serde_json::from_str(&e.payload)?;
                let sealed = payload["TotpAdded"]["secret"].to_string();
                self.totp(tx, tenant, id, Some(&sealed)).await?;
            }
            UserEvent::TotpRemoved {} => self.totp(tx, tenant, id, None).await?,
            UserEvent::SignInFailed { .. } => {}
        }
        Ok(())
    }
}

impl Directory {
    async fn totp(
        &self,
        tx: &mut Transaction<'static, Any>,
        tenant: &str,
        id: &str,
        sealed: Option<&str>,
    ) -> anyhow::Result<()> {
        sqlx::query("UPDATE console_users SET totp_secret = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(sealed)
            .bind(tenant)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn locked(
        &self,
        tx: &mut Transaction<'static, Any>,
        tenant: &str,
        id: &str,
        until: Option<&str>,
    ) -> anyhow::Result<()> {
        sqlx::query("UPDATE console_users SET locked_until = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(until)
            .bind(tenant)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// A console user as the API and the console show them.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UserRow {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub advocate_id: Option<String>,
    /// invited (no password yet), active or locked.
    pub state: &'static str,
    pub locked_until: Option<String>,
    pub created_at: String,
    /// Two-step sign-in is on.
    pub two_step: bool,
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// The TOTP secret, sealed: see [`totp_secret`].
    #[serde(skip)]
    totp_sealed: Option<String>,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

const COLUMNS: &str =
    "tenant_id, id, email, name, role, advocate_id, password_hash, locked_until, \
     created_at, totp_secret";

fn row(
    (
        tenant_id,
        id,
        email,
        name,
        role,
        advocate_id,
        password_hash,
        locked_until,
        created_at,
        totp_sealed,
    ): Row,
) -> anyhow::Result<UserRow> {
    let now = casewire_events::now();
    let state = match (&password_hash, &locked_until) {
        (None, _) => "invited",
        (Some(_), Some(until)) if *until > now => "locked",
        _ => "active",
    };
    Ok(UserRow {
        role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("stored role {role:?}"))?,
        locked_until: locked_until.filter(|until| *until > now),
        id,
        tenant_id,
        email,
        name,
        advocate_id,
        state,
        created_at,
        password_hash,
        two_step: totp_sealed.is_some(),
        totp_sealed,
    })
}

/// A person's TOTP secret, opened, when two-step sign-in is on.
pub async fn totp_secret(store: &EventStore, user: &UserRow) -> anyhow::Result<Option<String>> {
    let Some(sealed) = &user.totp_sealed else {
        return Ok(None);
    };
    let opened = store.open_payload(&user.tenant_id, sealed).await?;
    let secret: Sealed<String> = serde_json::from_value(opened)?;
    Ok(secret.value().cloned())
}

/// The tenant's users, not removed, by name.
pub async fn list(store: &EventStore, tenant: &str) -> anyhow::Result<Vec<UserRow>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console_users WHERE tenant_id = $1 AND removed_at IS NULL ORDER BY name, id"
    ))
    .bind(tenant)
    .fetch_all(store.db().reader())
    .await?;
    rows.into_iter().map(row).collect()
}

/// One of the tenant's users, not removed.
pub async fn get(store: &EventStore, tenant: &str, id: &str) -> anyhow::Result<Option<UserRow>> {
    one(
        store,
        "tenant_id = $1 AND id = $2 AND removed_at IS NULL",
        &[tenant, id],
    )
    .await
}

/// The users, of any tenant, not removed, with this email (lowercased).
pub async fn by_email(store: &EventStore, email: &str) -> anyhow::Result<Vec<UserRow>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM console_users WHERE email = $1 AND removed_at IS NULL"
    ))
    .bind(email)
    .fetch_all(store.db().reader())
    .await?;
    rows.into_iter().map(row).collect()
}

/// The user an invitation link (by its token's hash) was made for, while it may be used.
pub async fn by_invitation(store: &EventStore, hash: &str) -> anyhow::Result<Option<UserRow>> {
    let now = casewire_events::now();
    one(
        store,
        "invitation_hash = $1 AND invited_until > $2 AND removed_at IS NULL",
        &[hash, &now],
    )
    .await
}

async fn one(store: &EventStore, filter: &str, binds: &[&str]) -> anyhow::Result<Option<UserRow>> {
    let statement = format!("SELECT {COLUMNS} FROM console_users WHERE {filter}");
    let mut query = sqlx::query_as::<_, Row>(&statement);
    for b in binds {
        query = query.bind(*b);
    }
    query
        .fetch_optional(store.db().reader())
        .await?
        .map(row)
        .transpose()
}

/// A session: its user, when it began and was last used.
pub struct SessionRow {
    pub user: UserRow,
    pub created_at: String,
    pub seen_at: String,
}

/// The session a cookie's token hash names, with its user (not removed).
pub async fn session(store: &EventStore, token_hash: &str) -> anyhow::Result<Option<SessionRow>> {
    let found: Option<(String, String, String, String)> = sqlx::query_as(
        "SELECT tenant_id, user_id, created_at, seen_at FROM console_sessions WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(store.db().reader())
    .await?;
    let Some((tenant, user_id, created_at, seen_at)) = found else {
        return Ok(None);
    };
    let Some(user) = get(store, &tenant, &user_id).await? else {
        return Ok(None);
    };
    Ok(Some(SessionRow {
        user,
        created_at,
        seen_at,
    }))
}

/// Notes that a session was used now, at most once a minute (the idle timeout's
/// bookkeeping: a write per page would cost more than it tells).
pub async fn seen(store: &EventStore, token_hash: &str, seen_at: &str) -> anyhow::Result<()> {
    let now = casewire_events::utc_now();
    let minute_ago = casewire_events::timestamp(now - chrono::Duration::minutes(1));
    if seen_at > minute_ago.as_str() {
        return Ok(());
    }
    sqlx::query("UPDATE console_sessions SET seen_at = $1 WHERE token_hash = $2")
        .bind(casewire_events::timestamp(now))
        .bind(token_hash)
        .execute(store.db().writer())
        .await?;
    Ok(())
}
