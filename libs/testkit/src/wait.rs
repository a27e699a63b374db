use std::future::Future;
use std::time::{Duration, Instant};

/// How often [`wait_for`] polls.
const POLL: Duration = Duration::from_millis(20);

/// Polls `f` every ~20 ms until it returns `Some`, and returns that value.
///
/// Panics with "timed out after {timeout:?} waiting for {what}" once `timeout` has passed (real
/// time, also under a paused tokio clock, since the other side is a real server). `f` is always
/// called at least once, and once more after the deadline before giving up.
///
/// ```no_run
/// # async fn demo(pool: sqlx::PgPool) {
/// use std::time::Duration;
/// let n: i64 = casewire_testkit::wait_for("the projection to catch up", Duration::from_secs(5), || async {
///     let n: i64 = sqlx::query_scalar("SELECT count(*) FROM messages").fetch_one(&pool).await.ok()?;
///     (n == 3).then_some(n)
/// })
/// .await;
/// # }
/// ```
pub async fn wait_for<F, Fut, T>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let past_deadline = Instant::now() >= deadline;
        if let Some(value) = f().await {
            return value;
        }
        if past_deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(POLL).await;
    }
}
