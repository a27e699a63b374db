//! The OpenAPI document is a contract tools can use: it parses as OpenAPI 3.1 (the `oas3`
//! crate's model), every `$ref` resolves, every path parameter is declared on every
//! operation (and none that is not in the path), every operation has one id of its own,
//! and every error answer is declared in the error shape. Schemathesis and client
//! generators refuse a document that breaks any of these; `make fuzz` runs Schemathesis.

use std::collections::{BTreeMap, BTreeSet};

use oas3::spec::{ObjectOrReference, ParameterIn};

fn document() -> serde_json::Value {
    serde_json::to_value(casewire_gateway::openapi::document()).unwrap()
}

/// Every problem found in the document `json`, all at once.
fn problems(json: &serde_json::Value) -> Vec<String> {
    let text = json.to_string();
    let spec = match oas3::from_json(&text) {
        Ok(spec) => spec,
        Err(e) => return vec![format!("not an OpenAPI 3.1 document: {e}")],
    };
    let mut problems = Vec::new();
    if let Err(e) = spec.validate_version() {
        problems.push(format!("version: {e}"));
    }
    // Every reference points at something.
    let mut refs = Vec::new();
    collect_refs(json, &mut refs);
    for r in refs {
        let found = r
            .strip_prefix('#')
            .is_some_and(|pointer| json.pointer(pointer).is_some());
        if !found {
            problems.push(format!("$ref {r} points at nothing"));
        }
    }
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, method, op) in spec.operations() {
        let at = format!("{method} {path}");
        let templated: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let parameters = match op.parameters(&spec) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("{at}: a parameter does not resolve: {e}"));
                continue;
            }
        };
        let mut seen = BTreeSet::new();
        for p in &parameters {
            if !seen.insert((p.name.clone(), format!("{:?}", p.location))) {
                problems.push(format!("{at}: parameter {} declared twice", p.name));
            }
            if p.location == ParameterIn::Path {
                if !templated.contains(p.name.as_str()) {
                    problems.push(format!(
                        "{at}: path parameter {} is not in the path",
                        p.name
                    ));
                }
                if p.required != Some(true) {
                    problems.push(format!("{at}: path parameter {} is not required", p.name));
                }
            }
        }
        for name in &templated {
            let declared = parameters
                .iter()
                .any(|p| p.name == *name && p.location == ParameterIn::Path);
            if !declared {
                problems.push(format!("{at}: path parameter {name} is not declared"));
            }
        }
        match &op.operation_id {
            Some(id) => ids.entry(id.clone()).or_default().push(at.clone()),
            None => problems.push(format!("{at}: no operationId")),
        }
        let responses = op.responses(&spec);
        if !responses.keys().any(|s| s.starts_with('4')) && path != "/healthz" && path != "/readyz"
        {
            problems.push(format!("{at}: no error answer declared"));
        }
        for (status, response) in &responses {
            if !status.starts_with(['4', '5']) {
                continue;
            }
            let shaped = response
                .content
                .get("application/json")
                .is_some_and(|media| {
                    serde_json::to_value(&media.schema)
                        .is_ok_and(|s| s["$ref"] == "#/components/schemas/Error")
                });
            if !shaped {
                problems.push(format!(
                    "{at}: the {status} answer is not in the error shape"
                ));
            }
        }
        if let Some(ObjectOrReference::Ref { ref_path, .. }) = &op.request_body {
            if json.pointer(ref_path.trim_start_matches('#')).is_none() {
                problems.push(format!("{at}: request body {ref_path} points at nothing"));
            }
        }
    }
    for (id, at) in ids {
        if at.len() > 1 {
            problems.push(format!("operationId {id} is used by {at:?}"));
        }
    }
    problems
}

fn collect_refs(v: &serde_json::Value, into: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                into.push(r.clone());
            }
            m.values().for_each(|v| collect_refs(v, into));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}

#[test]
fn the_openapi_document_is_a_contract_tools_can_use() {
    let problems = problems(&document());
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The checks find what the issue found in the document casewire had: undeclared path
/// parameters, a repeated operationId, an error answer with no shape.
#[test]
fn the_checks_find_an_undeclared_parameter_a_repeated_id_and_a_shapeless_error() {
    let mut doc = document();
    let case = &mut doc["paths"]["/v1/cases/{case_id}"];
    case["get"]["parameters"] = serde_json::json!([]);
    case["put"]["operationId"] = serde_json::json!("show");
    case["get"]["operationId"] = serde_json::json!("show");
    case["get"]["responses"]["404"]["content"] = serde_json::json!({});
    let problems = problems(&doc);
    for expected in [
        "GET /v1/cases/{case_id}: path parameter case_id is not declared",
        "operationId show is used by",
        "GET /v1/cases/{case_id}: the 404 answer is not in the error shape",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{expected:?} not among {problems:#?}"
        );
    }
}

#[test]
fn the_limits_the_server_enforces_are_in_the_document() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let case_id = &doc["paths"]["/v1/cases/{case_id}"]["get"]["parameters"][0]["schema"];
    assert_eq!(case_id["maxLength"], 128, "{case_id}");
    assert_eq!(case_id["pattern"], "^[A-Za-z0-9_.:-]{1,128}$");
    assert_eq!(
        schemas["SendMessage"]["properties"]["body"]["maxLength"],
        1600
    );
    assert_eq!(schemas["PutClient"]["properties"]["name"]["maxLength"], 200);
    let limit = doc["paths"]["/v1/consents"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .cloned()
        .unwrap();
    assert_eq!(
        (&limit["in"], &limit["schema"]["maximum"]),
        (&serde_json::json!("query"), &serde_json::json!(1000)),
        "{limit}"
    );
}
