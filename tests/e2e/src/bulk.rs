//! The bulk scenario every mode must pass (issue 14): what an advocate planning a clinic
//! announcement and a CMS vendor's engineer would notice. First part: the cases casewire
//! holds, listed by the audience filter, and an audience previewed (who is reached, who is
//! left out and why, what it costs), never across tenants.

use casewire_testkit::FakeTwilio;
use serde_json::{json, Value};

use crate::texting::{twilio_tenant, ACCOUNT_A, ACCOUNT_B, TOKEN_A, TOKEN_B};
use crate::{assert_error_says, Api};

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

pub async fn audiences(api: &Api, twilio: &FakeTwilio) {
    let (a, _) = twilio_tenant(api, twilio, "Prairie Legal Aid", ACCOUNT_A, TOKEN_A).await;
    let (b, _) = twilio_tenant(api, twilio, "Lakeside Legal", ACCOUNT_B, TOKEN_B).await;
    let advocate = api.key(&a, "advocate").await;
    let other = api.key(&b, "advocate").await;

    // Six cases: consumer (01) ones, one of them closed, a housing one (63); Ana has two.
    let ana = "+13125550101";
    let cases = [
        ("C-1", ana, "01", "open", None, "es"),
        ("C-2", ana, "01", "open", None, "es"),
        (
            "C-3",
            "+13125550103",
            "01",
            "closed",
            Some("2026-11-20"),
            "en",
        ),
        ("C-4", "+13125550104", "63", "open", None, "en"),
        ("C-5", "+13125550105", "01", "open", None, "en"),
        ("C-6", "+13125550106", "01", "open", None, "es-MX"),
    ];
    for (id, phone, problem, status, closed_at, language) in cases {
        let case = json!({
            "client": {"name": format!("Client {id}"), "phone": phone, "language": language},
            "status": status, "problem_code": problem, "office": "north",
            "advocates": ["adv-7"], "opened_at": "2026-01-10", "closed_at": closed_at,
        });
        let (s, c) = api.put(&format!("/v1/cases/{id}"), &advocate, case).await;
        assert_eq!(s, 201, "{c}");
        assert_eq!(c["opened_at"], "2026-01-10", "{c}");
    }
    // Ana, C-3's and C-4's clients consented; C-5's opted out; C-6's never said.
    for (phone, state, method) in [
        (ana, "granted", "written"),
        ("+13125550103", "granted", "written"),
        ("+13125550104", "granted", "written"),
        ("+13125550105", "revoked", "verbal"),
    ] {
        let (s, r) = api
            .put(
                &format!("/v1/consents/{phone}"),
                &advocate,
                json!({"state": state, "method": method, "note": "at intake"}),
            )
            .await;
        assert_eq!(s, 200, "{r}");
    }
    let (s, bad) = api
        .put(
            "/v1/cases/C-7",
            &advocate,
            json!({"client": {"name": "X", "phone": "+13125550107"}, "status": "open", "closed_at": "2026-11-20"}),
        )
        .await;
    assert_error_says(
        s,
        &bad,
        422,
        "validation_failed",
        "closed_at is for a closed case",
    );

    // The CMS checks what casewire holds, a page at a time.
    let (s, page) = api
        .get("/v1/cases?problem_codes=01&status=open&limit=2", &advocate)
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(ids(&page), ["C-1", "C-2"]);
    assert_eq!(page["next_after"], "C-2");
    assert_eq!(page["items"][0]["client"]["name"], "Client C-1");
    let (_, page) = api
        .get(
            "/v1/cases?problem_codes=01&status=open&limit=2&after=C-2",
            &advocate,
        )
        .await;
    assert_eq!(ids(&page), ["C-5", "C-6"]);
    let (_, page) = api
        .get(
            "/v1/cases?closed_from=2026-11-01&closed_to=2026-11-30",
            &advocate,
        )
        .await;
    assert_eq!(ids(&page), ["C-3"]);
    let (_, page) = api.get("/v1/cases?languages=es", &advocate).await;
    assert_eq!(ids(&page), ["C-1", "C-2", "C-6"], "es takes es-MX");
    let (s, e) = api.get("/v1/cases?opened_from=March", &advocate).await;
    assert_error_says(s, &e, 422, "validation_failed", "opened.from");
    let (s, e) = api.get("/v1/cases?status=pending", &advocate).await;
    assert_error_says(s, &e, 422, "validation_failed", "open, closed or any");
    let (_, theirs) = api.get("/v1/cases", &other).await;
    assert!(
        ids(&theirs).is_empty(),
        "another tenant sees none: {theirs}"
    );

    // The clinic's audience: open consumer cases.
    api.wait_until_every_service_is_caught_up().await;
    let clinic = json!({"filter": {"problem_codes": ["01"], "status": "open"}});
    let (s, p) = api
        .post("/v1/audiences/preview", &advocate, clinic.clone())
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["recipients"], 1, "Ana, once: {p}");
    assert_eq!(
        p["excluded"],
        json!({"revoked": 1, "no_consent": 1, "no_phone": 0, "duplicate_phone": 1, "recently_texted": 0})
    );
    assert_eq!(p["sample"], json!([{"case_id": "C-1", "language": "es"}]));
    assert!(p["cost_estimate_usd"].as_f64().unwrap() > 0.0, "{p}");
    let (_, theirs) = api.post("/v1/audiences/preview", &other, clinic).await;
    assert_eq!(
        theirs["recipients"], 0,
        "another tenant's cases are not theirs: {theirs}"
    );
    assert_eq!(theirs["excluded"]["duplicate_phone"], 0, "{theirs}");

    // Ana was texted today: an audience that leaves out clients texted this week skips her.
    let (s, m) = api
        .post(
            "/v1/cases/C-1/messages",
            &advocate,
            json!({"body": "See you Monday"}),
        )
        .await;
    assert_eq!(s, 202, "{m}");
    let recent = json!({"filter": {"problem_codes": ["01"], "status": "open"}, "exclude_texted_within": "P7D"});
    let (_, p) = api.post("/v1/audiences/preview", &advocate, recent).await;
    assert_eq!(p["recipients"], 0, "{p}");
    assert_eq!(p["excluded"]["recently_texted"], 1, "{p}");

    for (body, says) in [
        (
            json!({"filter": {"languages": ["spanish!"]}}),
            "language tag",
        ),
        (
            json!({"exclude_texted_within": "a week"}),
            "exclude_texted_within",
        ),
        (json!({"filter": {"problem": ["01"]}}), "unknown field"),
    ] {
        let (s, e) = api.post("/v1/audiences/preview", &advocate, body).await;
        assert_error_says(s, &e, 422, "validation_failed", says);
    }
}
