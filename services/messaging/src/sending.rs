//! The campaign sender: one job per running campaign, run again and again, each run queuing
//! the next recipients' texts as the campaign's pace allows. Each run gathers the facts
//! (the campaign's row, the zones still in quiet hours, the recipients due), asks the pure
//! [`pace`] how many may go now and when to look again, then queues each text under an id
//! made from the campaign and the recipient's place, so a run repeated after a crash queues
//! nothing twice.
//!
//! - A pause or a cancel is seen by the next run (within a second: runs are at most a second
//!   apart while there is work): it ends the job, and a resume starts it again.
//! - Quiet hours defer and never drop: recipients in a zone that is in quiet hours wait,
//!   and the others go on.
//! - Each recipient's consent is asked when their text is queued (a STOP since the launch
//!   skips them) and again by the dispatcher before it calls Twilio.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use casewire_bus::{Job, Outcome, Worker};
use casewire_contract::campaigns::Estimate;
use casewire_events::audience::Recipient;
use casewire_events::campaign::{CampaignPlan, CampaignText, Rate, Window, FROZEN_PER_EVENT};
use casewire_events::message::Purpose;
use casewire_events::{Metadata, Sealed};
use casewire_eventstore::EventStore;
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use sqlx::{Any, Transaction};

use crate::campaign::{Campaign, CampaignCommand};
use crate::message::{Message, MessageCommand, Outbound};

pub const QUEUE: &str = "messaging.campaigns";

/// The most texts one run queues when nothing slows the campaign.
pub const BATCH: usize = 200;

/// Starts (or restarts) a campaign's sender, in the transaction that launched or resumed it
/// (or gave it a recipient): a sender at work runs again after, so a resume or a recipient
/// that comes as it finds nothing to do is not missed. The texts it queues name `cause`,
/// the event that started it, as theirs.
pub(crate) async fn start(
    tx: &mut Transaction<'static, Any>,
    tenant: &str,
    campaign: &str,
    cause: &str,
) -> anyhow::Result<()> {
    let payload = serde_json::json!({ "cause": cause });
    casewire_bus::jobs::enqueue_again(tx, QUEUE, tenant, campaign, &payload).await
}

/// How many texts one run may queue, and how long after it the next run comes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub texts: usize,
    pub then: Duration,
}

/// The campaign's pace now, with `pending` recipients left: as fast as casewire queues
/// ([`BATCH`] a run) unless the rate or the window slows it. A rate of r segments a second
/// lets r one-segment texts go a second, a tenth of them each tenth of a second; a window
/// spreads what is left evenly over what is left of it.
pub fn pace(
    per_second: Option<f64>,
    window: Option<&Window>,
    pending: usize,
    now: DateTime<Utc>,
) -> Pace {
    let mut pace = Pace {
        texts: BATCH,
        then: Duration::zero(),
    };
    if let Some(per_second) = per_second {
        // Even, not in bursts: a run every tenth of a second (or, slower than ten texts a
        // second, every text's share of a second), each with its share of texts.
        let tick = (1.0 / per_second).max(0.1);
        pace = Pace {
            texts: ((per_second * tick).round() as usize).clamp(1, BATCH),
            then: Duration::milliseconds((tick * 1000.0).round() as i64),
        };
    }
    let end = window.and_then(|w| DateTime::parse_from_rfc3339(&w.end).ok());
    if let Some(end) = end.map(|e| e.with_timezone(&Utc)) {
        let left = (end - now).num_milliseconds();
        if left > 0 && pending > 0 {
            // To end on time: so many texts a second, a run a second; or, slower than one a
            // second, one text a run and the runs spaced out.
            let per_second = pending as f64 * 1000.0 / left as f64;
            pace = if per_second >= 1.0 {
                Pace {
                    texts: (per_second.ceil() as usize).min(pace.texts),
                    then: pace.then.max(Duration::seconds(1)),
                }
            } else {
                Pace {
                    texts: 1,
                    then: pace
                        .then
                        .max(Duration::milliseconds((1000.0 / per_second) as i64)),
                }
            };
        }
    }
    pace
}

