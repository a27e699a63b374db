//! `casewire dev`: the embedded mode, over the real binary.

use std::os::unix::fs::PermissionsExt;

use casewire_e2e::{
    assert_error, consent, events_of_type, reminders, suite, texting, Api, Casewire,
};
use serde_json::json;

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
    // Every file of the data folder is the owner's alone: the database holds the log and
    // the wrapped keys, its -wal the latest of them.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "{:?} is {:o}",
            entry.file_name(),
            mode & 0o777
        );
    }
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

/// `casewire audit verify --tenant <tenant> <more>` on the data folder.
async fn audit_verify(data: &str, tenant: &str, more: &[&str]) -> (i32, String) {
    let args: Vec<&str> = ["verify", "--tenant", tenant]
        .into_iter()
        .chain(more.iter().copied())
        .collect();
    audit_cli(data, &args).await
}

#[tokio::test]
async fn audit_verify_exits_0_when_intact_1_naming_the_first_bad_event_2_for_no_such_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut cw = Casewire::dev(dir.path(), &[]).await;
    let (tenant, _) = Api::new(&cw.url)
        .tenant_with_key("Prairie Legal Aid", "admin")
        .await;
    cw.terminate().await;

    let (code, out) = audit_verify(data, &tenant, &[]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("OK") && out.contains("2 events"), "{out}");
    // The head it printed, recorded by the officer, is an anchor the trail passes through.
    let head = out.split_whitespace().nth(7).unwrap().to_string();
    let anchor = format!("2:{head}");
    let (code, out) = audit_verify(data, &tenant, &["--anchor", &anchor]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("through 1 anchor"), "{out}");
    let (code, out) = audit_verify(data, &tenant, &["--anchor", "2:beef"]).await;
    assert_eq!(code, 2, "a malformed anchor is refused: {out}");
    assert!(out.contains("<seq>:<hash>"), "{out}");

    let (code, out) = audit_verify(data, &format!("{tenant}x"), &[]).await;
    assert_eq!(code, 2, "a mistyped tenant is not an intact one: {out}");
    assert!(out.contains("no such tenant"), "{out}");

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
    let (code, out) = audit_verify(data, &tenant, &[]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!("BROKEN: tenant {tenant}: event 1 altered:")),
        "{out}"
    );
}

/// No row of the log holds `text` in clear.
async fn log_never_holds(db_url: &str, text: &str) {
    let pool = sqlx::AnyPool::connect(db_url).await.unwrap();
    let (n, all): (i64, i64) = sqlx::query_as(
        "SELECT SUM(CASE WHEN payload LIKE $1 THEN 1 ELSE 0 END), COUNT(*) FROM events",
    )
    .bind(format!("%{text}%"))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(all > 10, "the log has the texting events");
    assert_eq!(n, 0, "a message body is in the log in clear");
}

#[tokio::test]
async fn audiences_in_the_embedded_mode() {
    let dir = tempfile::tempdir().unwrap();
    let twilio = casewire_testkit::FakeTwilio::start().await;
    let cw = Casewire::dev(dir.path(), &[("CASEWIRE_TWILIO_API_BASE", &twilio.url())]).await;
    casewire_e2e::bulk::audiences(&Api::new(&cw.url), &twilio).await;
}

#[tokio::test]
async fn campaigns_in_the_embedded_mode() {
    let dir = tempfile::tempdir().unwrap();
    let twilio = casewire_testkit::FakeTwilio::start().await;
    let cw = Casewire::dev(dir.path(), &[("CASEWIRE_TWILIO_API_BASE", &twilio.url())]).await;
    casewire_e2e::bulk::campaigns(&Api::new(&cw.url), &twilio).await;
}

#[tokio::test]
async fn surveys_in_the_embedded_mode() {
    let dir = tempfile::tempdir().unwrap();
    let twilio = casewire_testkit::FakeTwilio::start().await;
    let cw = Casewire::dev(dir.path(), &[("CASEWIRE_TWILIO_API_BASE", &twilio.url())]).await;
    casewire_e2e::bulk::surveys(&Api::new(&cw.url), &twilio).await;
}

