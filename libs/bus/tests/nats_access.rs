//! casewire signs in to a nats-server configured each way production may be: a user and
//! password in `NATS_URL` (infra/nats/production.conf's way), a token, an nkey, a
//! credentials file (decentralized auth, an operator's JWTs), and mutual TLS. Each against
//! a real nats-server started with that configuration; each also with what the server
//! must refuse, and the error saying why.

use std::path::{Path, PathBuf};
use std::time::Duration;

use casewire_bus::{Nats, NatsAccess, NatsSettings};
use casewire_crypto::Key;
use casewire_testkit::NatsServer;

/// Connects (which creates the events stream: a JetStream request) within a bound.
async fn connect(access: NatsAccess) -> Result<Nats, String> {
    // A refused sign-in ends at once; a TLS handshake that fails is retried until this.
    let settings = NatsSettings {
        first_connection: Duration::from_secs(3),
        ..NatsSettings::new(access, &Key::generate())
    };
    match tokio::time::timeout(Duration::from_secs(30), Nats::connect(&settings)).await {
        Ok(connected) => connected.map_err(|e| e.to_string()),
        Err(_) => Err("no answer within 30 s".into()),
    }
}

fn url_with(server: &NatsServer, sign_in: &str) -> String {
    format!("nats://{sign_in}@127.0.0.1:{}", server.port())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn assert_refused(result: Result<Nats, String>, why: &str) {
    match result {
        Ok(_) => panic!("connected, where NATS must refuse ({why})"),
        Err(e) => assert!(e.to_lowercase().contains(why), "{e}"),
    }
}

#[tokio::test]
async fn a_user_and_password_in_the_url_as_production_conf_asks() {
    let server = NatsServer::start_with(
        r#"authorization { users: [ { user: casewire, password: "p@ss/w0rd" } ] }"#,
    )
    .await
    .unwrap();
    let nats = connect(NatsAccess::at(&url_with(&server, "casewire:p%40ss%2Fw0rd"))).await;
    assert!(nats.is_ok(), "{:?}", nats.err());

    let wrong = connect(NatsAccess::at(&url_with(&server, "casewire:guess"))).await;
    let e = wrong.err().expect("a wrong password is refused");
    assert!(
        e.contains("refused casewire: authorization violation"),
        "{e}"
    );
    assert!(
        !e.contains("guess"),
        "the password is not in the error: {e}"
    );
}

#[tokio::test]
async fn a_token_in_the_url() {
    let server = NatsServer::start_with(r#"authorization { token: "s3cr3t-t0ken" }"#)
        .await
        .unwrap();
    assert!(connect(NatsAccess::at(&url_with(&server, "s3cr3t-t0ken")))
        .await
        .is_ok());
    assert_refused(
        connect(NatsAccess::at(&server.url())).await,
        "authorization violation",
    );
}

#[tokio::test]
async fn an_nkey_seed_from_a_file() {
    let user = nkeys::KeyPair::new_user();
    let server = NatsServer::start_with(&format!(
        "authorization {{ users: [ {{ nkey: {} }} ] }}",
        user.public_key()
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let seed = write(dir.path(), "casewire.nk", &user.seed().unwrap());
    let nkey = NatsAccess {
        nkey: Some(seed),
        ..NatsAccess::at(&server.url())
    };
    assert!(connect(nkey).await.is_ok());

    let stranger = write(
        dir.path(),
        "stranger.nk",
        &nkeys::KeyPair::new_user().seed().unwrap(),
    );
    let refused = NatsAccess {
        nkey: Some(stranger),
        ..NatsAccess::at(&server.url())
    };
    assert_refused(connect(refused).await, "authorization violation");
}

/// Decentralized auth: an operator trusts an account (JetStream enabled in its limits),
/// whose key signs casewire's user JWT; casewire holds the JWT and its seed in a .creds
/// file, as `nsc generate creds` writes it.
#[tokio::test]
async fn a_credentials_file_of_an_operators_account() {
    use nats_io_jwt::{Account, KeyPair, Operator, OperatorLimits, Token, User};
    let operator = KeyPair::new_operator();
    let account = KeyPair::new_account();
    let user = KeyPair::new_user();
    let operator_jwt = Token::new(operator.public_key())
        .name("casewire-test")
        .claims(Operator::builder().try_into().map(|o: Operator| o).unwrap())
        .sign(&operator);
    let account_claims: Account = Account::builder()
        .limits(OperatorLimits::default())
        .try_into()
        .unwrap();
    let account_jwt = Token::new(account.public_key())
        .name("casewire")
        .claims(account_claims)
        .sign(&operator);
    // JetStream needs the operator's system account.
    let system = KeyPair::new_account();
    let system_jwt = Token::new(system.public_key())
        .name("SYS")
        .claims(Account::builder().try_into().map(|a: Account| a).unwrap())
        .sign(&operator);
    // Not a bearer token (this crate's default): the server makes casewire sign its nonce
    // with the seed, as `nsc` users are by default.
    let user_claims: User = User::builder().bearer_token(false).try_into().unwrap();
    let user_jwt = Token::new(user.public_key())
        .name("casewire-services")
        .claims(user_claims)
        .sign(&account);

    let server = NatsServer::start_with(&format!(
        "operator: {operator_jwt}\nsystem_account: {sys}\nresolver: MEMORY\n\
         resolver_preload: {{ {}: {account_jwt}, {sys}: {system_jwt} }}",
        account.public_key(),
        sys = system.public_key(),
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let creds = |seed: &str| {
        format!(
            "-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
        )
    };
    let file = write(dir.path(), "casewire.creds", &creds(&user.seed().unwrap()));
    let access = NatsAccess {
        creds: Some(file),
        ..NatsAccess::at(&server.url())
    };
    let nats = connect(access).await;
    assert!(nats.is_ok(), "{:?}", nats.err());

    // The JWT with another key's seed proves nothing.
    let forged = write(
        dir.path(),
        "forged.creds",
        &creds(&KeyPair::new_user().seed().unwrap()),
    );
    let refused = NatsAccess {
        creds: Some(forged),
        ..NatsAccess::at(&server.url())
    };
    assert_refused(connect(refused).await, "authorization violation");
}

/// A CA, and a certificate it signs for each name.
struct Pki {
    dir: tempfile::TempDir,
    ca: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap())
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ca.pem", &ca.pem());
        Pki { dir, ca }
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// (certificate, key) for `name`.
    fn issue(&self, name: &str) -> (PathBuf, PathBuf) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(vec![name.to_string(), "127.0.0.1".into()]).unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        (
            write(self.dir.path(), &format!("{name}.pem"), &cert.pem()),
            write(
                self.dir.path(),
                &format!("{name}-key.pem"),
                &key.serialize_pem(),
            ),
        )
    }
}

#[tokio::test]
async fn mutual_tls_with_the_operators_ca() {
    let pki = Pki::new();
    let (cert, key) = pki.issue("localhost");
    let server = NatsServer::start_with(&format!(
        "tls {{ cert_file: {:?}, key_file: {:?}, ca_file: {:?}, verify: true, timeout: 5 }}",
        cert,
        key,
        pki.ca()
    ))
    .await
    .unwrap();
    let client = pki.issue("casewire");
    let tls = |tls_client: Option<(PathBuf, PathBuf)>, tls_ca: Option<PathBuf>| NatsAccess {
        tls_ca,
        tls_client,
        ..NatsAccess::at(&server.url())
    };
    let nats = connect(tls(Some(client.clone()), Some(pki.ca()))).await;
    assert!(nats.is_ok(), "{:?}", nats.err());

    // No client certificate: the server verifies clients and refuses.
    assert!(connect(tls(None, Some(pki.ca()))).await.is_err());
    // Another CA's server certificate is not trusted.
    let other = Pki::new();
    assert!(connect(tls(Some(client), Some(other.ca()))).await.is_err());
}

#[tokio::test]
async fn one_way_to_sign_in_at_a_time() {
    let e = connect(NatsAccess {
        nkey: Some("/nowhere".into()),
        ..NatsAccess::at("nats://casewire:pw@127.0.0.1:4222")
    })
    .await
    .err()
    .unwrap();
    assert!(e.contains("one way to sign in"), "{e}");
}

/// `CASEWIRE_NATS_REPLICAS` asks for more replicas than an existing stream has: casewire
/// raises them, or, where NATS cannot (one server, no cluster), stops saying so; never
/// silently goes on at R1.
#[tokio::test]
async fn more_replicas_than_the_stream_has_are_raised_or_refused_aloud() {
    let server = NatsServer::start().await.unwrap();
    assert!(
        connect(NatsAccess::at(&server.url())).await.is_ok(),
        "an R1 stream"
    );
    let settings = NatsSettings {
        replicas: 3,
        ..NatsSettings::new(NatsAccess::at(&server.url()), &Key::generate())
    };
    let e = Nats::connect(&settings)
        .await
        .err()
        .expect("one server cannot hold R3");
    let e = e.to_string();
    assert!(
        e.contains("has 1 replica(s) and CASEWIRE_NATS_REPLICAS asks for 3"),
        "{e}"
    );
}

/// On a cluster (infra/nats/production.conf's three nodes), a process asking for R3 raises
/// the R1 stream an earlier deployment made, keeping what it holds; one asking for fewer
/// afterwards leaves it at R3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_r1_stream_is_raised_to_r3_on_a_cluster_and_keeps_its_events() {
    const PRODUCTION_CONF: &str = include_str!("../../../infra/nats/production.conf");
    let cluster =
        casewire_testkit::NatsCluster::start(PRODUCTION_CONF, &[("NATS_APP_PASSWORD", "pw")])
            .await
            .unwrap();
    let url = cluster
        .nodes
        .iter()
        .map(|n| format!("nats://casewire:pw@127.0.0.1:{}", n.port()))
        .collect::<Vec<_>>()
        .join(",");
    let at = |replicas: usize| NatsSettings {
        replicas,
        ..NatsSettings::new(NatsAccess::at(&url), &Key::generate())
    };
    let js = async_nats::jetstream::new(
        async_nats::ConnectOptions::new()
            .user_and_password("casewire".into(), "pw".into())
            .connect(
                url.replace("casewire:pw@", "")
                    .split(',')
                    .collect::<Vec<_>>(),
            )
            .await
            .unwrap(),
    );
    let stream = || async {
        let mut s = js
            .get_stream(casewire_events::subjects::EVENTS_STREAM)
            .await
            .unwrap();
        let info = s.info().await.unwrap().clone();
        (info.config.num_replicas, info.state.messages)
    };

    Nats::connect(&at(1)).await.expect("an R1 stream");
    // Just made on a cluster, the stream may not answer every node's publish for a moment
    // (StreamNotFound): published under one message id, a retry stores it once.
    casewire_testkit::wait_for(
        "the new R1 stream to take an event",
        Duration::from_secs(30),
        || async {
            let publish = async_nats::jetstream::message::PublishMessage::build()
                .payload("{}".into())
                .message_id("the-one-event");
            js.send_publish(
                casewire_events::subjects::event("t1", "Case", "Opened"),
                publish,
            )
            .await
            .ok()?
            .await
            .ok()
        },
    )
    .await;
    assert_eq!(stream().await, (1, 1));

    Nats::connect(&at(3)).await.expect("raised to R3");
    assert_eq!(stream().await, (3, 1), "three replicas, the event kept");

    Nats::connect(&at(1)).await.expect("fewer asked: a warning");
    assert_eq!(stream().await.0, 3, "never lowered by a process");
}
