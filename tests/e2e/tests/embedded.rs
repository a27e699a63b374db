//! `casewire dev`: the embedded mode, over the real binary.

use std::os::unix::fs::PermissionsExt;

use casewire_e2e::{suite, Api, Casewire};

#[tokio::test]
async fn tenancy_in_the_embedded_mode() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    suite::tenancy(&Api::new(&cw.url)).await;
}

#[tokio::test]
async fn dev_makes_an_operator_token_once_keeps_it_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut cw = Casewire::start(&["dev"], &[("CASEWIRE_DATA_DIR", data)]).await;
    let token = std::fs::read_to_string(dir.path().join("operator-token"))
        .unwrap()
        .trim()
        .to_string();
    assert!(
        cw.output().contains(&token),
        "the new token is printed once"
    );
    let mode = std::fs::metadata(dir.path().join("operator-token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "only the owner may read the token");
    let api = Api::new(&cw.url);
    let (s, body) = api
        .post(
            "/v1/tenants",
            &token,
            serde_json::json!({"name": "A", "timezone": "UTC"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    assert!(cw.terminate().await.success(), "SIGTERM is a clean stop");

    let cw = Casewire::start(&["dev"], &[("CASEWIRE_DATA_DIR", data)]).await;
    assert!(
        !cw.output().contains(&token),
        "not printed again:\n{}",
        cw.output()
    );
    let (s, _) = Api::new(&cw.url)
        .get(
            &format!("/v1/tenants/{}", body["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(s, 200, "same token, same data after a restart");
}

async fn audit_verify(data: &str, tenant: &str) -> (i32, String) {
    let out = tokio::process::Command::new(casewire_e2e::binary())
        .args(["audit", "verify", "--tenant", tenant])
        .env("CASEWIRE_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[tokio::test]
async fn audit_verify_exits_0_on_an_intact_chain_and_1_naming_the_first_bad_event() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut cw = Casewire::dev(dir.path(), &[]).await;
    let (tenant, _) = Api::new(&cw.url)
        .tenant_with_key("Prairie Legal Aid", "admin")
        .await;
    cw.terminate().await;

    let (code, out) = audit_verify(data, &tenant).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("OK") && out.contains("2 events"), "{out}");

    // A database superuser edits history behind casewire's back.
    let db = format!("sqlite://{data}/casewire.db");
    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    sqlx::query("DROP TRIGGER events_no_update")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE events SET payload = replace(payload, 'Prairie', 'Prairye') WHERE tenant_seq = 1",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let (code, out) = audit_verify(data, &tenant).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("BROKEN") && out.contains("first bad event 1"),
        "{out}"
    );
}
