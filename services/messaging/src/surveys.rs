//! Surveys at work: a client's reply read as an answer to the survey waiting for them, and
//! the answers as the organization reads them (results per question, a CSV per recipient).
//!
//! The way of a reply: [`SurveyReplies`] hands a client's text to the [`Answerer`] when
//! the number has a survey waiting; the answerer lets the keywords go first (STOP, HELP,
//! START and an unclear stop are consent's, never answers), then records the reply on the
//! recipient's [`SurveyResponse`] (survey.rs decides), then sends the next question or
//! the question again, as the events say. The answers' rows are written with the
//! append of the survey's events (campaigns.rs), so the results are current.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use casewire_bus::jobs::{self, Job, Outcome, Worker};
use casewire_bus::{Of, Projection, Reads};
use casewire_contract::campaigns::{QuestionResults, ResponsesBy, SurveyResults};
use casewire_events::campaign::{CampaignPlan, CampaignText};
use casewire_events::message::{MessageEvent, Purpose};
use casewire_events::survey::{response_id, SurveyEvent};
use casewire_events::{Metadata, RecordedEvent, Sealed};
use casewire_eventstore::EventStore;
use casewire_keywords::{Keywords, Meaning};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Any, Transaction};

use crate::campaigns::CampaignRow;
use crate::message::{Message, MessageCommand, Outbound};
use crate::survey::{self, Reply, SurveyResponse};

pub const QUEUE: &str = "messaging.survey-replies";

/// The recipient a reply at `at` from `phone` answers: the latest survey text to the
/// number before it, not finished. `(campaign, n, case, language, zone, queued_at, plan)`.
type Waiting = (String, i64, String, String, Option<String>, String, String);

const WAITING: &str =
    "SELECT r.campaign_id, r.n, r.case_id, r.language, r.time_zone, r.queued_at, c.plan \
     FROM messaging_campaign_recipients r JOIN messaging_campaigns c \
       ON c.tenant_id = r.tenant_id AND c.id = r.campaign_id \
     WHERE r.tenant_id = $1 AND r.phone = $2 AND c.kind = 'survey' AND r.state = 'queued' \
       AND r.queued_at <= $3 AND r.finished_at IS NULL \
     ORDER BY r.queued_at DESC LIMIT 1";

/// Hands a client's text to the answerer when their number has a survey waiting: one
/// indexed look-up per inbound text, and a job only for survey replies.
pub struct SurveyReplies;

