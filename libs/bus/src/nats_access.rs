//! How casewire reaches NATS and signs in: the servers (`NATS_URL`, one or more, comma
//! separated, a user and password or a token in them), a credentials file (a user JWT and
//! its nkey seed), an nkey seed alone, and TLS (the CA that signs the servers' certificates,
//! and a client certificate for mutual TLS). async-nats reads none of these from a URL by
//! itself: it connects with the URL's host and drops the user and password, and the server
//! answers "authorization violation".

use std::path::PathBuf;
use std::time::Duration;

use async_nats::{ConnectOptions, ServerAddr};

use crate::{BusError, Result};

/// Where NATS is and how to sign in. Secrets stay out of `Debug`.
#[derive(Clone, Default)]
pub struct NatsAccess {
    /// `NATS_URL`: `nats://[user:password@]host:port` or `tls://…`, or `nats://token@host`;
    /// several, comma separated, for a cluster.
    pub url: String,
    /// `CASEWIRE_NATS_CREDS`: a `.creds` file (decentralized auth: a user JWT and its seed).
    pub creds: Option<PathBuf>,
    /// `CASEWIRE_NATS_NKEY`: a file holding a user's nkey seed (`SU…`).
    pub nkey: Option<PathBuf>,
    /// `CASEWIRE_NATS_TLS_CA`: the CA (PEM) that signs the servers' certificates; TLS is
    /// then required.
    pub tls_ca: Option<PathBuf>,
    /// `CASEWIRE_NATS_TLS_CERT` and `CASEWIRE_NATS_TLS_KEY`: casewire's own certificate and
    /// key (PEM), for servers that verify clients.
    pub tls_client: Option<(PathBuf, PathBuf)>,
}

impl std::fmt::Debug for NatsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsAccess")
            .field("url", &redacted(&self.url))
            .field("creds", &self.creds)
            .field("nkey", &self.nkey)
            .field("tls_ca", &self.tls_ca)
            .field("tls_client", &self.tls_client)
            .finish()
    }
}

/// A sign-in found in the URLs.
#[derive(Debug, PartialEq, Eq)]
enum InUrl {
    None,
    UserPassword(String, String),
    Token(String),
}

/// `NATS_URL` with any user, password or token replaced, for logs and errors.
pub fn redacted(urls: &str) -> String {
    urls.split(',')
        .map(|u| match url::Url::parse(u.trim()) {
            Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
                let _ = parsed.set_username("REDACTED");
                let _ = parsed.set_password(None);
                parsed.to_string()
            }
            Ok(_) => u.trim().to_string(),
            Err(_) => "<not a URL>".into(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The servers with their sign-in taken out, and that sign-in (the same in every URL).
fn servers(urls: &str) -> Result<(Vec<ServerAddr>, InUrl)> {
    let bad = |m: String| BusError::Config(format!("NATS_URL: {m}"));
    let mut addrs = Vec::new();
    let mut found: Option<InUrl> = None;
    for raw in urls.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        let mut url = url::Url::parse(raw)
            .map_err(|e| bad(format!("{} is not a URL ({e})", redacted(raw))))?;
        let decode = |s: &str| {
            percent_decode(s).ok_or_else(|| bad("a user or password is not valid UTF-8".into()))
        };
        let sign_in = match (url.username(), url.password()) {
            ("", None) => InUrl::None,
            (user, Some(password)) => InUrl::UserPassword(decode(user)?, decode(password)?),
            (token, None) => InUrl::Token(decode(token)?),
        };
        match &found {
            Some(first) if *first != sign_in => {
                return Err(bad("every URL must carry the same user and password".into()))
            }
            _ => found = Some(sign_in),
        }
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let addr: ServerAddr = url
            .as_str()
            .parse()
            .map_err(|e| bad(format!("{} ({e})", redacted(raw))))?;
        addrs.push(addr);
    }
    if addrs.is_empty() {
        return Err(bad("no server given: nats://host:4222".into()));
    }
    Ok((addrs, found.unwrap_or(InUrl::None)))
}

fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

impl NatsAccess {
    /// The servers at `url`, signed in as the URL says (or not at all).
    pub fn at(url: &str) -> Self {
        NatsAccess {
            url: url.to_string(),
            ..NatsAccess::default()
        }
    }

    /// The client's options and the servers to connect to.
    pub(crate) async fn options(&self) -> Result<(ConnectOptions, Vec<ServerAddr>)> {
        let (addrs, in_url) = servers(&self.url)?;
        let ways = [
            in_url != InUrl::None,
            self.creds.is_some(),
            self.nkey.is_some(),
        ];
        if ways.iter().filter(|w| **w).count() > 1 {
            return Err(BusError::Config(
                "give NATS one way to sign in: a user and password (or token) in NATS_URL, \
                 CASEWIRE_NATS_CREDS, or CASEWIRE_NATS_NKEY"
                    .into(),
            ));
        }
        let mut options = ConnectOptions::new()
            .name("casewire")
            .connection_timeout(Duration::from_secs(5))
            // A command may call another service (consent asks messaging to send its reply):
            // give the chain the gateway's own limit rather than the client's 10 s, so a slow
            // moment under load is a slow answer and not a 503.
            .request_timeout(Some(Duration::from_secs(25)));
        options = match in_url {
            InUrl::None => options,
            InUrl::UserPassword(user, password) => options.user_and_password(user, password),
            InUrl::Token(token) => options.token(token),
        };
        if let Some(path) = &self.creds {
            options = options.credentials_file(path).await.map_err(|e| {
                BusError::Config(format!("CASEWIRE_NATS_CREDS {}: {e}", path.display()))
            })?;
        }
        if let Some(path) = &self.nkey {
            let seed = std::fs::read_to_string(path).map_err(|e| {
                BusError::Config(format!("CASEWIRE_NATS_NKEY {}: {e}", path.display()))
            })?;
            options = options.nkey(seed.trim().to_string());
        }
        if let Some(ca) = &self.tls_ca {
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        if let Some((cert, key)) = &self.tls_client {
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        Ok((options, addrs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_and_password_in_the_url_are_taken_out_and_decoded() {
        let (addrs, sign_in) = servers(
            "nats://casewire:p%40ss%2Fw@nats-1:4222, nats://casewire:p%40ss%2Fw@nats-2:4222",
        )
        .unwrap();
        assert_eq!(
            sign_in,
            InUrl::UserPassword("casewire".into(), "p@ss/w".into())
        );
        assert_eq!(addrs.len(), 2);
        assert!(!addrs[0].has_user_pass(), "no secret left in the address");
        assert_eq!(
            servers("nats://s3cr3t@nats-1:4222").unwrap().1,
            InUrl::Token("s3cr3t".into())
        );
        assert!(servers("nats://a:b@n1:4222,nats://n2:4222").is_err());
        assert!(servers(" ").is_err());
    }

    #[test]
    fn urls_are_shown_without_their_secrets() {
        assert_eq!(
            redacted("nats://casewire:hunter2@nats-1:4222,nats://nats-2:4222"),
            "nats://REDACTED@nats-1:4222,nats://nats-2:4222"
        );
        assert!(!redacted("nats://tok@h:1").contains("tok"));
    }
}
