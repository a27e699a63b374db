//! Whom a bulk text or a survey goes to: the cases an audience filter picks from messaging's
//! copy of the cases, one text per client (their phone), leaving out the clients a bulk text
//! may not reach (opted out, no consent) and, if asked, those texted lately. [`select`] is
//! the decision, pure; a [`Reading`] gathers the facts for it in three statements, then
//! reads the cases a page at a time and hands the recipients out in chunks (a launch
//! freezes each as it comes).

use std::collections::{HashMap, HashSet};

use casewire_events::audience::{CaseFacts, Excluded, Filter, Recipient, StatusFilter};
use casewire_events::consent::State;
use casewire_events::message::Purpose;
use casewire_eventstore::EventStore;
use casewire_tenancy::Policy;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Default)]
pub struct Selection {
    /// In the order of their case ids.
    pub recipients: Vec<Recipient>,
    pub excluded: Excluded,
}

/// The audience `filter` picks from `cases` (in the order of their ids): the first case of
/// each client's number is theirs; a client is left out when the tenant's `policy` does not
/// let a bulk text reach their `consent`, or when they are among the `texted`.
pub fn select(
    cases: impl IntoIterator<Item = (String, CaseFacts)>,
    filter: &Filter,
    policy: &Policy,
    consent: impl Fn(&str) -> State,
    texted: &HashSet<String>,
) -> Selection {
    let mut selector = Selector::default();
    for (case_id, facts) in cases {
        selector.offer(case_id, facts, filter, policy, &consent, texted);
    }
    selector.picked
}

/// [`select`] a case at a time, so that the cases can be read a page at a time.
#[derive(Default)]
struct Selector {
    picked: Selection,
    /// Every client's number seen so far: the one thing kept per recipient.
    phones: HashSet<String>,
    /// Numbers an interrupted launch froze already: their first case is theirs, not
    /// picked again nor counted as excluded.
    frozen: HashSet<String>,
}

impl Selector {
    fn offer(
        &mut self,
        case_id: String,
        facts: CaseFacts,
        filter: &Filter,
        policy: &Policy,
        consent: &impl Fn(&str) -> State,
        texted: &HashSet<String>,
    ) {
        if !filter.admits(&case_id, &facts) {
            return;
        }
        let excluded = &mut self.picked.excluded;
        let phone = facts.client.phone;
        if phone.is_empty() {
            excluded.no_phone += 1;
            return;
        }
        if !self.phones.insert(phone.clone()) {
            excluded.duplicate_phone += 1;
            return;
        }
        if self.frozen.remove(&phone) {
            return;
        }
        let state = consent(&phone);
        if state == State::Revoked {
            excluded.revoked += 1;
        } else if !policy.allows(Purpose::Bulk, state) {
            excluded.no_consent += 1;
        } else if texted.contains(&phone) {
            excluded.recently_texted += 1;
        } else {
            self.picked.recipients.push(Recipient {
                case_id,
                phone,
                language: facts.client.language,
                time_zone: facts.time_zone,
            });
        }
    }
}

/// Cases read at once: what a reading holds of the cases is a page, whatever the audience.
const PAGE: i64 = 2_000;

/// [`select`] over the tenant's cases as messaging holds them, read a page at a time and
/// handed out in chunks: what it holds grows with the audience only by each client's
/// number (to give a client one text), besides the tenant's consents and, when asked,
/// the numbers texted lately.
pub struct Reading<'a> {
    store: &'a EventStore,
    tenant: &'a str,
    filter: &'a Filter,
    status: &'static str,
    policy: Policy,
    consents: HashMap<String, String>,
    texted: HashSet<String>,
    selector: Selector,
    /// The last case id read; `None` once every page was.
    after: Option<String>,
}

