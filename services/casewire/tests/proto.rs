//! proto/ is the contract CMS vendors and other services build against: it must be what
//! the code does. `make proto` (CASEWIRE_UPDATE_PROTO=1) rewrites it.

use std::path::PathBuf;

#[test]
fn proto_matches_the_code() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let update = std::env::var("CASEWIRE_UPDATE_PROTO").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for (path, contents) in casewire::proto::documents() {
        let file = root.join(&path);
        if update {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &contents).unwrap();
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(contents.as_str()) {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "proto/ is out of date with the code: {stale:?}; run `make proto` and commit"
    );
}

#[test]
fn every_event_type_has_a_schema() {
    let docs = casewire::proto::documents();
    for event in ["TenantCreated", "ApiKeyIssued", "ApiKeyRevoked"] {
        let path = format!("events/tenant/{event}.json");
        let (_, text) = docs
            .iter()
            .find(|(p, _)| *p == path)
            .unwrap_or_else(|| panic!("no {path}"));
        let schema: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(schema["required"][0], event, "{text}");
    }
    let (_, openapi) = &docs[0];
    assert!(openapi.contains("\"openapi\": \"3.1.0\""));
    assert!(openapi.contains("/v1/tenants/{tenant_id}/api-keys"));
}