#[tokio::test]
async fn four_eyes_in_the_embedded_mode() {
    let dir = tempfile::tempdir().unwrap();
    let twilio = casewire_testkit::FakeTwilio::start().await;
    let cw = Casewire::dev(dir.path(), &[("CASEWIRE_TWILIO_API_BASE", &twilio.url())]).await;
    casewire_e2e::bulk::four_eyes(&Api::new(&cw.url), &twilio).await;
}

#[tokio::test]
async fn texting_over_twilio_in_the_embedded_mode() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let twilio = casewire_testkit::FakeTwilio::start().await;
    let cw = Casewire::dev(dir.path(), &[("CASEWIRE_TWILIO_API_BASE", &twilio.url())]).await;
    let api = Api::new(&cw.url);
    let t = texting::texting(&api, &twilio).await;
    let db = format!("sqlite://{}/casewire.db", dir.path().display());
    texting::keyed_retries_after_a_crash_send_once(&api, &twilio, &t, &db).await;
    texting::each_event_names_the_person(&api, &t, &db).await;
    log_never_holds(&db, texting::PRIVATE_BODY).await;
    assert_eq!(
        casewire_e2e::events_of_type(&db, "WebhookRefused").await,
        texting::REFUSED_WEBHOOKS
    );
}

#[tokio::test]
async fn the_sandbox_captures_texts_and_simulates_replies() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let api = Api::new(&cw.url);
    let (tenant, admin) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let (s, p) = api
        .get(&format!("/v1/tenants/{tenant}/sms-provider"), &admin)
        .await;
    assert_eq!(
        (s, &p["kind"]),
        (200, &json!("sandbox")),
        "the default of casewire dev: {p}"
    );
    let advocate = api.key(&tenant, "advocate").await;
    let (s, _) = api
        .put(
            "/v1/cases/42",
            &advocate,
            json!({"client": {"name": "Ana", "phone": "3125550100"}}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, m) = api
        .post(
            "/v1/cases/42/messages",
            &advocate,
            json!({"body": "Court is at 9am"}),
        )
        .await;
    assert_eq!(s, 202, "{m}");
    let captured = api
        .wait_get(
            "the sandbox to capture the text",
            "/v1/sandbox/messages",
            &advocate,
            |v| v.as_array().unwrap().len() == 1 && v[0]["status"] == "delivered",
        )
        .await;
    assert_eq!(
        (&captured[0]["body"], &captured[0]["phone"]),
        (&json!("Court is at 9am"), &json!("+13125550100"))
    );

    let (s, r) = api
        .post(
            "/v1/sandbox/inbound",
            &advocate,
            json!({"from": "(312) 555-0100", "body": "ok, see you"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let thread = api
        .wait_get(
            "the reply on the thread",
            "/v1/cases/42/messages",
            &advocate,
            |t| t.as_array().unwrap().len() == 2,
        )
        .await;
    assert_eq!(
        (&thread[1]["direction"], &thread[1]["body"]),
        (&json!("inbound"), &json!("ok, see you"))
    );
    let (s, e) = api
        .post(
            "/v1/sandbox/inbound",
            &advocate,
            json!({"from": "12", "body": "x"}),
        )
        .await;
    assert_error(s, &e, 422, "validation_failed");

    // Once the tenant moves to Twilio, the sandbox is off.
    let (s, _) = api
        .put(&format!("/v1/tenants/{tenant}/sms-provider"), &admin, json!({"kind": "twilio", "account_sid": texting::ACCOUNT_A, "auth_token": "t0ken", "from": "+13125550199"}))
        .await;
    assert_eq!(s, 200);
    let (s, e) = api.get("/v1/sandbox/messages", &advocate).await;
    assert_error(s, &e, 409, "conflict");
}

#[tokio::test]
async fn webhook_endpoints_may_not_reach_inside_the_network_unless_the_operator_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[("CASEWIRE_WEBHOOK_ALLOW_PRIVATE", "false")]).await;
    let api = Api::new(&cw.url);
    let (tenant, _) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let cms_key = api.key(&tenant, "integration").await;
    let own_port = cw.url.rsplit(':').next().unwrap();
    for (url, says) in [
        (format!("https://127.0.0.1:{own_port}/v1/status"), "inside"),
        ("https://127.1/".to_string(), "inside"),
        ("https://2130706433/".to_string(), "inside"),
        ("https://[::1]/".to_string(), "inside"),
        (
            "https://169.254.169.254/latest/meta-data/".to_string(),
            "inside",
        ),
        ("https://10.0.0.1/".to_string(), "inside"),
        ("https://localhost/".to_string(), "inside"),
        ("http://cms.example.org/hook".to_string(), "https"),
    ] {
        let (s, e) = api
            .post(
                "/v1/webhook-endpoints",
                &cms_key,
                json!({"url": url, "events": ["message.status"]}),
            )
            .await;
        casewire_e2e::assert_error_says(s, &e, 422, "validation_failed", says);
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let addr = cw.url.trim_start_matches("http://").to_string();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: casewire\r\nX-Half: ")
        .await
        .unwrap();
    // The gateway gives up on it (10 s); the bound here only keeps a broken gateway from
    // hanging the test.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stalled.read_to_end(&mut rest),
    )
    .await;
    assert!(
        matches!(closed, Ok(Ok(_)) | Ok(Err(_))),
        "the connection was still open after 30 s"
    );
    assert!(
        rest.is_empty() || rest.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    // Meanwhile, and after, the gateway answers everyone else.
    let (s, _) = Api::new(&cw.url).call("GET", "/healthz", None, None).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_cms_endpoint_that_fails_is_retried_and_the_log_shows_each_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let api = Api::new(&cw.url);
    let (tenant, _) = api.tenant_with_key("Prairie Legal Aid", "admin").await;
    let cms_key = api.key(&tenant, "integration").await;
    let cms = casewire_testkit::FakeCms::start().await;
    cms.fail_next(1, 503);
    let (s, ep) = api
        .post(
            "/v1/webhook-endpoints",
            &cms_key,
            json!({"url": cms.url(), "events": ["message.inbound"]}),
        )
        .await;
    assert_eq!(s, 201, "{ep}");
    api.post(
        "/v1/sandbox/inbound",
        &cms_key,
        json!({"from": "+13125550100", "body": "hello?"}),
    )
    .await;
    let path = format!(
        "/v1/webhook-endpoints/{}/deliveries",
        ep["id"].as_str().unwrap()
    );
    let failed_once = api
        .wait_get("a failed first attempt", &path, &cms_key, |d| {
            d[0]["last_status_code"] == 503
        })
        .await;
    assert_eq!(failed_once[0]["status"], "retrying", "{failed_once}");
    let delivered = api
        .wait_get("the retry", &path, &cms_key, |d| {
            d[0]["status"] == "delivered"
        })
        .await;
    assert_eq!(delivered[0]["attempts"], 2, "{delivered}");
    let secret = casewire_webhooks::Secret::parse(ep["secret"].as_str().unwrap()).unwrap();
    let got = cms.verified(&secret);
    assert_eq!(got.len(), 2, "both attempts were signed");
    assert_eq!(
        cms.received()[0].headers["webhook-id"],
        cms.received()[1].headers["webhook-id"],
        "the same webhook-id on a retry"
    );
}

#[tokio::test]
async fn consent_over_twilio_in_the_embedded_mode() {
    let dir = tempfile::tempdir().unwrap();
    let twilio = casewire_testkit::FakeTwilio::start().await;
    let cw = Casewire::dev(dir.path(), &[("CASEWIRE_TWILIO_API_BASE", &twilio.url())]).await;
    consent::consent(&Api::new(&cw.url), &twilio).await;
    let db = format!("sqlite://{}/casewire.db", dir.path().display());
    assert_eq!(
        events_of_type(&db, "OutboundRefused").await,
        consent::REFUSED_TEXTS,
        "every refused text is on the record, once"
    );
}

#[tokio::test]
async fn reminders_over_twilio_in_the_embedded_mode() {
    let dir = tempfile::tempdir().unwrap();
    let twilio = casewire_testkit::FakeTwilio::start().await;
    let cw = Casewire::dev(dir.path(), &[("CASEWIRE_TWILIO_API_BASE", &twilio.url())]).await;
    reminders::reminders(&Api::new(&cw.url), &twilio).await;
}

#[tokio::test]
async fn every_endpoint_against_every_kind_of_key() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    casewire_e2e::roles::role_matrix(&Api::new(&cw.url)).await;
}

#[tokio::test]
async fn console_users_are_invited_listed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    casewire_e2e::console::users_are_invited_listed_and_removed(&Api::new(&cw.url)).await;
}