/// The segments a second this campaign may send: its own rate, and its share of the
/// tenant's (split evenly among the tenant's `running` campaigns), whichever is lower;
/// `None` when neither caps it.
pub fn per_second(campaign: Option<&Rate>, tenant: Option<&Rate>, running: usize) -> Option<f64> {
    let share = tenant
        .and_then(|r| r.per_second)
        .map(|r| r / running.max(1) as f64);
    match (campaign.and_then(|r| r.per_second), share) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// How many more texts may go today (the last 24 hours) under a cap of `per_day`, with
/// `sent` gone already; `None` when there is no cap.
pub fn left_today(per_day: Option<u32>, sent: u64) -> Option<usize> {
    per_day.map(|cap| (u64::from(cap).saturating_sub(sent)) as usize)
}

/// When a campaign may begin: its `send_at`, or its window's start, whichever is later.
fn begins(plan: &CampaignPlan) -> Option<DateTime<Utc>> {
    let at = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let send_at = plan.send_at.as_deref().and_then(at);
    let start = plan.window.as_ref().and_then(|w| at(&w.start));
    send_at.max(start)
}

/// The message id of recipient `n`'s text: the same every time it is asked for.
pub fn message_id(tenant: &str, campaign: &str, n: u32) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("casewire:{tenant}:campaign:{campaign}:{n}").as_bytes(),
    )
    .to_string()
}

pub struct Sender;

