//! Whether an answer is the CRM's at all. A captive portal or a proxy
//! answers in the CRM's place: a 2xx that is not the API's JSON (its sign-in
//! page), a redirect to another host, a 511 or a 407, or over HTTPS a
//! certificate for another name. Every request passes this check once, in
//! `Http::send` (transport errors in `ConnectorError::from_transport`), so no
//! connector can take such an answer for the CRM's, and none has to know.

use std::error::Error as StdError;

use reqwest::header::{HeaderMap, CONTENT_TYPE, LOCATION};
use reqwest::{Response, StatusCode};
use rustls::CertificateError;

use super::error::ConnectorError;
use crate::status::Interception;

/// Headers a proxy puts on the pages it makes itself, whatever their status.
const PROXY_OWN_HEADERS: &[&str] = &["proxy-agent", "x-squid-error"];
/// Also `Via`: on a page in the CRM's place, a proxy's rather than a portal's.
const PROXY_HEADERS: &[&str] = &["via", "proxy-agent", "x-squid-error"];

/// Redirects within the CRM's origin are followed, up to this many.
const MAX_REDIRECTS: usize = 5;

/// Follows a redirect only within the origin asked; one to another host,
/// port or scheme is not followed (nor is its host looked up) and reaches
/// [`check`] as what it is.
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let asked = attempt.previous().first().map(url::Url::origin);
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if asked == Some(attempt.url().origin()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// `Err(Intercepted)` when `response` is not the CRM's answer.
pub fn check(response: &Response) -> Result<(), ConnectorError> {
    let status = response.status();
    let headers = response.headers();
    let from = response
        .url()
        .host_str()
        .map(|h| match response.url().port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_owned(),
        })
        .unwrap_or_default();
    let page = if looks_like_proxy(headers) {
        Interception::Proxy
    } else {
        Interception::SignInPage
    };
    let intercepted = |by, detail| Err(ConnectorError::Intercepted { by, detail });
    match status {
        StatusCode::NETWORK_AUTHENTICATION_REQUIRED => {
            return intercepted(
                Interception::SignInPage,
                format!("{from} answered HTTP 511: the network asks to sign in first"),
            )
        }
        StatusCode::PROXY_AUTHENTICATION_REQUIRED => {
            return intercepted(
                Interception::Proxy,
                format!("{from} answered HTTP 407: the proxy asks to sign in first"),
            )
        }
        _ => {}
    }
    if status.is_redirection() {
        // Redirects within the CRM's origin were followed: this one leads away.
        let to = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| response.url().join(l).ok())
            .map(|mut u| {
                u.set_query(None);
                u.to_string()
            });
        let detail = match to {
            Some(to) => format!("{from} redirected the request to {to}"),
            None => format!(
                "{from} answered HTTP {} without saying where",
                status.as_u16()
            ),
        };
        return intercepted(page, detail);
    }
    let kind = content_type(headers);
    let not_json = kind.as_deref().is_some_and(|k| !is_json(k));
    // A proxy's own error page (its 403 block page, its 502) is the proxy's
    // word, not the CRM's: no queue is paused nor anything refused for it.
    if not_json && PROXY_OWN_HEADERS.iter().any(|h| headers.contains_key(*h)) {
        return intercepted(
            Interception::Proxy,
            format!(
                "{from} answered HTTP {} with the proxy's own page",
                status.as_u16()
            ),
        );
    }
    if status.is_success() && status != StatusCode::NO_CONTENT {
        if let Some(kind) = kind {
            if not_json {
                let by = if is_html(&kind) {
                    page
                } else {
                    Interception::Proxy
                };
                return intercepted(
                    by,
                    format!(
                        "{from} answered HTTP {} with {kind}, not the CRM's JSON",
                        status.as_u16()
                    ),
                );
            }
        }
    }
    Ok(())
}

/// A TLS handshake that failed on a certificate for another name: someone
/// else's server answered. Names the certificate's names, which rustls gives.
pub fn from_tls(e: &reqwest::Error) -> Option<ConnectorError> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(rustls::Error::InvalidCertificate(cert)) = rustls_error(err) {
            return wrong_name(cert);
        }
        cur = err.source();
    }
    None
}

fn wrong_name(cert: &CertificateError) -> Option<ConnectorError> {
    let detail = match cert {
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => {
            let names: Vec<String> = presented.iter().map(|n| plain_name(n)).collect();
            let names = match names.as_slice() {
                [] => "no name at all".to_owned(),
                _ => names.join(", "),
            };
            format!(
                "the server presented a TLS certificate for {names}, not for {}",
                expected.to_str()
            )
        }
        CertificateError::NotValidForName => {
            "the server presented a TLS certificate for another name".to_owned()
        }
        _ => return None,
    };
    Some(ConnectorError::Intercepted {
        by: Interception::Proxy,
        detail,
    })
}

