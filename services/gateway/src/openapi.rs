//! The gateway's OpenAPI 3.1 document, generated from the handlers and types. The copy in
//! proto/openapi.json is checked against it by a test; tests/openapi.rs checks that it is
//! a contract tools can use (every parameter declared, one id per operation, every error
//! answer in its shape).

use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, Object, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type,
};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    audiences, audit, campaigns, cases, clients, consents, flags, health, reminders, sandbox, sso,
    survey_rules, tenants, transcript, twilio, usage, users, webhook_endpoints,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "casewire gateway", description = "Texting for legal aid, threaded on the case. Errors are {\"error\": {\"code\", \"message\"}}."),
    paths(
        health::healthz, health::readyz, health::status,
        tenants::create, tenants::list, tenants::show, tenants::issue_key, tenants::list_keys, tenants::revoke_key,
        tenants::put_sms_provider, tenants::get_sms_provider, tenants::put_policy, tenants::get_policy,
        tenants::put_reminder_policy, tenants::get_reminder_policy,
        cases::put, cases::show, cases::list, audiences::preview,
        campaigns::create, campaigns::list, campaigns::show, campaigns::step, campaigns::results, campaigns::results_csv, survey_rules::create_rule, survey_rules::list_rules, survey_rules::show_rule, survey_rules::delete_rule, cases::send, cases::thread, cases::message, cases::file_on_case, cases::unrouted, cases::flagged, cases::media, cases::upload,
        webhook_endpoints::create, webhook_endpoints::list, webhook_endpoints::test, webhook_endpoints::show, webhook_endpoints::deliveries,
        consents::show, consents::record, consents::request, consents::list,
        reminders::put, reminders::cancel, reminders::list, reminders::set, reminders::preview,
        sandbox::messages, sandbox::inbound,
        twilio::inbound, twilio::status,
        audit::verify, audit::head, audit::events, audit::checkpoint, audit::checkpoints, audit::public_key, audit::export, flags::raise, flags::resolve, flags::list, audit::search, tenants::put_review_rules, tenants::get_review_rules, clients::place_hold, clients::lift_hold, clients::holds, clients::erase, cases::timeline, transcript::transcript, tenants::put_retention, tenants::retention_report,
        users::invite, users::list, users::remove, usage::usage, sso::put, sso::get,
    ),
    components(schemas(crate::TenantView, casewire_contract::campaigns::CampaignStep, casewire_tenancy::Role, casewire_case_link::ClientView, crate::error::ErrorBody)),
    modifiers(&Security, &Contract),
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let bearer =
            || SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build());
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("operator", bearer());
        components.add_security_scheme("api_key", bearer());
    }
}

/// What every operation shares, in one place rather than in each handler's annotation:
/// its path parameters (names, limits), a unique operationId (`<tag>_<handler>`), and the
/// error answers it may give, each in the error shape.
struct Contract;

/// Every path parameter the API has: what it is and what the server accepts.
fn path_parameter(name: &str) -> Parameter {
    let (description, schema): (&str, Object) = match name {
        "case_id" | "appointment_id" => (
            "The CMS's own id: 1 to 128 letters, digits, '-', '_', '.' or ':'.",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(128))
                .pattern(Some("^[A-Za-z0-9_.:-]{1,128}$"))
                .build(),
        ),
        "phone" => (
            "The client's number: E.164 (+13125550100) or a US number.",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(32))
                .build(),
        ),
        _ => (
            "casewire's id, as an earlier answer gave it.",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(128))
                .build(),
        ),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// The error answers an operation may give, by what it takes.
fn error_statuses(op: &Operation, has_path_parameters: bool) -> Vec<(&'static str, &'static str)> {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_query = (op.parameters.iter().flatten()).any(|p| p.parameter_in == ParameterIn::Query);
    let has_body = op.request_body.is_some();
    let mut statuses = vec![(
        "503",
        "a casewire service or the event store is unavailable, or the request took too long; try again",
    )];
    if has_path_parameters || has_query || has_body {
        statuses.push(("400", "a malformed parameter or body"));
    }
    if secured {
        statuses.push(("401", "no API key, or one that is not valid"));
        statuses.push(("403", "the key's role may not do this"));
    }
    if has_path_parameters {
        statuses.push(("404", "no such object in the caller's tenant"));
    }
    if has_body {
        statuses.push(("413", "the body is too large"));
        statuses.push(("415", "the body is not application/json"));
    }
    if has_body || has_query || has_path_parameters {
        statuses.push(("422", "a field is not valid: the message names it"));
    }
    statuses
}

impl Modify for Contract {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let error = || {
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(Ref::from_schema_name("Error"))))
                .build()
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            let in_path: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let parameters = op.parameters.get_or_insert_with(Vec::new);
                for name in &in_path {
                    let declared = parameters
                        .iter()
                        .any(|p| p.name == *name && p.parameter_in == ParameterIn::Path);
                    if !declared {
                        parameters.push(path_parameter(name));
                    }
                }
                if parameters.is_empty() {
                    op.parameters = None;
                }
                if let (Some(tag), Some(id)) = (
                    op.tags.as_ref().and_then(|t| t.first()),
                    op.operation_id.as_ref(),
                ) {
                    op.operation_id = Some(format!("{tag}_{id}"));
                }
                for (status, description) in error_statuses(op, !in_path.is_empty()) {
                    let responses = &mut op.responses.responses;
                    match responses.get_mut(status) {
                        Some(RefOr::T(response)) => {
                            response.content.insert("application/json".into(), error());
                        }
                        Some(RefOr::Ref(_)) => {}
                        None => {
                            let response = ResponseBuilder::new()
                                .description(description)
                                .content("application/json", error())
                                .build();
                            responses.insert(status.into(), RefOr::T(response));
                        }
                    }
                }
                // An error answer declared by a handler takes the error shape too.
                for (status, response) in op.responses.responses.iter_mut() {
                    if let (true, RefOr::T(response)) = (status.starts_with(['4', '5']), response) {
                        response
                            .content
                            .entry("application/json".into())
                            .or_insert_with(error);
                    }
                }
            }
        }
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}
