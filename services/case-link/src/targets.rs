//! Where a CMS webhook may go. A tenant's admin names a URL and casewire POSTs to it, so
//! without a rule any admin could make casewire call inside its own network (server-side
//! request forgery) and read what answered in the delivery log. Loopback, private,
//! link-local, unique-local, multicast and unspecified addresses are refused when an
//! endpoint is registered and again at every delivery; at delivery the connection itself
//! goes only to addresses checked the moment DNS answered, so a name whose answer changes
//! between the check and the call cannot slip through. An operator whose CMS runs on the
//! same network allows private targets and plain http with one setting,
//! `CASEWIRE_WEBHOOK_ALLOW_PRIVATE` (docs/texting.md, "CMS webhooks").

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The operator's rule for webhook targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Targets {
    /// Private addresses and plain http allowed: an on-premises CMS.
    pub allow_private: bool,
}

impl Targets {
    /// Whether a webhook may go to `url` now: https (unless private targets are allowed),
    /// and a host whose every address is one a webhook may reach. The error says which
    /// rule, for the admin who registered it.
    pub async fn check(&self, url: &reqwest::Url) -> Result<(), String> {
        if self.allow_private {
            return Ok(());
        }
        if url.scheme() != "https" {
            return Err("url: must be https:// (texts are confidential)".into());
        }
        let host = url.host_str().ok_or("url: has no host")?;
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<IpAddr> = match literal.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host, url.port_or_known_default().unwrap_or(443)))
                .await
                .map_err(|e| format!("url: {host} does not resolve ({e})"))?
                .map(|a| a.ip())
                .collect(),
        };
        for ip in addresses {
            if let Some(kind) = refused(ip) {
                return Err(format!(
                    "url: {host} is a {kind} address ({ip}), inside casewire's own network; a webhook goes to the CMS's public address"
                ));
            }
        }
        Ok(())
    }

    /// The HTTP client deliveries go through: no redirects, a bound on each call, and,
    /// unless private targets are allowed, connections only to addresses a webhook may
    /// reach.
    pub fn client(&self) -> reqwest::Client {
        let builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none());
        match self.allow_private {
            true => builder,
            false => builder.dns_resolver(Arc::new(PublicOnly)),
        }
        .build()
        .expect("an HTTP client")
    }
}

/// Why a webhook may not go to `ip` (the kind of address), or `None` when it may. IPv4
/// addresses written as IPv6 (`::ffff:127.0.0.1`, NAT64's `64:ff9b::/96`) are judged as
/// the IPv4 address they carry.
pub fn refused(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None if v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] => {
                IpAddr::V4(Ipv4Addr::from_bits(v6.to_bits() as u32))
            }
            None => ip,
        },
        v4 => v4,
    };
    match ip {
        IpAddr::V4(a) => {
            let [first, second, ..] = a.octets();
            // 100.64.0.0/10: carrier-grade NAT, the address space of many cloud networks.
            let shared = first == 100 && (64..128).contains(&second);
            if a.is_loopback() {
                Some("loopback")
            } else if a.is_private() || shared {
                Some("private")
            } else if a.is_link_local() {
                Some("link-local")
            } else if a.is_multicast() || a.is_broadcast() {
                Some("multicast")
            } else if a.is_unspecified() || first == 0 {
                Some("unspecified")
            } else {
                None
            }
        }
        IpAddr::V6(a) => {
            if a.is_loopback() {
                Some("loopback")
            } else if a.is_unique_local() {
                Some("unique-local")
            } else if a.is_unicast_link_local() {
                Some("link-local")
            } else if a.is_multicast() {
                Some("multicast")
            } else if a.is_unspecified() {
                Some("unspecified")
            } else {
                None
            }
        }
    }
}

/// Resolves names to the addresses a webhook may reach, dropping the others; a name with
/// none left fails to connect.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let allowed: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| refused(a.ip()).is_none())
                .collect();
            if allowed.is_empty() {
                return Err(
                    format!("{host} resolves only to addresses inside casewire's network").into(),
                );
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: Targets = Targets {
        allow_private: false,
    };

    async fn check(url: &str) -> Result<(), String> {
        STRICT.check(&reqwest::Url::parse(url).unwrap()).await
    }

    #[tokio::test]
    async fn inside_addresses_are_refused_in_every_spelling() {
        for url in [
            "https://127.0.0.1:8080/v1/status",
            "https://127.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[64:ff9b::a00:1]/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/",
            "https://172.16.5.4/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://224.0.0.1/",
            "https://0.0.0.0/",
            "https://localhost/",
        ] {
            let err = check(url).await.unwrap_err();
            assert!(
                err.contains("inside casewire's own network"),
                "{url}: {err}"
            );
        }
    }

    #[tokio::test]
    async fn plain_http_is_refused_and_public_addresses_pass() {
        let err = check("http://93.184.215.14/hook").await.unwrap_err();
        assert!(err.contains("https"), "{err}");
        check("https://93.184.215.14/hook").await.unwrap();
        check("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn allowed_private_targets_are_for_an_on_premises_cms() {
        let on_premises = Targets {
            allow_private: true,
        };
        let url = reqwest::Url::parse("http://127.0.0.1:9/hook").unwrap();
        on_premises.check(&url).await.unwrap();
    }

    /// The check at delivery is not the only guard: the connection itself refuses a name
    /// that resolves inside, here to a server that is really listening and answering.
    #[tokio::test]
    async fn the_delivery_client_does_not_connect_inside() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        let url = format!("http://localhost:{port}/hook");
        let err = STRICT.client().post(&url).send().await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        let on_premises = Targets {
            allow_private: true,
        };
        let answered = on_premises.client().post(&url).send().await.unwrap();
        assert_eq!(
            answered.status(),
            204,
            "allowed, it reaches the same server"
        );
    }
}