#[async_trait]
impl Worker for Sender {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    /// A run queues at most a batch (a second or so): after a crash, another process
    /// carries the campaign on within this. A run that outlasts it and overlaps the next
    /// one queues nothing twice: each text's id is the recipient's.
    fn lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(10)
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let (tenant, id) = (job.tenant_id.as_str(), job.id.as_str());
        let Some(campaign) = crate::campaigns::find(store, tenant, id).await? else {
            return Ok(Outcome::Done);
        };
        if campaign.state != "running" {
            return Ok(Outcome::Done);
        }
        let now = casewire_events::utc_now();
        if let Some(at) = begins(&campaign.plan).filter(|at| *at > now) {
            return Ok(Outcome::Continue(at));
        }
        let facts = crate::checks::facts(store, tenant, "").await?;
        // Which zones of the recipients still waiting are in quiet hours: asked only when
        // quiet hours hold bulk texts (the zones are a scan of what is waiting).
        let mut held = HashSet::new();
        let mut morning: Option<DateTime<Utc>> = None;
        if facts.policy.holds(Purpose::Bulk) {
            let zones: Vec<(Option<String>,)> = sqlx::query_as(
                "SELECT DISTINCT time_zone FROM messaging_campaign_recipients \
                 WHERE tenant_id = $1 AND campaign_id = $2 AND state = 'pending'",
            )
            .bind(tenant)
            .bind(id)
            .fetch_all(store.db().reader())
            .await?;
            for (zone,) in zones {
                if let Some(until) = facts.release(Purpose::Bulk, zone.as_deref()) {
                    held.insert(zone.unwrap_or_default());
                    morning = Some(morning.map_or(until, |m| m.min(until)));
                }
            }
        }
        // What is left matters to a window's pace only.
        let pending = match &campaign.plan.window {
            None => 0,
            Some(_) => {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM messaging_campaign_recipients \
                     WHERE tenant_id = $1 AND campaign_id = $2 AND state = 'pending'",
                )
                .bind(tenant)
                .bind(id)
                .fetch_one(store.db().reader())
                .await?;
                n as usize
            }
        };
        let plan = &campaign.plan;
        let tenant_rate = facts.policy.bulk_rate.as_ref();
        let (running,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM messaging_campaigns WHERE tenant_id = $1 AND state = 'running'",
        )
        .bind(tenant)
        .fetch_one(store.db().reader())
        .await?;
        let rate = per_second(plan.rate.as_ref(), tenant_rate, running as usize);
        let mut pace = pace(rate, plan.window.as_ref(), pending, now);
        let caps = (
            plan.rate.as_ref().and_then(|r| r.per_day),
            tenant_rate.and_then(|r| r.per_day),
        );
        if caps != (None, None) {
            // Counted only under a daily cap: a day's texts are many rows.
            let (sent_today, tenant_sent_today, oldest_today): (i64, i64, Option<String>) =
                sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM messaging_campaign_recipients WHERE tenant_id = $1 AND campaign_id = $2 AND queued_at >= $3), \
                            (SELECT COUNT(*) FROM messaging_campaign_recipients WHERE tenant_id = $1 AND queued_at >= $3), \
                            (SELECT MIN(queued_at) FROM messaging_campaign_recipients WHERE tenant_id = $1 AND queued_at >= $3)",
                )
                .bind(tenant)
                .bind(id)
                .bind(casewire_events::timestamp(now - Duration::days(1)))
                .fetch_one(store.db().reader())
                .await?;
            let today = [
                left_today(caps.0, sent_today as u64),
                left_today(caps.1, tenant_sent_today as u64),
            ];
            if let Some(left) = today.into_iter().flatten().min() {
                if left == 0 {
                    // The day's texts are spent: look again when the oldest leaves the day.
                    let oldest = oldest_today
                        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                        .map_or(now, |t| t.with_timezone(&Utc));
                    return Ok(Outcome::Continue(oldest + Duration::days(1)));
                }
                pace.texts = pace.texts.min(left);
            }
        }
        let due = due(store, tenant, id, &held, pace.texts).await?;
        if due.is_empty() {
            // Nobody left: done. Or everyone left is in their quiet hours: look again when
            // the first morning comes.
            return match morning {
                // A rule's campaign waits for its next case (which starts it again).
                None if campaign.rule.is_some() => Ok(Outcome::Done),
                None => {
                    record(store, tenant, id, job.cause(), CampaignCommand::Complete).await?;
                    Ok(Outcome::Done)
                }
                Some(at) => Ok(Outcome::Continue(at)),
            };
        }
        let organization: Option<(String,)> =
            sqlx::query_as("SELECT name FROM messaging_tenants WHERE id = $1")
                .bind(tenant)
                .fetch_optional(store.db().reader())
                .await?;
        let organization = organization.map_or(String::new(), |(n,)| n);
        let price = facts.price().unwrap_or_default();
        let phones: Vec<&str> = due.iter().map(|(_, r)| r.phone.as_str()).collect();
        let consents = crate::checks::consents(store, tenant, &phones).await?;
        let names = client_names(store, tenant, &due).await?;
        // Each recipient's text queued at once (one group commit takes many); the skips
        // recorded together after.
        let texts: Vec<(u32, Recipient, String)> = due
            .into_iter()
            .map(|(n, recipient)| {
                let body = crate::campaign::opening(
                    &campaign.plan,
                    &recipient.language,
                    names.get(&recipient.case_id).map(String::as_str),
                    &organization,
                );
                (n, recipient, body)
            })
            .collect();
        // The rate is in segments: a run of long texts waits as long as its segments take.
        let segments: u32 = texts
            .iter()
            .map(|(.., body)| casewire_sms::segments::count(body).segments)
            .sum();
        let then = match rate {
            Some(per_second) => pace.then.max(Duration::milliseconds(
                (f64::from(segments) / per_second * 1000.0) as i64,
            )),
            None => pace.then,
        };
        let outcomes: Vec<Option<(u32, String)>> = futures::stream::iter(texts)
            .map(|(n, recipient, body)| {
                let state = consents.get(&recipient.phone).copied().unwrap_or_default();
                let consent = facts.policy.answer(Purpose::Bulk, state, &recipient.phone);
                async move {
                    if !consent.allowed {
                        let reason = match consent.state {
                            casewire_events::consent::State::Revoked => "revoked",
                            _ => "no_consent",
                        };
                        return Ok(Some((n, reason.to_string())));
                    }
                    queue(store, job, n, recipient, body, price).await
                }
            })
            .buffer_unordered(QUEUE_AT_ONCE)
            .collect::<Vec<anyhow::Result<_>>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<_>>()?;
        let skipped: Vec<(u32, String)> = outcomes.into_iter().flatten().collect();
        if !skipped.is_empty() {
            record(
                store,
                tenant,
                id,
                job.cause(),
                CampaignCommand::Skip(skipped),
            )
            .await?;
        }
        // The pace counts from this run's start: a run's own time is part of its second.
        Ok(Outcome::Continue(now + then))
    }
}

/// The next `limit` recipients still waiting, by their place, outside the `held` zones
/// ("" for the tenant's own).
async fn due(
    store: &EventStore,
    tenant: &str,
    campaign: &str,
    held: &HashSet<String>,
    limit: usize,
) -> anyhow::Result<Vec<(u32, Recipient)>> {
    let held: Vec<&String> = held.iter().collect();
    let outside = match held.len() {
        0 => String::new(),
        n => format!(
            " AND COALESCE(time_zone, '') NOT IN ({})",
            casewire_eventstore::sql::list(n, 4)
        ),
    };
    let sql = format!(
        "SELECT n, case_id, phone, language, time_zone FROM messaging_campaign_recipients \
         WHERE tenant_id = $1 AND campaign_id = $2 AND state = 'pending'{outside} ORDER BY n LIMIT $3"
    );
    let mut query = sqlx::query_as::<_, (i64, String, String, String, Option<String>)>(&sql)
        .bind(tenant)
        .bind(campaign)
        .bind(limit as i64);
    for zone in held {
        query = query.bind(zone);
    }
    Ok(query
        .fetch_all(store.db().reader())
        .await?
        .into_iter()
        .map(|(n, case_id, phone, language, time_zone)| {
            (
                n as u32,
                Recipient {
                    case_id,
                    phone,
                    language,
                    time_zone,
                },
            )
        })
        .collect())
}