impl<'a> Reading<'a> {
    /// Gathers the facts a reading needs (three statements), leaving out the clients
    /// texted since `texted_since` when given, and the numbers in `frozen` (an interrupted
    /// launch's recipients).
    pub async fn open(
        store: &'a EventStore,
        tenant: &'a str,
        filter: &'a Filter,
        texted_since: Option<DateTime<Utc>>,
        frozen: HashSet<String>,
    ) -> anyhow::Result<Self> {
        let policy = crate::checks::facts(store, tenant, "").await?.policy;
        let status = match filter.status {
            Some(StatusFilter::Open) => "open",
            Some(StatusFilter::Closed) => "closed",
            None | Some(StatusFilter::Any) => "",
        };
        let consents: HashMap<String, String> =
            sqlx::query_as("SELECT phone, state FROM messaging_consents WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_all(store.db().reader())
                .await?
                .into_iter()
                .collect();
        let texted: HashSet<String> = match texted_since {
            None => HashSet::new(),
            Some(since) => sqlx::query_as::<_, (String,)>(
                "SELECT DISTINCT phone FROM messaging_messages \
                 WHERE tenant_id = $1 AND direction = 'outbound' AND created_at >= $2",
            )
            .bind(tenant)
            .bind(casewire_events::timestamp(since))
            .fetch_all(store.db().reader())
            .await?
            .into_iter()
            .map(|(p,)| p)
            .collect(),
        };
        Ok(Reading {
            store,
            tenant,
            filter,
            status,
            policy,
            consents,
            texted,
            selector: Selector {
                frozen,
                ..Selector::default()
            },
            after: Some(String::new()),
        })
    }

    /// The next recipients picked, in the order of their case ids: at most `n`, and none
    /// once every case was read.
    pub async fn next(&mut self, n: usize) -> anyhow::Result<Vec<Recipient>> {
        while self.selector.picked.recipients.len() < n {
            let Some(after) = self.after.take() else {
                break;
            };
            let page: Vec<(String, String)> = sqlx::query_as(
                "SELECT case_id, details FROM messaging_cases \
                 WHERE tenant_id = $1 AND details IS NOT NULL AND ($2 = '' OR status = $2) AND case_id > $3 \
                 ORDER BY case_id LIMIT $4",
            )
            .bind(self.tenant)
            .bind(self.status)
            .bind(&after)
            .bind(PAGE)
            .fetch_all(self.store.db().reader())
            .await?;
            let full = page.len() as i64 == PAGE;
            let consents = &self.consents;
            let consent = |phone: &str| {
                consents
                    .get(phone)
                    .and_then(|s| State::named(s))
                    .unwrap_or_default()
            };
            let mut last = after;
            for (case_id, details) in page {
                let case = serde_json::from_str::<CaseFacts>(&details)?;
                last.clone_from(&case_id);
                self.selector.offer(
                    case_id,
                    case,
                    self.filter,
                    &self.policy,
                    &consent,
                    &self.texted,
                );
            }
            self.after = full.then_some(last);
        }
        let picked = &mut self.selector.picked.recipients;
        Ok(picked.drain(..n.min(picked.len())).collect())
    }

    /// Who was left out, and why, so far: the whole audience's once [`Reading::next`]
    /// gave nothing more.
    pub fn excluded(&self) -> Excluded {
        self.selector.picked.excluded.clone()
    }
}

/// The whole audience at once: for tests and small tenants' checks.
pub async fn pick(
    store: &EventStore,
    tenant: &str,
    filter: &Filter,
    texted_since: Option<DateTime<Utc>>,
) -> anyhow::Result<Selection> {
    let mut reading = Reading::open(store, tenant, filter, texted_since, HashSet::new()).await?;
    let recipients = reading.next(usize::MAX).await?;
    Ok(Selection {
        recipients,
        excluded: reading.excluded(),
    })
}

/// What an audience would be, before anything is sent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preview {
    /// Clients who would get a text: one per number.
    pub recipients: usize,
    /// At one segment per text and the tenant's price; a campaign's estimate counts its
    /// messages' segments.
    pub cost_estimate_usd: f64,
    pub excluded: Excluded,
    /// The first recipients, by case id, to check the filter by.
    pub sample: Vec<SampleRecipient>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SampleRecipient {
    pub case_id: String,
    pub language: String,
}

/// How many recipients a preview shows.
const SAMPLE: usize = 10;

/// The audience `filter` would pick now, counted and priced.
pub async fn preview(
    store: &EventStore,
    tenant: &str,
    filter: &Filter,
    texted_since: Option<DateTime<Utc>>,
) -> anyhow::Result<Preview> {
    let price = crate::checks::facts(store, tenant, "")
        .await?
        .price()
        .unwrap_or_default();
    let mut reading = Reading::open(store, tenant, filter, texted_since, HashSet::new()).await?;
    let mut recipients = 0;
    let mut sample = Vec::with_capacity(SAMPLE);
    loop {
        let chunk = reading.next(PAGE as usize).await?;
        if chunk.is_empty() {
            break;
        }
        recipients += chunk.len();
        sample.extend(
            chunk
                .into_iter()
                .take(SAMPLE - sample.len())
                .map(|r| SampleRecipient {
                    case_id: r.case_id,
                    language: r.language,
                }),
        );
    }
    Ok(Preview {
        recipients,
        cost_estimate_usd: (recipients as u64 * price.per_segment_micros) as f64 / 1e6,
        excluded: reading.excluded(),
        sample,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use casewire_events::audience::ClientFacts;

    fn case(phone: &str, problem: &str) -> CaseFacts {
        CaseFacts {
            client: ClientFacts {
                phone: phone.into(),
                language: "es".into(),
            },
            status: casewire_events::case::CaseStatus::Open,
            problem_code: Some(problem.into()),
            office: None,
            advocates: vec![],
            time_zone: Some("America/Denver".into()),
            opened_at: None,
            closed_at: None,
        }
    }

    /// Given five consumer cases and one housing case, when the clinic's audience is picked:
    /// a client with two cases gets one text, the one who opted out and the one who never
    /// consented get none, and the one texted yesterday none when recent texts are left out.
    #[test]
    fn one_text_per_consenting_client_the_rest_counted_by_why() {
        let cases = [
            ("C-1", case("+13125550101", "01")),
            ("C-2", case("+13125550102", "01")),
            ("C-3", case("+13125550101", "01")),
            ("C-4", case("+13125550104", "01")),
            ("C-5", case("+13125550105", "01")),
            ("C-6", case("+13125550106", "63")),
        ]
        .map(|(id, f)| (id.to_string(), f));
        let filter: Filter =
            serde_json::from_value(serde_json::json!({"problem_codes": ["01"]})).unwrap();
        let consent = |phone: &str| match phone {
            "+13125550102" => State::Revoked,
            "+13125550104" => State::Pending,
            _ => State::Granted,
        };
        let texted = HashSet::from(["+13125550105".to_string()]);
        let picked = select(cases, &filter, &Policy::default(), consent, &texted);
        let to: Vec<(&str, &str)> = picked
            .recipients
            .iter()
            .map(|r| (r.case_id.as_str(), r.phone.as_str()))
            .collect();
        assert_eq!(to, [("C-1", "+13125550101")]);
        assert_eq!(
            picked.recipients[0].time_zone.as_deref(),
            Some("America/Denver")
        );
        assert_eq!(
            picked.excluded,
            Excluded {
                revoked: 1,
                no_consent: 1,
                no_phone: 0,
                duplicate_phone: 1,
                recently_texted: 1,
            }
        );
    }
}
