//! The tenancy scenario every mode must pass: what a CMS vendor's engineer and an operator
//! would notice, including that one tenant's key sees nothing of another's.

use serde_json::{json, Value};

use crate::{assert_error, Api, OPERATOR_TOKEN};

pub async fn tenancy(api: &Api) {
    let (s, body) = api.call("GET", "/healthz", None, None).await;
    assert_eq!((s, &body["status"]), (200, &json!("ok")));
    let (s, body) = api.call("GET", "/readyz", None, None).await;
    assert_eq!(s, 200, "{body}");

    // Credentials.
    let new_tenant = json!({"name": "Prairie Legal Aid", "timezone": "America/Chicago"});
    let (s, b) = api
        .call("POST", "/v1/tenants", None, Some(new_tenant.clone()))
        .await;
    assert_error(s, &b, 401, "unauthorized");
    let (s, b) = api
        .post("/v1/tenants", "not-a-real-token", new_tenant.clone())
        .await;
    assert_error(s, &b, 401, "unauthorized");

    // Bad input gets a clear error.
    let (s, b) = api
        .post(
            "/v1/tenants",
            OPERATOR_TOKEN,
            json!({"name": "X", "timezone": "Mars/Olympus"}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Mars/Olympus"),
        "{b}"
    );
    let (s, b) = api
        .post(
            "/v1/tenants",
            OPERATOR_TOKEN,
            json!({"name": " ", "timezone": "UTC"}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    let (s, b) = api
        .post(
            "/v1/tenants",
            OPERATOR_TOKEN,
            json!({"name": "X", "timezone": "UTC", "colour": "red"}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("colour"),
        "{b}"
    );
    let raw = reqwest::Client::new()
        .post(format!("{}/v1/tenants", api.base))
        .bearer_auth(OPERATOR_TOKEN)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let b: Value = raw.json().await.unwrap();
    assert_eq!(b["error"]["code"], "invalid_request");
    let (s, b) = api.get("/v1/no-such-thing", OPERATOR_TOKEN).await;
    assert_error(s, &b, 404, "not_found");

    // Two organizations.
    let (a, a_admin) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let (b_id, b_admin) = api.tenant_with_key("Coastal Legal Services", "admin").await;
    let (s, t) = api.get(&format!("/v1/tenants/{a}"), &a_admin).await;
    assert_eq!(
        (s, t["name"].as_str()),
        (200, Some("Prairie Legal Aid")),
        "{t}"
    );
    assert_eq!(t["timezone"], "America/Chicago");

    // A key of one tenant sees nothing of another: every endpoint answers 404.
    let (_, b_keys) = api
        .get(&format!("/v1/tenants/{b_id}/api-keys"), &b_admin)
        .await;
    let b_key_id = b_keys[0]["id"].as_str().unwrap().to_string();
    for (method, path, body) in [
        ("GET", format!("/v1/tenants/{b_id}"), None),
        ("GET", format!("/v1/tenants/{b_id}/api-keys"), None),
        (
            "POST",
            format!("/v1/tenants/{b_id}/api-keys"),
            Some(json!({"name": "sneaky", "role": "admin"})),
        ),
        (
            "DELETE",
            format!("/v1/tenants/{b_id}/api-keys/{b_key_id}"),
            None,
        ),
    ] {
        let (s, body) = api.call(method, &path, Some(&a_admin), body).await;
        assert_error(s, &body, 404, "not_found");
    }
    let (s, _) = api.get(&format!("/v1/tenants/{b_id}"), &b_admin).await;
    assert_eq!(s, 200, "the other tenant's key still works");
    let (s, b) = api
        .get(
            "/v1/tenants/00000000-0000-0000-0000-000000000000",
            OPERATOR_TOKEN,
        )
        .await;
    assert_error(s, &b, 404, "not_found");
    let (s, b) = api.post("/v1/tenants", &a_admin, new_tenant.clone()).await;
    assert_error(s, &b, 403, "forbidden");

    // Roles, and a revoked key stops working at once.
    let (s, adv) = api
        .post(
            &format!("/v1/tenants/{a}/api-keys"),
            &a_admin,
            json!({"name": "Dana's CMS", "role": "advocate"}),
        )
        .await;
    assert_eq!(s, 201, "{adv}");
    assert!(adv["key"].as_str().unwrap().starts_with("cw_"), "{adv}");
    let (s, b) = api
        .post(
            &format!("/v1/tenants/{a}/api-keys"),
            &a_admin,
            json!({"name": "x", "role": "superuser"}),
        )
        .await;
    assert_error(s, &b, 422, "validation_failed");
    let advocate = adv["key"].as_str().unwrap();
    let (s, _) = api.get(&format!("/v1/tenants/{a}"), advocate).await;
    assert_eq!(s, 200);
    let (s, b) = api
        .post(
            &format!("/v1/tenants/{a}/api-keys"),
            advocate,
            json!({"name": "x", "role": "admin"}),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");
    let (s, listed) = api
        .get(&format!("/v1/tenants/{a}/api-keys"), &a_admin)
        .await;
    assert_eq!(s, 200);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(
        !listed.to_string().contains(advocate),
        "a listing never shows a key's secret"
    );
    let (s, _) = api
        .delete(
            &format!("/v1/tenants/{a}/api-keys/{}", adv["id"].as_str().unwrap()),
            &a_admin,
        )
        .await;
    assert_eq!(s, 204);
    let (s, b) = api.get(&format!("/v1/tenants/{a}"), advocate).await;
    assert_error(s, &b, 401, "unauthorized");
    let (s, _) = api
        .delete(
            &format!("/v1/tenants/{a}/api-keys/{}", adv["id"].as_str().unwrap()),
            &a_admin,
        )
        .await;
    assert_eq!(s, 204, "revoking twice is fine");
    let (s, b) = api
        .delete(&format!("/v1/tenants/{a}/api-keys/no-such-key"), &a_admin)
        .await;
    assert_error(s, &b, 404, "not_found");

    // The audit trail holds every change of this tenant, and only this tenant's.
    let (s, report) = api.get("/v1/audit/verify", &a_admin).await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["status"], "intact");
    // TenantCreated, two keys issued, one revoked.
    assert_eq!(report["events"], 4, "{report}");

    // An officer records heads over time and passes them back as anchors.
    let (s, head) = api.get("/v1/audit/head", &a_admin).await;
    assert_eq!((s, &head["seq"]), (200, &json!(4)), "{head}");
    assert_eq!(head["hash"], report["head_hash"]);
    let (s, second) = api.get("/v1/audit/head?seq=2", &a_admin).await;
    assert_eq!((s, &second["seq"]), (200, &json!(2)), "{second}");
    let anchored = format!(
        "/v1/audit/verify?anchor=2:{}&anchor=4:{}",
        second["hash"].as_str().unwrap(),
        head["hash"].as_str().unwrap()
    );
    let (s, v) = api.get(&anchored, &a_admin).await;
    assert_eq!((s, &v["status"]), (200, &json!("intact")), "{v}");
    // An anchor the trail does not pass through: as if history before it were rewritten.
    let wrong = format!(
        "/v1/audit/verify?anchor=2:{}",
        head["hash"].as_str().unwrap()
    );
    let (s, v) = api.get(&wrong, &a_admin).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (&v["status"], &v["seq"], &v["fault"]),
        (
            &json!("broken"),
            &json!(2),
            &json!("does_not_match_its_head")
        ),
        "{v}"
    );
    let (s, b) = api.get("/v1/audit/verify?anchor=2:beef", &a_admin).await;
    assert_error(s, &b, 400, "invalid_request");
    let (s, b) = api.get("/v1/audit/head?seq=99", &a_admin).await;
    assert_error(s, &b, 404, "not_found");
    let (s, b) = api.get("/v1/audit/head?seq=0", &a_admin).await;
    assert_error(s, &b, 400, "invalid_request");

    // The scheme's name is case-insensitive (RFC 9110).
    let shouted = reqwest::Client::new()
        .get(format!("{}/v1/audit/head", api.base))
        .header("authorization", format!("BEARER {a_admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(shouted.status(), 200);

    // What axum and tower answer themselves comes in the same shape as the rest.
    let (s, b) = api
        .call("DELETE", "/v1/audit/verify", Some(&a_admin), None)
        .await;
    assert_error(s, &b, 405, "method_not_allowed");
}