/// Texts queued at once within a run.
const QUEUE_AT_ONCE: usize = 32;

/// Queues recipient `n`'s text under its own id: `Some` reason when it cannot be (the text
/// is not one casewire can send), nothing when it is queued or was already. `job` is the
/// campaign's sender: its tenant, its campaign and the cause the text names.
async fn queue(
    store: &EventStore,
    job: &Job,
    n: u32,
    recipient: Recipient,
    body: String,
    price: crate::message::Price,
) -> anyhow::Result<Option<(u32, String)>> {
    let (tenant, campaign) = (job.tenant_id.as_str(), job.id.as_str());
    let queue = MessageCommand::Queue(Outbound {
        case_id: Some(recipient.case_id),
        to: recipient.phone,
        body,
        price,
        purpose: Purpose::Bulk,
        zone: recipient.time_zone,
        campaign: Some(CampaignText {
            id: campaign.to_string(),
            n,
        }),
        ..Outbound::default()
    });
    let metadata = Metadata::system(job.cause()).into_map();
    let message = message_id(tenant, campaign, n);
    // A new message, not loaded first: the append finds it new (one look-up per group
    // commit), or conflicts when a run that died had queued it.
    let new = &mut (Message::default(), 0);
    match casewire_bus::record_on::<Message>(store, tenant, &message, new, queue, metadata).await {
        Ok(_) => Ok(None),
        // Queued by a run that died before it was done: nothing to do again.
        Err(e) if e.code == casewire_bus::ErrorCode::Conflict => Ok(None),
        Err(e) if e.code == casewire_bus::ErrorCode::Invalid => {
            tracing::warn!(campaign, n, error = %e.message, "a campaign text could not be queued");
            Ok(Some((n, "invalid_text".to_string())))
        }
        Err(e) => anyhow::bail!(e.message),
    }
}

/// The clients' names on the recipients' cases, opened (none where erased), in one
/// statement.
async fn client_names(
    store: &EventStore,
    tenant: &str,
    due: &[(u32, Recipient)],
) -> anyhow::Result<HashMap<String, String>> {
    let sql = format!(
        "SELECT case_id, client_name FROM messaging_cases WHERE tenant_id = $1 AND case_id IN ({})",
        casewire_eventstore::sql::list(due.len(), 2)
    );
    let mut query = sqlx::query_as::<_, (String, Option<String>)>(&sql).bind(tenant);
    for (_, r) in due {
        query = query.bind(&r.case_id);
    }
    let mut names = HashMap::new();
    for (case_id, sealed) in query.fetch_all(store.db().reader()).await? {
        let Some(sealed) = sealed else { continue };
        let opened = store.open_payload(tenant, &sealed).await?;
        let name: Sealed<String> = serde_json::from_value(opened)?;
        if let Some(name) = name.value() {
            names.insert(case_id, name.clone());
        }
    }
    Ok(names)
}

async fn record(
    store: &EventStore,
    tenant: &str,
    id: &str,
    cause: Option<&str>,
    command: CampaignCommand,
) -> anyhow::Result<()> {
    let metadata = Metadata::system(cause).into_map();
    casewire_bus::record::<Campaign>(store, tenant, id, command, metadata)
        .await
        .map(drop)
        .map_err(|e| anyhow::anyhow!(e.message))
}

