//! A case's thread as a readable transcript, for a client's file or a grievance: an HTML
//! page made for printing (or saving as PDF from the browser), with what the trail says of
//! its integrity.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use casewire_contract::messaging::MessageView;
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;

use crate::extract::{Path, Query};
use crate::routes::cases::{find_case, READING};
use crate::{ApiError, Auth, Gateway};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TranscriptQuery {
    /// `chain`: also walk the tenant's whole hash chain now (as `GET /v1/audit/verify`;
    /// its time grows with the tenant's trail). Left out: the case's own events are
    /// checked, and the checkpoint that covers them named.
    #[param(pattern = "^chain$")]
    verify: Option<String>,
}

/// What the trail says of the transcript's events.
struct Integrity {
    events: usize,
    /// The first of the case's events that does not hash to its recorded hash.
    broken_at: Option<i64>,
    /// The first checkpoint at or after the case's last event: (seq, signed at).
    checkpoint: Option<(i64, String)>,
    /// The whole chain's walk, when asked.
    chain: Option<String>,
}

/// The case's texts, both ways, oldest first, with who sent each and its status, as an
/// HTML page to print. Bodies are escaped; an erased client's texts read "erased".
#[utoipa::path(get, path = "/v1/cases/{case_id}/transcript.html", tag = "cases", security(("api_key" = [])), params(TranscriptQuery), responses(
    (status = 200, description = "the transcript", content_type = "text/html"),
    (status = 404, description = "no such case (or another tenant's, or not a bound key's)"),
))]
pub(crate) async fn transcript(
    State(gw): State<Gateway>,
    auth: Auth,
    Path(case_id): Path<String>,
    Query(q): Query<TranscriptQuery>,
) -> Result<axum::response::Response, ApiError> {
    let tenant = auth.own_tenant(READING)?.to_string();
    let case = find_case(&gw, &auth, &tenant, &case_id).await?;
    let organization = gw
        .tenant(&tenant)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let texts = casewire_messaging::messages::thread(gw.store(), &tenant, &case_id)
        .await
        .map_err(ApiError::internal)?;
    let integrity = integrity(
        &gw,
        &tenant,
        &case_id,
        &case.client.phone,
        q.verify.is_some(),
    )
    .await?;
    crate::routes::cases::looked(&gw, &auth, &tenant, Some(&case_id), None, texts.len()).await?;
    let page = render(&organization, &case, &texts, &integrity);
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
            // Nothing runs, nothing loads: the page is text and its own style.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        page.into_string(),
    )
        .into_response())
}

async fn integrity(
    gw: &Gateway,
    tenant: &str,
    case_id: &str,
    phone: &str,
    whole_chain: bool,
) -> Result<Integrity, ApiError> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page = casewire_audit::trail::timeline(gw.store(), tenant, case_id, phone, after, 1000)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.tenant_seq;
        events.extend(page);
    }
    let broken_at = casewire_audit::trail::rows_hold(&events).err();
    let checkpoint = match events.last() {
        Some(last) => {
            casewire_audit::trail::checkpoint_after(gw.store(), tenant, last.tenant_seq).await?
        }
        None => None,
    };
    let chain = match whole_chain {
        false => None,
        true => Some(match gw.store().verify(tenant, &[]).await? {
            casewire_eventstore::Verification::Intact { events, .. } => {
                format!("the tenant's whole trail verifies: {events} events, intact")
            }
            casewire_eventstore::Verification::Broken { seq, reason, .. } => {
                format!("the tenant's trail is BROKEN at event {seq}: {reason}")
            }
        }),
    };
    Ok(Integrity {
        events: events.len(),
        broken_at,
        checkpoint,
        chain,
    })
}

fn render(
    organization: &str,
    case: &casewire_contract::case_link::CaseView,
    texts: &[MessageView],
    integrity: &Integrity,
) -> Markup {
    let client = case.client.name.as_deref().unwrap_or("(erased)");
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Transcript of case " (case.id) }
                style { (STYLE) }
            }
            body {
                h1 { (organization) }
                p.meta {
                    "Case " strong { (case.id) } " · client " strong { (client) }
                    " · " (case.client.phone) " · status " (case.status)
                    @if !case.advocates.is_empty() {
                        " · advocates " (case.advocates.join(", "))
                    }
                }
                p.meta { "Generated " (casewire_events::now()) " from casewire's audit trail." }
                section.integrity {
                    @match integrity.broken_at {
                        None => p {
                            "Integrity: each of the case's " (integrity.events)
                            " events in the trail hashes to the value the trail records."
                        },
                        Some(seq) => p.broken {
                            "Integrity: event " (seq) " of the trail does NOT hash to its recorded value. "
                            "This transcript may not be what was recorded."
                        },
                    }
                    @match &integrity.checkpoint {
                        Some((seq, at)) => p {
                            "The trail's signed checkpoint at event " (seq) " (signed " (at)
                            ") comes after all of them; prove the trail extends it with GET /v1/audit/verify?checkpoint=…"
                        },
                        None => p { "No signed checkpoint covers these events yet." },
                    }
                    @if let Some(chain) = &integrity.chain {
                        p { (chain) }
                    }
                }
                table {
                    thead { tr { th { "When (UTC)" } th { "From" } th { "Text" } th { "Status" } } }
                    tbody {
                        @for m in texts {
                            tr {
                                td.when { (m.created_at) }
                                td.who { (sender(m, client)) }
                                td.body {
                                    @match &m.body {
                                        Some(body) => (body),
                                        None => em { "(erased)" },
                                    }
                                }
                                td.status {
                                    (m.status)
                                    @if let Some(reason) = &m.error_reason { br; small { (reason) } }
                                }
                            }
                        }
                    }
                }
                @if texts.is_empty() { p { "No texts on this case." } }
            }
        }
    }
}

/// Who a text is from: the client, or the advocate (or key) who sent it.
fn sender(m: &MessageView, client: &str) -> String {
    match m.direction.as_str() {
        "inbound" => format!("{client} (client)"),
        _ => match (&m.on_behalf_of, &m.sent_by) {
            (Some(person), _) => person.clone(),
            (None, Some(key)) if key == "system" => "casewire".into(),
            (None, Some(key)) => key.clone(),
            (None, None) => "staff".into(),
        },
    }
}

const STYLE: &str = "body{font:11pt/1.4 Georgia,serif;margin:2em}h1{font-size:16pt;margin:0}\
.meta{color:#333;margin:.2em 0}.integrity{border:1px solid #999;padding:.3em .8em;margin:1em 0}\
.broken{color:#a00;font-weight:bold}table{border-collapse:collapse;width:100%}\
th,td{border-bottom:1px solid #ccc;padding:.3em;text-align:left;vertical-align:top}\
td.when{white-space:nowrap;font-size:9pt}td.body{white-space:pre-wrap}";
