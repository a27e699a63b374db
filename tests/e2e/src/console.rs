//! The console's people (issue 16): invited by an admin over the API, each with a link to
//! hand over; one email, one organization; another tenant's user is a 404.

use serde_json::{json, Value};

use crate::{assert_error, assert_error_says, Api};

pub async fn users_are_invited_listed_and_removed(api: &Api) {
    let (a, admin) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let (_, other_admin) = api.tenant_with_key("Lakeside Legal", "admin").await;
    let advocate = api.key(&a, "advocate").await;
    let officer = api.key(&a, "compliance").await;
    let ana =
        json!({"name": "Ana Ruiz", "email": " Ana.Ruiz@Prairie.example ", "role": "compliance"});

    // Bad input names its field and records nothing.
    for (body, says) in [
        (
            json!({"name": "Ana", "email": "ana at prairie", "role": "compliance"}),
            "email:",
        ),
        (
            json!({"name": "Ana", "email": "a@prairie.example", "role": "integration"}),
            "role:",
        ),
        (
            json!({"name": " ", "email": "a@prairie.example", "role": "admin"}),
            "name:",
        ),
        (
            json!({"name": "Ana", "email": "a@prairie.example", "role": "admin", "advocate_id": "a.lee"}),
            "advocate_id:",
        ),
    ] {
        let (s, e) = api.post("/v1/users", &admin, body).await;
        assert_error_says(s, &e, 422, "validation_failed", says);
    }
    let (s, e) = api.post("/v1/users", &advocate, ana.clone()).await;
    assert_error(s, &e, 403, "forbidden");
    let (s, none) = api.get("/v1/users", &admin).await;
    assert_eq!(
        (s, none),
        (200, json!([])),
        "a refused invitation records nothing"
    );

    let (s, invited) = api.post("/v1/users", &admin, ana.clone()).await;
    assert_eq!(s, 201, "{invited}");
    assert_eq!(
        (&invited["email"], &invited["role"], &invited["state"]),
        (
            &json!("ana.ruiz@prairie.example"),
            &json!("compliance"),
            &json!("invited")
        )
    );
    let link = invited["invitation_url"].as_str().unwrap();
    assert!(link.contains("/console/invitations/"), "{link}");
    assert!(invited.get("password_hash").is_none(), "{invited}");
    // The same person twice, in this organization or another: a 409.
    let (s, e) = api.post("/v1/users", &admin, ana.clone()).await;
    assert_error(s, &e, 409, "conflict");
    let (s, e) = api.post("/v1/users", &other_admin, ana.clone()).await;
    assert_error_says(s, &e, 409, "conflict", "another organization");

    let (s, lee) = api
        .post(
            "/v1/users",
            &admin,
            json!({"name": "Lee Park", "email": "lee@prairie.example", "role": "advocate", "advocate_id": "a.lee"}),
        )
        .await;
    assert_eq!((s, &lee["advocate_id"]), (201, &json!("a.lee")), "{lee}");
    let (s, users) = api.get("/v1/users", &officer).await;
    assert_eq!(s, 200);
    let names: Vec<&Value> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["name"])
        .collect();
    assert_eq!(names, [&json!("Ana Ruiz"), &json!("Lee Park")]);
    let (_, theirs) = api.get("/v1/users", &other_admin).await;
    assert_eq!(theirs, json!([]), "another tenant sees none of them");

    // Another tenant's user is a 404; removed, a user is gone from the list.
    let path = format!("/v1/users/{}", lee["id"].as_str().unwrap());
    let (s, e) = api.call("DELETE", &path, Some(&other_admin), None).await;
    assert_error(s, &e, 404, "not_found");
    let (s, _) = api.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(s, 204);
    let (s, e) = api.call("DELETE", &path, Some(&admin), None).await;
    assert_error(s, &e, 404, "not_found");
    let (_, users) = api.get("/v1/users", &admin).await;
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    // Each invitation is in the trail.
    let (s, invites) = api.get("/v1/audit/events?type=UserInvited", &officer).await;
    assert_eq!(s, 200, "{invites}");
    assert_eq!(invites["items"].as_array().unwrap().len(), 2, "{invites}");
}