#[async_trait]
impl Projection for SurveyReplies {
    fn name(&self) -> &'static str {
        "messaging_survey_replies"
    }

    fn reads(&self) -> Reads {
        const OF: &[Of] = &[Of::only(
            casewire_events::message::AGGREGATE,
            &["InboundReceived"],
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
        let MessageEvent::InboundReceived { from, .. } = e.decode()? else {
            return Ok(());
        };
        let waiting: Option<Waiting> = sqlx::query_as(WAITING)
            .bind(&e.tenant_id)
            .bind(&from)
            .bind(&e.recorded_at)
            .fetch_optional(&mut **tx)
            .await?;
        if waiting.is_some() {
            let at = json!({ "from": from, "at": e.recorded_at, "cause": e.event_id });
            jobs::enqueue(
                tx,
                QUEUE,
                &e.tenant_id,
                &e.aggregate_id,
                &at,
                casewire_events::utc_now(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Reads a client's reply as an answer and sends what follows it.
pub struct Answerer;

#[async_trait]
impl Worker for Answerer {
    fn queue(&self) -> &'static str {
        QUEUE
    }

    async fn run(&self, store: &EventStore, job: &Job) -> anyhow::Result<Outcome> {
        let tenant = job.tenant_id.as_str();
        let events = store
            .read_aggregate(tenant, casewire_events::message::AGGREGATE, &job.id, 0)
            .await?;
        let Some(received) = events.first() else {
            return Ok(Outcome::Done);
        };
        let MessageEvent::InboundReceived {
            from,
            body,
            opt_out_type,
            ..
        } = received.decode()?
        else {
            return Ok(Outcome::Done);
        };
        // Twilio's own keyword handling fired, or the client's data is erased.
        let Some(text) = body.value().filter(|_| opt_out_type.is_none()) else {
            return Ok(Outcome::Done);
        };
        let facts = crate::checks::facts(store, tenant, &from).await?;
        if let Some((meaning, _)) = Keywords::for_policy(&facts.policy).classify(text) {
            // Consent's to read; a yes that confirms nothing is an answer.
            if !matches!(meaning, Meaning::Confirm | Meaning::Agree) {
                return Ok(Outcome::Done);
            }
        }
        let waiting: Option<Waiting> = sqlx::query_as(WAITING)
            .bind(tenant)
            .bind(&from)
            .bind(&received.recorded_at)
            .fetch_optional(store.db().reader())
            .await?;
        let Some((campaign, n, case_id, language, zone, queued_at, plan)) = waiting else {
            return Ok(Outcome::Done);
        };
        let n = n as u32;
        let plan: CampaignPlan = serde_json::from_str(&plan)?;
        let Some(plan_survey) = plan.survey else {
            return Ok(Outcome::Done);
        };
        let expires =
            casewire_tenancy::Offset::parse(&plan_survey.expires).map_err(anyhow::Error::msg)?;
        if at(&received.recorded_at)? > at(&queued_at)? + expires.span() {
            return Ok(Outcome::Done);
        }
        let id = response_id(&campaign, n);
        let reply = Reply {
            campaign: campaign.clone(),
            n,
            case_id: case_id.clone(),
            survey: Box::new(plan_survey.clone()),
            reply: job.id.clone(),
            text: text.clone(),
        };
        let metadata = Metadata::system(job.cause()).into_map();
        casewire_bus::record::<SurveyResponse>(store, tenant, &id, reply, metadata)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        // What follows this reply, read back from the log: after a crash here, the retry
        // finds the reply recorded and sends what it asked for.
        let follows = survey::message_id(&campaign, n, &job.id);
        let mut next = None;
        for e in store
            .read_aggregate(tenant, casewire_events::survey::AGGREGATE, &id, 0)
            .await?
        {
            match e.decode::<SurveyEvent>()? {
                SurveyEvent::SurveyAsked {
                    question, message, ..
                } if message == follows => next = Some((question, false)),
                SurveyEvent::SurveyReasked {
                    question, message, ..
                } if message == follows => next = Some((question, true)),
                _ => {}
            }
        }
        let Some((question, again)) = next else {
            return Ok(Outcome::Done);
        };
        let Some(question) = plan_survey.question(&question) else {
            return Ok(Outcome::Done);
        };
        // The client is answering now: the next question goes at once, as an answer to
        // their text would, unless they opted out.
        if !facts.consent(Purpose::Conversation, &from).allowed {
            return Ok(Outcome::Done);
        }
        let body = match again {
            true => survey::reask(question, &language),
            false => survey::ask(question, &language),
        };
        let queue = MessageCommand::Queue(Outbound {
            case_id: Some(case_id),
            to: from,
            body,
            price: facts.price().unwrap_or_default(),
            purpose: Purpose::Conversation,
            in_reply_to: Some(job.id.clone()),
            zone,
            campaign: Some(CampaignText { id: campaign, n }),
            ..Outbound::default()
        });
        let metadata = Metadata::system(job.cause()).into_map();
        match casewire_bus::record::<Message>(store, tenant, &follows, queue, metadata).await {
            Ok(_) => Ok(Outcome::Done),
            // Queued before a crash: sent once.
            Err(e) if e.code == casewire_bus::ErrorCode::Conflict => Ok(Outcome::Done),
            Err(e) => anyhow::bail!(e.message),
        }
    }
}

fn at(t: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(t)?.with_timezone(&Utc))
}

/// Writes a survey event's rows: the questions asked and answered, and who finished.
pub(crate) async fn apply(
    tx: &mut Transaction<'static, Any>,
    e: &RecordedEvent,
) -> anyhow::Result<()> {
    match e.decode::<SurveyEvent>()? {
        SurveyEvent::SurveyAnswered {
            campaign,
            n,
            question,
            value,
            reply,
            parsed,
            ..
        } => {
            // The first question was asked with the recipient's opening text.
            sqlx::query(
                "INSERT INTO messaging_survey_answers \
                 (tenant_id, campaign_id, n, question, asked_at, answer, parsed, reply_id, answered_at) \
                 SELECT $1, $2, $3, $4, queued_at, $5, $6, $7, $8 FROM messaging_campaign_recipients \
                 WHERE tenant_id = $1 AND campaign_id = $2 AND n = $3 \
                 ON CONFLICT (tenant_id, campaign_id, n, question) DO UPDATE SET \
                 answer = $5, parsed = $6, reply_id = $7, answered_at = $8",
            )
            .bind(&e.tenant_id)
            .bind(&campaign)
            .bind(i64::from(n))
            .bind(&question)
            .bind(value)
            .bind(i64::from(parsed))
            .bind(&reply)
            .bind(&e.recorded_at)
            .execute(&mut **tx)
            .await?;
        }
        // Where they stand is the response aggregate's; asked again, nothing to count.
        SurveyEvent::SurveyReasked { .. } => {}
        SurveyEvent::SurveyAsked {
            campaign,
            n,
            question,
            ..
        } => {
            sqlx::query(
                "INSERT INTO messaging_survey_answers (tenant_id, campaign_id, n, question, asked_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, campaign_id, n, question) DO NOTHING",
            )
            .bind(&e.tenant_id)
            .bind(&campaign)
            .bind(i64::from(n))
            .bind(&question)
            .bind(&e.recorded_at)
            .execute(&mut **tx)
            .await?;
        }
        SurveyEvent::SurveyFinished { campaign, n } => {
            sqlx::query("UPDATE messaging_campaign_recipients SET finished_at = $4 WHERE tenant_id = $1 AND campaign_id = $2 AND n = $3")
                .bind(&e.tenant_id)
                .bind(&campaign)
                .bind(i64::from(n))
                .bind(&e.recorded_at)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// The survey's answers per question and the response rate by the hour: four statements.
pub async fn results(
    store: &EventStore,
    tenant: &str,
    c: &CampaignRow,
) -> anyhow::Result<SurveyResults> {
    let db = store.db().reader();
    let (texted, responded): (i64, i64) = sqlx::query_as(
        "SELECT \
           (SELECT COUNT(*) FROM messaging_campaign_recipients WHERE tenant_id = $1 AND campaign_id = $2 AND state = 'queued'), \
           (SELECT COUNT(DISTINCT n) FROM messaging_survey_answers WHERE tenant_id = $1 AND campaign_id = $2 AND answered_at IS NOT NULL)",
    )
    .bind(tenant)
    .bind(&c.id)
    .fetch_one(db)
    .await?;
    let counted: Vec<(String, Option<String>, Option<i64>, i64)> = sqlx::query_as(
        "SELECT question, answer, parsed, COUNT(*) FROM messaging_survey_answers \
         WHERE tenant_id = $1 AND campaign_id = $2 GROUP BY question, answer, parsed",
    )
    .bind(tenant)
    .bind(&c.id)
    .fetch_all(db)
    .await?;
    let times: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT question, asked_at, answered_at FROM messaging_survey_answers \
         WHERE tenant_id = $1 AND campaign_id = $2 AND answered_at IS NOT NULL AND asked_at IS NOT NULL",
    )
    .bind(tenant)
    .bind(&c.id)
    .fetch_all(db)
    .await?;
    let firsts: Vec<(String,)> = sqlx::query_as(
        "SELECT MIN(answered_at) FROM messaging_survey_answers \
         WHERE tenant_id = $1 AND campaign_id = $2 AND answered_at IS NOT NULL GROUP BY n",
    )
    .bind(tenant)
    .bind(&c.id)
    .fetch_all(db)
    .await?;
    let over_time = match &c.launched_at {
        Some(launched) => growth(at(launched)?, &firsts, texted as u32)?,
        None => Vec::new(),
    };
    let mut waits: HashMap<String, Vec<f64>> = HashMap::new();
    for (question, asked, answered) in times {
        let wait = (at(&answered)? - at(&asked)?).num_milliseconds() as f64 / 1000.0;
        waits.entry(question).or_default().push(wait);
    }
    let questions = c.plan.survey.as_ref().map_or(&[][..], |s| &s.questions[..]);
    let rate = |of: u32, among: u32| match among {
        0 => 0.0,
        _ => f64::from(of) / f64::from(among),
    };
    let results = questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let mut r = QuestionResults {
                id: q.id.clone(),
                asked: if i == 0 { texted as u32 } else { 0 },
                answered: 0,
                response_rate: 0.0,
                median_seconds_to_answer: waits.get_mut(&q.id).map(|w| median(w)),
                answers: BTreeMap::new(),
                kept_as_words: 0,
            };
            for (_, answer, parsed, n) in counted.iter().filter(|(id, ..)| *id == q.id) {
                let n = *n as u32;
                if i > 0 {
                    r.asked += n;
                }
                if let Some(answer) = answer {
                    r.answered += n;
                    *r.answers.entry(answer.clone()).or_default() += n;
                    if *parsed == Some(0) {
                        r.kept_as_words += n;
                    }
                }
            }
            r.response_rate = rate(r.answered, r.asked);
            r
        })
        .collect();
    Ok(SurveyResults {
        campaign_id: c.id.clone(),
        texted: texted as u32,
        responded: responded as u32,
        response_rate: rate(responded as u32, texted as u32),
        questions: results,
        over_time,
    })
}

/// Recipients' first answers (`firsts`), counted up by the hour after `launched`.
fn growth(
    launched: DateTime<Utc>,
    firsts: &[(String,)],
    texted: u32,
) -> anyhow::Result<Vec<ResponsesBy>> {
    let mut by_hour: BTreeMap<u32, u32> = BTreeMap::new();
    for (first,) in firsts {
        let after = (at(first)? - launched).num_seconds().max(0);
        *by_hour.entry((after / 3600) as u32 + 1).or_default() += 1;
    }
    let mut responded = 0;
    Ok(by_hour
        .into_iter()
        .map(|(hour, n)| {
            responded += n;
            ResponsesBy {
                hour,
                responded,
                response_rate: match texted {
                    0 => 0.0,
                    _ => f64::from(responded) / f64::from(texted),
                },
            }
        })
        .collect())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() % 2 {
        0 => (values[mid - 1] + values[mid]) / 2.0,
        _ => values[mid],
    }
}

/// How many recipients a page of the CSV reads at once.
const CSV_PAGE: i64 = 500;

/// One row per recipient, in the audience's order: the case, the language, where their
/// text stands (and Twilio's error code), and for each question the answer, the client's
/// words (opened; empty once erased) and when. Read a page of recipients at a time.
pub async fn csv(store: &EventStore, tenant: &str, c: &CampaignRow) -> anyhow::Result<Vec<u8>> {
    let db = store.db().reader();
    let questions = c.plan.survey.as_ref().map_or(&[][..], |s| &s.questions[..]);
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["n", "case_id", "language", "status", "error_code"]
        .map(String::from)
        .to_vec();
    for q in questions {
        header.extend([
            q.id.clone(),
            format!("{}_text", q.id),
            format!("{}_answered_at", q.id),
        ]);
    }
    out.write_record(&header)?;
    let mut after = -1i64;
    loop {
        type Row = (
            i64,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let page: Vec<Row> = sqlx::query_as(
            "SELECT r.n, r.case_id, r.language, r.state, r.reason, m.status, m.error_code \
             FROM messaging_campaign_recipients r LEFT JOIN messaging_messages m \
               ON m.tenant_id = r.tenant_id AND m.id = r.message_id \
             WHERE r.tenant_id = $1 AND r.campaign_id = $2 AND r.n > $3 ORDER BY r.n LIMIT $4",
        )
        .bind(tenant)
        .bind(&c.id)
        .bind(after)
        .bind(CSV_PAGE)
        .fetch_all(db)
        .await?;
        let Some(last) = page.last() else { break };
        let (first, last) = (page[0].0, last.0);
        type Answered = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let answers: Vec<Answered> = sqlx::query_as(
            "SELECT a.n, a.question, a.answer, a.answered_at, m.body, a.reply_id \
             FROM messaging_survey_answers a LEFT JOIN messaging_messages m \
               ON m.tenant_id = a.tenant_id AND m.id = a.reply_id \
             WHERE a.tenant_id = $1 AND a.campaign_id = $2 AND a.n >= $3 AND a.n <= $4 \
               AND a.answered_at IS NOT NULL",
        )
        .bind(tenant)
        .bind(&c.id)
        .bind(first)
        .bind(last)
        .fetch_all(db)
        .await?;
        let mut by_recipient: HashMap<(i64, String), (String, String, String)> = HashMap::new();
        for (n, question, answer, answered_at, body, _) in answers {
            let words = spreadsheet_safe(match body {
                Some(sealed) => {
                    let opened = store.open_payload(tenant, &sealed).await?;
                    serde_json::from_value::<Sealed<String>>(opened)?
                        .value()
                        .cloned()
                        .unwrap_or_default()
                }
                None => String::new(),
            });
            by_recipient.insert(
                (n, question),
                (
                    answer.unwrap_or_default(),
                    words,
                    answered_at.unwrap_or_default(),
                ),
            );
        }
        for (n, case_id, language, state, reason, status, error_code) in page {
            let status = match state.as_str() {
                "skipped" => format!("skipped: {}", reason.unwrap_or_default()),
                "pending" => "pending".to_string(),
                _ => status.unwrap_or_else(|| "queued".into()),
            };
            let mut record = vec![
                n.to_string(),
                case_id,
                language,
                status,
                error_code.unwrap_or_default(),
            ];
            for q in questions {
                let (answer, words, when) =
                    by_recipient.remove(&(n, q.id.clone())).unwrap_or_default();
                record.extend([answer, words, when]);
            }
            out.write_record(&record)?;
        }
        after = last;
    }
    Ok(out.into_inner()?)
}

/// A client's words as a spreadsheet cell that is only text: a cell that begins with `=`,
/// `+`, `-` or `@` would be a formula to the program a funder's report is opened in, so it
/// begins with an apostrophe (OWASP, CSV injection).
fn spreadsheet_safe(words: String) -> String {
    match words.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{words}"),
        _ => words,
    }
}
