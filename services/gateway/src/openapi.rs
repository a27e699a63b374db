//! The gateway's OpenAPI 3.1 document, generated from the handlers and types. The copy in
//! proto/openapi.json is checked against it by a test.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    audit, cases, consents, health, reminders, sandbox, tenants, twilio, webhook_endpoints,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "casewire gateway", description = "Texting for legal aid, threaded on the case. Errors are {\"error\": {\"code\", \"message\"}}."),
    paths(
        health::healthz, health::readyz, health::status,
        tenants::create, tenants::show, tenants::issue_key, tenants::list_keys, tenants::revoke_key,
        tenants::put_sms_provider, tenants::get_sms_provider, tenants::put_policy, tenants::get_policy,
        tenants::put_reminder_policy, tenants::get_reminder_policy,
        cases::put, cases::show, cases::send, cases::thread, cases::message, cases::file_on_case, cases::unrouted, cases::flagged,
        webhook_endpoints::create, webhook_endpoints::show, webhook_endpoints::deliveries,
        consents::show, consents::record, consents::request, consents::list,
        reminders::put, reminders::cancel, reminders::list, reminders::set, reminders::preview,
        sandbox::messages, sandbox::inbound,
        twilio::inbound, twilio::status,
        audit::verify, audit::head,
    ),
    components(schemas(crate::TenantView, casewire_tenancy::Role, casewire_case_link::ClientView)),
    modifiers(&Security),
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

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}