#[tokio::test]
async fn people_sign_in_to_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    casewire_e2e::console::people_sign_in_to_the_console(&Api::new(&cw.url)).await;
}

#[tokio::test]
async fn holds_and_erasure_in_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    casewire_e2e::console::holds_and_erasure_in_the_console(&Api::new(&cw.url)).await;
}

#[tokio::test]
async fn the_operator_adds_an_organization_and_its_admin() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    casewire_e2e::console::the_operator_adds_an_organization_and_its_admin(&Api::new(&cw.url))
        .await;
}

#[tokio::test]
async fn the_tenants_cms_may_frame_a_thread() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    casewire_e2e::console::the_tenants_cms_may_frame_a_thread(&Api::new(&cw.url)).await;
}

#[tokio::test]
async fn people_sign_in_with_their_organizations_account() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    casewire_e2e::console::people_sign_in_with_their_organizations_account(&Api::new(&cw.url))
        .await;
}

#[tokio::test]
async fn campaigns_in_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    casewire_e2e::console::campaigns_in_the_console(&Api::new(&cw.url)).await;
}

#[tokio::test]
async fn a_key_bound_to_an_advocate_sees_only_their_cases() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    casewire_e2e::roles::a_bound_key_sees_its_advocates_cases(&Api::new(&cw.url)).await;
}