/// rustls travels inside `io::Error`s (two, from hyper-rustls), whose
/// `source()` skips what they wrap.
fn rustls_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut cur = err;
    for _ in 0..4 {
        if let Some(r) = cur.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        cur = cur.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
    None
}

/// `DnsName("crm.example.com")` (webpki's debug form) → `crm.example.com`.
fn plain_name(presented: &str) -> String {
    let inner = presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(presented);
    inner.trim_matches('"').to_owned()
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

/// The CRM's content: JSON, or the multipart/mixed of an OData `$batch`
/// answer (Dataverse), which no sign-in page or proxy sends.
fn is_json(essence: &str) -> bool {
    essence.ends_with("/json") || essence.ends_with("+json") || essence == "multipart/mixed"
}

fn is_html(essence: &str) -> bool {
    essence == "text/html" || essence == "application/xhtml+xml"
}

fn looks_like_proxy(headers: &HeaderMap) -> bool {
    PROXY_HEADERS.iter().any(|h| headers.contains_key(*h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webpki_names_are_shown_plain() {
        assert_eq!(
            plain_name("DnsName(\"portal.example.net\")"),
            "portal.example.net"
        );
        assert_eq!(plain_name("IpAddress(10.1.2.3)"), "10.1.2.3");
        assert_eq!(plain_name("odd"), "odd");
    }

    #[test]
    fn a_certificate_for_another_name_is_an_interception_naming_it() {
        let e = wrong_name(&CertificateError::NotValidForNameContext {
            expected: rustls::pki_types::ServerName::try_from("crm.example.com")
                .unwrap()
                .to_owned(),
            presented: vec![
                "DnsName(\"portal.example.net\")".into(),
                "DnsName(\"*.portal.example.net\")".into(),
            ],
        })
        .unwrap();
        assert_eq!(
            e.to_string(),
            "Not reaching the CRM: a proxy answered (the server presented a TLS certificate for \
             portal.example.net, *.portal.example.net, not for crm.example.com)"
        );
        assert!(wrong_name(&CertificateError::UnknownIssuer).is_none());
    }

    #[test]
    fn only_json_is_the_crms_content() {
        assert!(is_json("application/json"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/html"));
        assert!(is_json("multipart/mixed"), "a $batch answer");
        assert!(is_html("application/xhtml+xml"));
    }

    /// A loopback HTTPS server whose certificate (from a CA the client
    /// trusts) is for `portal.example.net`: the client asks for 127.0.0.1.
    #[tokio::test]
    async fn a_tls_certificate_for_another_name_is_intercepted_and_named() {
        use std::sync::Arc;

        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        use tokio::io::AsyncWriteExt;

        use crate::crm::generic_rest::{Auth, GenericRest, DEFAULT_MAP};
        use crate::crm::{field_map::FieldMap, http::Http, throttle::Throttle, CrmConnector};
        use crate::sensitive::Sensitive;
        use crate::status::ConnectionState;
        use crate::sync::monitor::Monitor;

        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["portal.example.net".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            // The client gives up in the handshake; a few connections at most.
            for _ in 0..4 {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let _ = tls.shutdown().await;
                }
            }
        });

        let http = Http::trusting(
            reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap(),
            Arc::new(Throttle::unlimited()),
        );
        let crm = GenericRest::new(
            format!("https://127.0.0.1:{port}").parse().unwrap(),
            Auth::Token(Sensitive::new("t".to_owned())),
            FieldMap::new(DEFAULT_MAP),
            http,
        );
        let outcome = crm.probe().await;
        let Err(ConnectorError::Intercepted { by, detail }) = &outcome else {
            panic!("expected an interception, got {outcome:?}");
        };
        assert_eq!(*by, Interception::Proxy);
        assert_eq!(
            detail,
            "the server presented a TLS certificate for portal.example.net, not for 127.0.0.1"
        );
        let connector: Arc<dyn CrmConnector> = Arc::new(crm);
        let monitor = Monitor::new("crm", connector);
        monitor.report_probe(&outcome);
        let status = monitor.status();
        assert_eq!(status.state, ConnectionState::Intercepted);
        assert_eq!(status.interception, Some(Interception::Proxy));
        assert!(status
            .last_error
            .unwrap()
            .starts_with("Not reaching the CRM: a proxy answered (the server presented"));
        server.abort();
    }
}
