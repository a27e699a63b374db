//! The contract in proto/, generated from the Rust types: the gateway's OpenAPI document
//! and a JSON Schema per event type. `make proto` writes them; a test fails when the
//! checked-in files differ from what the code generates.

use serde_json::{json, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// Every file of proto/, as (path under proto/, contents).
pub fn documents() -> Vec<(String, String)> {
    let mut docs = vec![(
        "openapi.json".to_string(),
        pretty(&serde_json::to_value(casewire_gateway::openapi::document()).unwrap()),
    )];
    docs.extend(event_schemas::<casewire_tenancy::TenantEvent>("tenant"));
    docs.extend(event_schemas::<casewire_events::message::MessageEvent>(
        casewire_events::message::AGGREGATE,
    ));
    docs.extend(event_schemas::<casewire_events::case::CaseEvent>(
        casewire_events::case::AGGREGATE,
    ));
    docs.extend(event_schemas::<casewire_events::campaign::CampaignEvent>(
        casewire_events::campaign::AGGREGATE,
    ));
    docs.extend(event_schemas::<casewire_events::survey::SurveyEvent>(
        casewire_events::survey::AGGREGATE,
    ));
    docs.extend(event_schemas::<casewire_events::survey::SurveyRuleEvent>(
        casewire_events::survey::RULE_AGGREGATE,
    ));
    docs.extend(event_schemas::<casewire_events::case::InboundRouteEvent>(
        casewire_events::case::ROUTE_AGGREGATE,
    ));
    docs.extend(
        event_schemas::<casewire_events::case::WebhookEndpointEvent>(
            casewire_events::case::ENDPOINT_AGGREGATE,
        ),
    );
    docs.extend(event_schemas::<casewire_events::review::ReviewEvent>(
        casewire_events::review::AGGREGATE,
    ));
    docs.extend(
        event_schemas::<casewire_events::checkpoint::CheckpointEvent>(
            casewire_events::checkpoint::AGGREGATE,
        ),
    );
    docs.extend(event_schemas::<casewire_events::erasure::HoldEvent>(
        casewire_events::erasure::HOLD_AGGREGATE,
    ));
    docs.extend(event_schemas::<casewire_events::erasure::ErasureEvent>(
        casewire_events::erasure::ERASURE_AGGREGATE,
    ));
    docs.extend(event_schemas::<
        casewire_events::erasure::ProviderDeletionEvent,
    >(casewire_events::erasure::PROVIDER_DELETION_AGGREGATE));
    docs.extend(command_schemas());
    docs
}

/// One JSON Schema per command of the bus: what is sent and what comes back.
fn command_schemas() -> Vec<(String, String)> {
    use casewire_contract::{campaigns, case_link, consent, messaging};
    vec![
        command_schema::<messaging::Send>(),
        command_schema::<messaging::Reply>(),
        command_schema::<messaging::Receive>(),
        command_schema::<messaging::ReportStatus>(),
        command_schema::<messaging::PutAppointment>(),
        command_schema::<messaging::CancelAppointment>(),
        command_schema::<messaging::SetReminders>(),
        command_schema::<messaging::PreviewReminder>(),
        command_schema::<campaigns::DraftCampaign>(),
        command_schema::<campaigns::StepCampaign>(),
        command_schema::<campaigns::CreateSurveyRule>(),
        command_schema::<campaigns::DeleteSurveyRule>(),
        command_schema::<consent::Request>(),
        command_schema::<consent::Record>(),
        command_schema::<case_link::PutCase>(),
        command_schema::<case_link::CorrectRouting>(),
        command_schema::<case_link::CreateWebhookEndpoint>(),
        command_schema::<case_link::TestWebhookEndpoint>(),
    ]
}

fn command_schema<C: casewire_contract::Command>() -> (String, String) {
    let mut deps: Vec<(String, RefOr<Schema>)> = vec![
        (C::name().into_owned(), C::schema()),
        (C::Answer::name().into_owned(), C::Answer::schema()),
        (
            casewire_contract::ErrorCode::name().into_owned(),
            casewire_contract::ErrorCode::schema(),
        ),
    ];
    C::schemas(&mut deps);
    C::Answer::schemas(&mut deps);
    let defs: serde_json::Map<String, Value> = deps
        .into_iter()
        .map(|(name, s)| (name, serde_json::to_value(s).unwrap()))
        .collect();
    let (service, name) = (C::SERVICE, C::NAME);
    let reference = |n: std::borrow::Cow<'static, str>| json!({ "$ref": format!("#/$defs/{n}") });
    let doc = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("casewire:command:{service}.{name}"),
        "title": format!("{service}.{name}"),
        "$comment": format!(
            "a request on subject casewire.cmd.{service}.{name}, its body {{tenant, metadata, body: request}}; the reply is {{ok: answer}} or {{error: {{code, message}}}}"
        ),
        "type": "object",
        "properties": {
            "request": reference(C::name()),
            "answer": reference(C::Answer::name()),
            "error": {
                "type": "object",
                "properties": {
                    "code": reference(casewire_contract::ErrorCode::name()),
                    "message": { "type": "string" },
                },
                "required": ["code", "message"],
            },
        },
        "$defs": defs,
    });
    let text = pretty(&doc).replace("#/components/schemas/", "#/$defs/");
    (format!("commands/{service}/{name}.json"), text)
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

/// One JSON Schema (2020-12) per variant of an aggregate's event enum: the `payload` of a
/// recorded event whose `event_type` is that variant.
fn event_schemas<E: ToSchema + PartialSchema>(aggregate_type: &str) -> Vec<(String, String)> {
    let mut deps: Vec<(String, RefOr<Schema>)> = Vec::new();
    E::schemas(&mut deps);
    let defs: serde_json::Map<String, Value> = deps
        .into_iter()
        .map(|(name, s)| (name, serde_json::to_value(s).unwrap()))
        .collect();
    let schema = serde_json::to_value(E::schema()).unwrap();
    let variants = schema["oneOf"].as_array().cloned().unwrap_or_default();
    variants
        .into_iter()
        .map(|variant| {
            let event_type = variant["properties"].as_object().and_then(|p| p.keys().next().cloned()).expect("an externally tagged variant");
            let mut doc = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": format!("casewire:event:{aggregate_type}.{event_type}"),
                "title": format!("{aggregate_type}.{event_type}"),
                "$comment": format!(
                    "payload of an event with aggregate_type {aggregate_type:?} and event_type {event_type:?}, on subject casewire.evt.<tenant>.{aggregate_type}.{event_type}"
                ),
            });
            let obj = doc.as_object_mut().unwrap();
            for (k, v) in variant.as_object().unwrap() {
                obj.insert(k.clone(), v.clone());
            }
            if !defs.is_empty() {
                obj.insert("$defs".into(), Value::Object(defs.clone()));
            }
            let text = pretty(&doc).replace("#/components/schemas/", "#/$defs/");
            (format!("events/{aggregate_type}/{event_type}.json"), text)
        })
        .collect()
}