#[tokio::test]
async fn the_audit_trail_filtered_with_every_look_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    casewire_e2e::audit::the_trail_filtered_and_every_look_recorded(&Api::new(&cw.url)).await;
}

#[tokio::test]
async fn signed_checkpoints_prove_the_trail_extends_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let db = format!("sqlite://{data}/casewire.db");
    let (tenant, note) = casewire_e2e::audit::checkpoints(&Api::new(&cw.url), &db).await;
    // The same from the command line, with the checkpoint kept in a file: the rewrite the
    // test made after it is named at its seq.
    let file = dir.path().join("checkpoint.txt");
    std::fs::write(&file, &note).unwrap();
    let seq = note.lines().nth(1).unwrap();
    let (code, out) = audit_verify(data, &tenant, &["--checkpoint", file.to_str().unwrap()]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!("BROKEN: tenant {tenant}: event {seq} ")),
        "{out}"
    );
    let other_key = casewire_e2e::audit::another_verifier_key();
    let (code, out) = audit_verify(
        data,
        &tenant,
        &["--checkpoint", file.to_str().unwrap(), "--key", &other_key],
    )
    .await;
    assert_eq!(
        code, 2,
        "a checkpoint no given key verifies proves nothing: {out}"
    );
    assert!(out.contains("does not verify"), "{out}");
}

#[tokio::test]
async fn checkpoints_are_signed_on_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[("CASEWIRE_CHECKPOINT_SECONDS", "1")]).await;
    let api = Api::new(&cw.url);
    let (_, officer) = api.tenant_with_key("Prairie Legal Aid", "compliance").await;
    let list = api
        .wait_get(
            "a checkpoint of its own",
            "/v1/audit/checkpoints",
            &officer,
            |l| l["items"].as_array().is_some_and(|i| !i.is_empty()),
        )
        .await;
    let first = &list["items"][0];
    assert_eq!(first["seq"], 2, "the tenant and its key: {list}");
    let (_, trail) = api
        .get("/v1/audit/events?type=CheckpointSigned", &officer)
        .await;
    assert_eq!(trail["items"][0]["actor"], "system", "{trail}");
}

