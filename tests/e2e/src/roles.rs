//! Who may do what: every endpoint against every kind of key (the role × endpoint matrix),
//! and what a key bound to one advocate sees.

use serde_json::{json, Value};

use crate::{assert_error, assert_error_says, Api, OPERATOR_TOKEN};

/// The kinds of key, by the names the matrix uses.
const KINDS: [&str; 5] = ["admin", "advocate", "bound", "compliance", "integration"];
/// Every kind.
const ALL: &[&str] = &KINDS;
/// Who reads cases and texts: every kind.
const READ: &[&str] = ALL;
/// Who texts and edits cases: not compliance officers, who change nothing.
const TEXT: &[&str] = &["admin", "advocate", "bound", "integration"];
/// What spans the whole organization: not a key bound to one advocate.
const WHOLE_READ: &[&str] = &["admin", "advocate", "compliance", "integration"];
const WHOLE_TEXT: &[&str] = &["admin", "advocate", "integration"];
/// A tenant's settings: read by those who configure and those who review.
const SETTINGS: &[&str] = &["admin", "compliance", "integration"];
const OFFICERS: &[&str] = &["admin", "compliance"];
const ADMIN: &[&str] = &["admin"];
const NOBODY: &[&str] = &[];

/// One tenant with a key of each kind ("bound": an advocate key bound to adv-7) and two
/// cases: C-1 lists adv-7, C-2 lists adv-9.
pub struct Staff {
    pub tenant: String,
    keys: Vec<(&'static str, String)>,
}

impl Staff {
    pub fn key(&self, kind: &str) -> &str {
        &self.keys.iter().find(|(k, _)| *k == kind).unwrap().1
    }
}

pub async fn staff(api: &Api) -> Staff {
    let (tenant, admin) = api.sandbox_tenant("Matrix Legal Aid").await;
    let mut keys = vec![("admin", admin)];
    for kind in ["advocate", "compliance", "integration"] {
        keys.push((kind, api.key(&tenant, kind).await));
    }
    keys.push(("bound", bound_key(api, &tenant, "adv-7").await));
    let staff = Staff { tenant, keys };
    for (case, advocate, phone) in [
        ("C-1", "adv-7", "+13125550161"),
        ("C-2", "adv-9", "+13125550162"),
    ] {
        let (s, c) = api
            .put(
                &format!("/v1/cases/{case}"),
                staff.key("integration"),
                json!({"client": {"name": "Ana Diaz", "phone": phone}, "status": "open", "advocates": [advocate]}),
            )
            .await;
        assert_eq!(s, 201, "{c}");
    }
    staff
}

/// An advocate key bound to `advocate`, issued by the operator.
pub async fn bound_key(api: &Api, tenant: &str, advocate: &str) -> String {
    let (s, k) = api
        .post(
            &format!("/v1/tenants/{tenant}/api-keys"),
            OPERATOR_TOKEN,
            json!({"name": format!("{advocate}'s key"), "role": "advocate", "advocate_id": advocate}),
        )
        .await;
    assert_eq!(s, 201, "{k}");
    assert_eq!(k["advocate_id"], advocate, "{k}");
    k["key"].as_str().unwrap().to_string()
}

/// Every endpoint a key may call, with a body it accepts, and the kinds of key that may
/// call it. The others get a 403; those allowed get an answer about the request itself
/// (done, not found, invalid), never a 401 or 403. Calls that would change something
/// name objects that do not exist where they can, so the matrix changes little.
fn matrix(tenant: &str) -> Vec<(&'static str, String, Option<Value>, &'static [&'static str])> {
    let t = |p: &str| format!("/v1/tenants/{tenant}{p}");
    let clinic = json!({
        "name": "Clinic", "kind": "announcement", "filter": {"problem_codes": ["01"]},
        "messages": {"en": "{organization.name}: a clinic Saturday. Reply STOP to stop."},
    });
    let rule = json!({
        "on": "case_closed", "filter": {"problem_codes": ["01"]}, "delay": "P3D",
        "campaign": {"name": "Outcomes", "messages": {"en": "{organization.name}: closed."},
            "survey": {"questions": [{"id": "helped", "answer": "yes_no", "text": {"en": "Did we help?"}}]}},
    });
    let case = json!({"client": {"name": "Ana Diaz", "phone": "+13125550161"}, "status": "open", "advocates": ["adv-7"]});
    let meeting = json!({"kind": "meeting", "starts_at": "2030-01-07T15:00:00Z"});
    let preview = json!({"kind": "meeting", "case_id": "C-1", "starts_at": "2030-01-07T15:00:00Z"});
    let phone = "/v1/consents/+13125550199";
    vec![
        ("GET", t(""), None, READ),
        (
            "POST",
            t("/api-keys"),
            Some(json!({"name": "m", "role": "integration"})),
            ADMIN,
        ),
        ("GET", t("/api-keys"), None, OFFICERS),
        ("DELETE", t("/api-keys/nope"), None, ADMIN),
        (
            "PUT",
            t("/sms-provider"),
            Some(json!({"kind": "sandbox"})),
            ADMIN,
        ),
        ("GET", t("/sms-provider"), None, SETTINGS),
        (
            "PUT",
            t("/policy"),
            Some(json!({"quiet_hours": null})),
            ADMIN,
        ),
        ("GET", t("/policy"), None, SETTINGS),
        (
            "PUT",
            t("/reminder-policy"),
            Some(json!({"meeting": {"offsets": ["P1D"]}})),
            ADMIN,
        ),
        ("GET", t("/reminder-policy"), None, SETTINGS),
        (
            "POST",
            "/v1/audiences/preview".into(),
            Some(json!({"filter": {"problem_codes": ["01"]}})),
            WHOLE_TEXT,
        ),
        ("POST", "/v1/campaigns".into(), Some(clinic), WHOLE_TEXT),
        ("GET", "/v1/campaigns".into(), None, WHOLE_READ),
        ("GET", "/v1/campaigns/nope".into(), None, WHOLE_READ),
        (
            "POST",
            "/v1/campaigns/nope/pause".into(),
            Some(json!({})),
            WHOLE_TEXT,
        ),
        (
            "POST",
            "/v1/campaigns/nope/approve".into(),
            Some(json!({})),
            ADMIN,
        ),
        ("GET", "/v1/campaigns/nope/results".into(), None, WHOLE_READ),
        (
            "GET",
            "/v1/campaigns/nope/results.csv".into(),
            None,
            WHOLE_READ,
        ),
        ("POST", "/v1/survey-rules".into(), Some(rule), WHOLE_TEXT),
        ("GET", "/v1/survey-rules".into(), None, READ),
        ("GET", "/v1/survey-rules/nope".into(), None, READ),
        ("DELETE", "/v1/survey-rules/nope".into(), None, WHOLE_TEXT),
        ("GET", "/v1/cases".into(), None, READ),
        ("PUT", "/v1/cases/C-1".into(), Some(case), TEXT),
        ("GET", "/v1/cases/C-1".into(), None, READ),
        (
            "POST",
            "/v1/cases/C-1/messages".into(),
            Some(json!({"body": "See you Monday."})),
            TEXT,
        ),
        ("GET", "/v1/cases/C-1/messages".into(), None, READ),
        ("GET", "/v1/cases/C-1/timeline".into(), None, READ),
        ("GET", "/v1/cases/C-1/transcript.html".into(), None, READ),
        ("UPLOAD", "/v1/cases/C-1/attachments".into(), None, TEXT),
        (
            "PUT",
            "/v1/cases/C-1/appointments/M-1".into(),
            Some(meeting),
            TEXT,
        ),
        (
            "DELETE",
            "/v1/cases/C-1/appointments/nope".into(),
            None,
            TEXT,
        ),
        ("GET", "/v1/cases/C-1/reminders".into(), None, READ),
        (
            "PUT",
            "/v1/cases/C-1/reminders".into(),
            Some(json!({"enabled": true})),
            TEXT,
        ),
        ("POST", "/v1/templates/preview".into(), Some(preview), READ),
        ("GET", "/v1/messages/nope".into(), None, READ),
        ("GET", "/v1/messages/nope/media/0".into(), None, READ),
        (
            "PUT",
            "/v1/messages/nope/case".into(),
            Some(json!({"case_id": "C-1"})),
            WHOLE_TEXT,
        ),
        ("GET", "/v1/inbox/unrouted".into(), None, WHOLE_READ),
        ("GET", "/v1/inbox/flagged".into(), None, WHOLE_READ),
        ("GET", "/v1/consents".into(), None, WHOLE_READ),
        ("GET", phone.into(), None, WHOLE_READ),
        (
            "PUT",
            phone.into(),
            Some(json!({"state": "granted", "method": "verbal"})),
            WHOLE_TEXT,
        ),
        (
            "POST",
            format!("{phone}/request"),
            Some(json!({})),
            WHOLE_TEXT,
        ),
        (
            "POST",
            "/v1/webhook-endpoints".into(),
            Some(json!({"url": "https://cms.example/hook", "events": ["message.inbound"]})),
            &["admin", "integration"],
        ),
        ("GET", "/v1/webhook-endpoints/nope".into(), None, SETTINGS),
        (
            "GET",
            "/v1/webhook-endpoints/nope/deliveries".into(),
            None,
            SETTINGS,
        ),
        ("GET", "/v1/sandbox/messages".into(), None, WHOLE_TEXT),
        (
            "POST",
            "/v1/sandbox/inbound".into(),
            Some(json!({"from": "+13125550199", "body": "hi"})),
            WHOLE_TEXT,
        ),
        ("GET", "/v1/audit/verify".into(), None, OFFICERS),
        ("GET", "/v1/audit/head".into(), None, OFFICERS),
        ("GET", "/v1/audit/events".into(), None, OFFICERS),
        ("POST", "/v1/audit/checkpoints".into(), None, OFFICERS),
        ("GET", "/v1/audit/checkpoints".into(), None, OFFICERS),
        ("GET", "/v1/audit/public-key".into(), None, ALL),
        ("GET", "/v1/audit/export".into(), None, OFFICERS),
        (
            "POST",
            "/v1/messages/nope/flags".into(),
            Some(json!({"reason": "tone"})),
            OFFICERS,
        ),
        ("GET", "/v1/flags".into(), None, OFFICERS),
        (
            "POST",
            "/v1/flags/nope/resolve".into(),
            Some(json!({})),
            OFFICERS,
        ),
        ("GET", "/v1/search?q=lease".into(), None, &["compliance"]),
        (
            "PUT",
            t("/review-rules"),
            Some(json!({"keywords": ["ssn"]})),
            OFFICERS,
        ),
        ("GET", t("/review-rules"), None, OFFICERS),
        (
            "POST",
            "/v1/legal-holds".into(),
            Some(json!({"phone": "+13125550198", "reason": "a matter"})),
            ADMIN,
        ),
        ("GET", "/v1/legal-holds".into(), None, OFFICERS),
        ("DELETE", "/v1/legal-holds/nope".into(), None, ADMIN),
        (
            "POST",
            "/v1/clients/erase".into(),
            Some(json!({"phone": "+13125550197", "reason": "retention ended"})),
            ADMIN,
        ),
        (
            "POST",
            "/v1/tenants".into(),
            Some(json!({"name": "X", "timezone": "UTC"})),
            NOBODY,
        ),
        ("GET", "/v1/status".into(), None, NOBODY),
        (
            "POST",
            "/v1/users".into(),
            Some(json!({"name": "Ana Ruiz", "email": "ana@matrix.example", "role": "compliance"})),
            ADMIN,
        ),
        ("GET", "/v1/users".into(), None, OFFICERS),
        ("DELETE", "/v1/users/nope".into(), None, ADMIN),
    ]
}

/// The role × endpoint matrix: every endpoint against every kind of key. Forbidden calls
/// go first, so that nothing an allowed call does can make them pass.
pub async fn role_matrix(api: &Api) {
    let staff = staff(api).await;
    let rows = matrix(&staff.tenant);
    let call = |method: &'static str, path: String, body: Option<Value>, key: String| async move {
        match method {
            "UPLOAD" => {
                api.upload(
                    &path,
                    &key,
                    "application/pdf",
                    b"%PDF-1.4\n%%EOF\n".to_vec(),
                )
                .await
            }
            _ => api.call(method, &path, Some(&key), body).await,
        }
    };
    let mut checked = 0;
    for (method, path, body, allowed) in &rows {
        for kind in KINDS.iter().filter(|k| !allowed.contains(k)) {
            let (s, e) = call(method, path.clone(), body.clone(), staff.key(kind).into()).await;
            assert_eq!(s, 403, "{kind} {method} {path}: {e}");
            checked += 1;
        }
    }
    for (method, path, body, allowed) in &rows {
        for kind in allowed.iter() {
            let (s, e) = call(method, path.clone(), body.clone(), staff.key(kind).into()).await;
            assert!(
                s < 500 && s != 401 && s != 403,
                "{kind} {method} {path}: {s} {e}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, rows.len() * KINDS.len());
}

/// A key bound to adv-7 sees, texts and lists only the cases that list adv-7, acts only on
/// their behalf, and keeps its cases its own.
pub async fn a_bound_key_sees_its_advocates_cases(api: &Api) {
    let staff = staff(api).await;
    let bound = staff.key("bound");
    // Its own case, and each of its steps, named after adv-7.
    let (s, c) = api.get("/v1/cases/C-1", bound).await;
    assert_eq!(s, 200, "{c}");
    let (s, sent) = api
        .post(
            "/v1/cases/C-1/messages",
            bound,
            json!({"body": "See you Monday."}),
        )
        .await;
    assert_eq!(s, 202, "{sent}");
    assert_eq!(sent["on_behalf_of"], "adv-7", "{sent}");
    let (s, m) = api
        .get(
            &format!("/v1/messages/{}", sent["id"].as_str().unwrap()),
            bound,
        )
        .await;
    assert_eq!(s, 200, "{m}");
    // Another advocate's case is not there for it, nor its texts.
    let (s, other) = api
        .post(
            "/v1/cases/C-2/messages",
            staff.key("advocate"),
            json!({"body": "Hello from the office."}),
        )
        .await;
    assert_eq!(s, 202, "{other}");
    let other = format!("/v1/messages/{}", other["id"].as_str().unwrap());
    for (method, path, body) in [
        ("GET", "/v1/cases/C-2", None),
        ("GET", "/v1/cases/C-2/messages", None),
        (
            "POST",
            "/v1/cases/C-2/messages",
            Some(json!({"body": "hi"})),
        ),
        ("GET", other.as_str(), None),
        ("GET", "/v1/cases/C-2/reminders", None),
        (
            "PUT",
            "/v1/cases/C-2/reminders",
            Some(json!({"enabled": false})),
        ),
        (
            "PUT",
            "/v1/cases/C-2",
            Some(
                json!({"client": {"name": "Ana", "phone": "+13125550162"}, "advocates": ["adv-7"]}),
            ),
        ),
    ] {
        let (s, e) = api.call(method, path, Some(bound), body).await;
        assert_error(s, &e, 404, "not_found");
    }
    let (s, page) = api.get("/v1/cases", bound).await;
    assert_eq!(s, 200, "{page}");
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["C-1"], "{page}");
    let (_, page) = api.get("/v1/cases?advocates=adv-9", bound).await;
    assert_eq!(page["items"], json!([]), "{page}");
    // It keeps its cases its own, and acts for its advocate only.
    let (s, e) = api
        .put(
            "/v1/cases/C-1",
            bound,
            json!({"client": {"name": "Ana", "phone": "+13125550161"}, "advocates": ["adv-9"]}),
        )
        .await;
    assert_error_says(s, &e, 422, "validation_failed", "adv-7");
    let (s, e) = api
        .call_with(
            "POST",
            "/v1/cases/C-1/messages",
            Some(bound),
            &[("Casewire-On-Behalf-Of", "adv-9")],
            Some(json!({"body": "hi"})),
        )
        .await;
    assert_error_says(s, &e, 403, "forbidden", "adv-7");
    // Keys list who they are bound to, to admins and compliance officers.
    let (s, keys) = api
        .get(
            &format!("/v1/tenants/{}/api-keys", staff.tenant),
            staff.key("compliance"),
        )
        .await;
    assert_eq!(s, 200, "{keys}");
    let bound_keys: Vec<&Value> = keys
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["advocate_id"] == "adv-7")
        .collect();
    assert_eq!(bound_keys.len(), 1, "{keys}");
    // Only an advocate key is bound, to an advocate named as the CMS does.
    for body in [
        json!({"name": "x", "role": "compliance", "advocate_id": "adv-7"}),
        json!({"name": "x", "role": "advocate", "advocate_id": ""}),
    ] {
        let (s, e) = api
            .post(
                &format!("/v1/tenants/{}/api-keys", staff.tenant),
                staff.key("admin"),
                body,
            )
            .await;
        assert_error_says(s, &e, 422, "validation_failed", "advocate_id");
    }
}
