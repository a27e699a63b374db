//! What infra/ ships is what casewire reads: every environment variable the Compose file,
//! the Kubernetes manifests and the Dockerfile set for casewire is one docs/configuration.md
//! documents and config.rs reads, and every probe they use is one casewire serves (the
//! e2e tests call `/healthz` and `/readyz` on the gateway and on a service).

use std::collections::BTreeSet;
use std::path::PathBuf;

use yaml_rust2::{Yaml, YamlLoader};

const PROBES: &[&str] = &["/healthz", "/readyz"];
/// Read by libraries rather than config.rs (the log filter; the OpenTelemetry SDK's export
/// interval, which casewire_telemetry reads too).
const OTHERS: &[&str] = &["RUST_LOG", "OTEL_METRIC_EXPORT_INTERVAL"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The environment variables docs/configuration.md names, each checked to be read by
/// config.rs.
fn known() -> BTreeSet<String> {
    let doc = read("docs/configuration.md");
    let config = read("services/casewire/src/config.rs");
    let names: BTreeSet<String> = doc
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|s| s.split('=').next())
        .filter(|s| {
            s.len() > 3
                && s.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_string)
        .collect();
    for name in &names {
        assert!(
            config.contains(&format!("\"{name}\"")) || OTHERS.contains(&name.as_str()),
            "docs/configuration.md names {name}, which config.rs does not read"
        );
    }
    names
        .into_iter()
        .chain(OTHERS.iter().map(|s| s.to_string()))
        .collect()
}

/// `<<` merge keys resolved (yaml-rust2 resolves aliases, not merges).
fn merged(y: &Yaml) -> Yaml {
    match y {
        Yaml::Hash(h) => {
            let mut out = yaml_rust2::yaml::Hash::new();
            if let Some(Yaml::Hash(base)) = h.get(&Yaml::String("<<".into())).map(merged) {
                out.extend(base);
            }
            for (k, v) in h {
                if k.as_str() != Some("<<") {
                    out.insert(k.clone(), merged(v));
                }
            }
            Yaml::Hash(out)
        }
        Yaml::Array(a) => Yaml::Array(a.iter().map(merged).collect()),
        other => other.clone(),
    }
}

fn keys(y: &Yaml) -> Vec<String> {
    match y {
        Yaml::Hash(h) => h
            .keys()
            .filter_map(|k| k.as_str().map(String::from))
            .collect(),
        Yaml::Array(a) => a
            .iter()
            .filter_map(|e| e.as_str()?.split('=').next().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn compose_sets_only_what_casewire_reads_and_probes_what_it_serves() {
    let known = known();
    let compose = merged(&YamlLoader::load_from_str(&read("infra/compose.yaml")).unwrap()[0]);
    let services = compose["services"].as_hash().expect("services");
    let mut casewire = 0;
    for (name, service) in services {
        if service["image"].as_str() != Some("casewire") {
            continue;
        }
        casewire += 1;
        for key in keys(&service["environment"]) {
            assert!(
                known.contains(&key),
                "compose {name:?} sets {key}, which casewire does not read"
            );
        }
        if let Some(test) = service["healthcheck"]["test"].as_vec() {
            let url = test.last().and_then(Yaml::as_str).unwrap();
            assert!(
                PROBES.iter().any(|p| url.ends_with(p)),
                "compose {name:?} probes {url}"
            );
        }
    }
    assert!(casewire >= 5, "migrate and the four services");
}

#[test]
fn the_kubernetes_manifests_set_only_what_casewire_reads_and_probe_what_it_serves() {
    let known = known();
    let docs = YamlLoader::load_from_str(&read("infra/k8s/casewire.yaml")).unwrap();
    let mut probes = 0;
    for doc in &docs {
        match doc["kind"].as_str() {
            Some("Secret") => keys(&doc["stringData"]),
            Some("ConfigMap") => keys(&doc["data"]),
            _ => Vec::new(),
        }
        .into_iter()
        .for_each(|key| {
            assert!(
                known.contains(&key),
                "k8s sets {key}, which casewire does not read"
            )
        });
        let containers = &doc["spec"]["template"]["spec"]["containers"];
        for container in containers.as_vec().into_iter().flatten() {
            for env in container["env"].as_vec().into_iter().flatten() {
                let key = env["name"].as_str().unwrap();
                assert!(
                    known.contains(key),
                    "k8s sets {key}, which casewire does not read"
                );
            }
            for probe in ["livenessProbe", "readinessProbe"] {
                if let Some(path) = container[probe]["httpGet"]["path"].as_str() {
                    assert!(PROBES.contains(&path), "k8s probes {path}");
                    probes += 1;
                }
            }
        }
    }
    assert_eq!(probes, 8, "two probes for each of the four services");
}

#[test]
fn the_dockerfile_builds_casewire_and_sets_only_what_it_reads() {
    let known = known();
    let dockerfile = read("Dockerfile");
    assert!(dockerfile.contains("cargo build --release -p casewire"));
    assert!(dockerfile.contains("ENTRYPOINT [\"casewire\"]"));
    for line in dockerfile.lines().filter(|l| l.starts_with("ENV ")) {
        for pair in line[4..].split_whitespace() {
            let key = pair.split('=').next().unwrap();
            assert!(known.contains(key), "the Dockerfile sets {key}");
        }
    }
}