/// `casewire audit <args>` on the data folder: (exit code, what it said).
async fn audit_cli(data: &str, args: &[&str]) -> (i32, String) {
    let out = tokio::process::Command::new(casewire_e2e::binary())
        .arg("audit")
        .args(args)
        .env("CASEWIRE_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .output()
        .await
        .unwrap();
    let said = [out.stdout, out.stderr].concat();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&said).to_string(),
    )
}

#[tokio::test]
async fn exports_verify_offline_and_a_changed_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let api = Api::new(&cw.url);
    let (tenant, redacted) = casewire_e2e::audit::exports(&api).await;
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &redacted).unwrap();
    let path = file.to_str().unwrap();
    let (_, keys) = api
        .get("/v1/audit/public-key", casewire_e2e::OPERATOR_TOKEN)
        .await;
    let key = keys["key"].as_str().unwrap();
    let (code, out) = audit_cli(data, &["verify", "--file", path, "--key", key]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(&format!("OK: export of tenant {tenant}: ")),
        "{out}"
    );
    assert!(out.contains("by your key"), "{out}");

    // One row changed in the file: named by its line.
    let changed = redacted.replacen("\"CaseLinked\"", "\"CaseLinkd\"", 1);
    std::fs::write(&file, &changed).unwrap();
    let (code, out) = audit_cli(data, &["verify", "--file", path]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(": line ") && out.contains("is altered"),
        "{out}"
    );

    // The command line exports the same trail, and it verifies.
    let out_file = dir.path().join("cli.jsonl");
    let (code, out) = audit_cli(
        data,
        &[
            "export",
            "--tenant",
            &tenant,
            "--out",
            out_file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("with the checkpoint that covers them"),
        "{out}"
    );
    let (code, out) = audit_cli(data, &["verify", "--file", out_file.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("the key the export names"), "{out}");
}

#[tokio::test]
async fn review_rules_flags_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    casewire_e2e::audit::review(&Api::new(&cw.url)).await;
}

#[tokio::test]
async fn a_client_erased_after_their_legal_hold_is_lifted() {
    let dir = tempfile::tempdir().unwrap();
    let twilio = casewire_testkit::FakeTwilio::start().await;
    let cw = Casewire::dev(dir.path(), &[("CASEWIRE_TWILIO_API_BASE", &twilio.url())]).await;
    let db = format!("sqlite://{}/casewire.db", dir.path().display());
    casewire_e2e::audit::erasure(&Api::new(&cw.url), &twilio, &db).await;
}

#[tokio::test]
async fn the_retention_policy_erases_due_clients_but_not_held_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cw = Casewire::dev(dir.path(), &[("CASEWIRE_RETENTION_SECONDS", "1")]).await;
    casewire_e2e::audit::retention(&Api::new(&cw.url)).await;
}

#[tokio::test]
async fn a_rotated_key_keeps_old_checkpoints_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let cw = Casewire::dev(dir.path(), &[]).await;
    let api = Api::new(&cw.url);
    let (_, officer) = api.tenant_with_key("Prairie Legal Aid", "compliance").await;
    let (s, old) = api.post("/v1/audit/checkpoints", &officer, json!({})).await;
    assert_eq!(s, 201, "{old}");
    let (_, before) = api.get("/v1/audit/public-key", &officer).await;

    let (code, out) = audit_cli(data, &["rotate-key"]).await;
    assert_eq!(code, 0, "{out}");
    let (_, after) = api.get("/v1/audit/public-key", &officer).await;
    assert_ne!(after["key"], before["key"], "a new key signs");
    assert_eq!(after["retired"], json!([before["key"]]), "{after}");
    let (s, new) = api.post("/v1/audit/checkpoints", &officer, json!({})).await;
    assert_eq!(s, 201, "{new}");
    assert_eq!(new["key"], after["key"]);
    // Both prove the trail extends them: the old one with the retired key.
    for note in [&old["note"], &new["note"]] {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("checkpoint", note.as_str().unwrap())
            .finish();
        let (s, report) = api
            .get(&format!("/v1/audit/verify?{query}"), &officer)
            .await;
        assert_eq!((s, &report["status"]), (200, &json!("intact")), "{report}");
    }
}