/// Whom a draft would reach now, and what it would cost: each recipient's text in their
/// language, with a first name of [`NAME_LETTERS`] letters, at the tenant's price.
pub async fn estimate(
    store: &EventStore,
    tenant: &str,
    plan: &CampaignPlan,
) -> anyhow::Result<Estimate> {
    const NAME_LETTERS: &str = "Alexandriana";
    let since = texted_since(plan)?;
    let price = crate::checks::facts(store, tenant, "")
        .await?
        .price()
        .unwrap_or_default();
    let organization: Option<(String,)> =
        sqlx::query_as("SELECT name FROM messaging_tenants WHERE id = $1")
            .bind(tenant)
            .fetch_optional(store.db().reader())
            .await?;
    let organization = organization.map_or(String::new(), |(n,)| n);
    let mut reading =
        crate::audience::Reading::open(store, tenant, &plan.filter, since, HashSet::new()).await?;
    let mut by_language: BTreeMap<String, u64> = BTreeMap::new();
    loop {
        let chunk = reading.next(FROZEN_PER_EVENT).await?;
        if chunk.is_empty() {
            break;
        }
        for r in chunk {
            *by_language.entry(r.language).or_default() += 1;
        }
    }
    let micros: u64 = by_language
        .iter()
        .map(|(language, n)| {
            let text = crate::campaign::opening(plan, language, Some(NAME_LETTERS), &organization);
            let count = casewire_sms::segments::count(&text);
            n * casewire_sms::segments::estimated_price(&count, price.per_segment_micros)
        })
        .sum();
    Ok(Estimate {
        recipients: by_language.values().sum::<u64>() as u32,
        cost_usd: micros as f64 / 1e6,
        excluded: reading.excluded(),
    })
}

/// The cutoff of the plan's `exclude_texted_within`, from now.
pub fn texted_since(plan: &CampaignPlan) -> anyhow::Result<Option<DateTime<Utc>>> {
    plan.exclude_texted_within
        .as_deref()
        .map(|w| {
            casewire_tenancy::Offset::parse(w)
                .map(|o| casewire_events::utc_now() - o.span())
                .map_err(|e| anyhow::anyhow!(e))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_tenants_rate_is_shared_by_its_running_campaigns_and_caps_each() {
        let rate = |r: f64| Rate {
            per_second: Some(r),
            per_day: None,
        };
        assert_eq!(per_second(None, Some(&rate(3.0)), 1), Some(3.0));
        assert_eq!(per_second(None, Some(&rate(3.0)), 2), Some(1.5));
        assert_eq!(per_second(Some(&rate(1.0)), Some(&rate(3.0)), 1), Some(1.0));
        assert_eq!(
            per_second(Some(&rate(10.0)), Some(&rate(3.0)), 1),
            Some(3.0)
        );
        assert_eq!(per_second(None, None, 4), None);
        assert_eq!(left_today(Some(1_000), 999), Some(1));
        assert_eq!(left_today(Some(1_000), 1_200), Some(0));
        assert_eq!(left_today(None, 5), None);
    }

    #[test]
    fn without_a_rate_or_a_window_a_run_queues_a_batch_and_the_next_follows() {
        let p = pace(None, None, 50_000, at("2026-12-05T16:00:00Z"));
        assert_eq!(
            p,
            Pace {
                texts: BATCH,
                then: Duration::zero()
            }
        );
    }

    #[test]
    fn a_rate_lets_that_many_segments_go_a_second() {
        let now = at("2026-12-05T16:00:00Z");
        assert_eq!(
            pace(Some(100.0), None, 500, now),
            Pace {
                texts: 10,
                then: Duration::milliseconds(100)
            }
        );
        assert_eq!(
            pace(Some(0.5), None, 500, now),
            Pace {
                texts: 1,
                then: Duration::seconds(2)
            }
        );
        assert_eq!(
            pace(Some(2.5), None, 500, now),
            Pace {
                texts: 1,
                then: Duration::milliseconds(400)
            }
        );
    }

    #[test]
    fn a_window_spreads_what_is_left_over_what_is_left_of_it() {
        let window = Window {
            start: "2026-12-05T16:00:00Z".into(),
            end: "2026-12-05T18:00:00Z".into(),
        };
        // 3,600 texts over two hours: one every two seconds.
        let p = pace(None, Some(&window), 3_600, at("2026-12-05T16:00:00Z"));
        assert_eq!(
            p,
            Pace {
                texts: 1,
                then: Duration::seconds(2)
            }
        );
        // Half an hour left and 3,600 to go: two a second.
        let p = pace(None, Some(&window), 3_600, at("2026-12-05T17:30:00Z"));
        assert_eq!(p.texts, 2);
        // Past its end: what is left goes at the campaign's pace.
        let p = pace(None, Some(&window), 10, at("2026-12-05T19:00:00Z"));
        assert_eq!(p.texts, BATCH);
    }

    #[test]
    fn a_recipients_text_has_one_id_however_often_it_is_asked_for() {
        assert_eq!(message_id("t1", "c1", 7), message_id("t1", "c1", 7));
        assert_ne!(message_id("t1", "c1", 7), message_id("t1", "c1", 8));
        assert_ne!(message_id("t1", "c1", 7), message_id("t2", "c1", 7));
    }
}
