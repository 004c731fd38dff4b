//! Peer addresses as operators write them: `host`, `host:port`, `[v6]:port`, and the
//! `connect` forms `id`, `id@host`, `id@host:port` with optional separate `host` and `port`
//! (checked the way Core Lightning checks them, with its messages).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Where to reach a peer: an IP socket address, or a DNS name to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetAddress {
    /// An IPv4 or IPv6 address with its port.
    Ip(SocketAddr),
    /// A host name and port, resolved when connecting.
    Dns {
        /// The host name.
        host: String,
        /// The port.
        port: u16,
    },
}

impl NetAddress {
    /// The `type` CLN shows for it (`ipv4`, `ipv6`, `dns`).
    pub fn kind(&self) -> &'static str {
        match self {
            NetAddress::Ip(SocketAddr::V4(_)) => "ipv4",
            NetAddress::Ip(SocketAddr::V6(_)) => "ipv6",
            NetAddress::Dns { .. } => "dns",
        }
    }

    /// The address without the port, as CLN shows it.
    pub fn host(&self) -> String {
        match self {
            NetAddress::Ip(sa) => sa.ip().to_string(),
            NetAddress::Dns { host, .. } => host.clone(),
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        match self {
            NetAddress::Ip(sa) => sa.port(),
            NetAddress::Dns { port, .. } => *port,
        }
    }
}

impl fmt::Display for NetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetAddress::Ip(sa) => write!(f, "{sa}"),
            NetAddress::Dns { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

/// A malformed address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Empty, or not a host.
    #[error("'{0}' is not a host name or IP address")]
    BadHost(String),
    /// The port is not a number from 1 to 65535.
    #[error("'{0}' has an invalid port")]
    BadPort(String),
}

fn valid_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Parses `host`, `host:port`, `ip`, `ip:port` or `[ipv6]:port`; `default_port` when none.
pub fn parse_address(text: &str, default_port: u16) -> Result<NetAddress, AddressError> {
    let bad_port = || AddressError::BadPort(text.to_string());
    if let Ok(sa) = text.parse::<SocketAddr>() {
        if sa.port() == 0 {
            return Err(bad_port());
        }
        return Ok(NetAddress::Ip(sa));
    }
    if let Ok(ip) = text
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(NetAddress::Ip(SocketAddr::new(ip, default_port)));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) => {
            let port: u16 = p.parse().map_err(|_| bad_port())?;
            if port == 0 {
                return Err(bad_port());
            }
            (h, port)
        }
        None => (text, default_port),
    };
    if !valid_hostname(host) {
        return Err(AddressError::BadHost(text.to_string()));
    }
    Ok(NetAddress::Dns {
        host: host.to_ascii_lowercase(),
        port,
    })
}

/// The parts of a `connect` request, before the node id is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// The node id text (hex).
    pub id: String,
    /// Where to connect, if given.
    pub address: Option<NetAddress>,
}

/// Combines `connect`'s `id` (maybe `id@host[:port]`), `host` and `port` as CLN does, with its
/// error texts.
pub fn parse_connect(
    id: &str,
    host: Option<&str>,
    port: Option<u16>,
    default_port: u16,
) -> Result<ConnectRequest, String> {
    let (id_part, at_host) = match id.split_once('@') {
        Some((i, h)) => (i, Some(h)),
        None => (id, None),
    };
    let host_text = match (at_host, host) {
        (Some(_), Some(_)) => {
            return Err("Can't specify host as both xxx@yyy and separate argument".into())
        }
        (Some(h), None) => {
            // `id@host:port`: a port inside the @-part conflicts with a separate port.
            let addr = parse_address(h, 0).map_err(|_| "malformed host @part".to_string())?;
            let explicit = addr.port() != 0;
            if explicit && port.is_some() {
                return Err("Can't specify port as both xxx@yyy:port and separate argument".into());
            }
            Some(h.to_string())
        }
        (None, Some(h)) => Some(h.to_string()),
        (None, None) => {
            if port.is_some() {
                return Err("Can't specify port without host".into());
            }
            None
        }
    };
    let address = match host_text {
        None => None,
        Some(h) => {
            let fallback = port.unwrap_or(default_port);
            let addr = parse_address(&h, fallback)
                .map_err(|e| format!("Host {h}:{fallback} not valid: {e}"))?;
            Some(addr)
        }
    };
    Ok(ConnectRequest {
        id: id_part.to_string(),
        address,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test inputs are fixed")]
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address("127.0.0.1:9735", 1).unwrap().to_string(),
            "127.0.0.1:9735"
        );
        assert_eq!(
            parse_address("127.0.0.1", 19846).unwrap().to_string(),
            "127.0.0.1:19846"
        );
        assert_eq!(
            parse_address("[::1]:99", 1).unwrap().to_string(),
            "[::1]:99"
        );
        assert_eq!(parse_address("::1", 5).unwrap().to_string(), "[::1]:5");
        let dns = parse_address("Node.Example.com:9735", 1).unwrap();
        assert_eq!(
            (dns.kind(), dns.host().as_str(), dns.port()),
            ("dns", "node.example.com", 9735)
        );
        assert_eq!(
            parse_address("localhost", 7).unwrap(),
            NetAddress::Dns {
                host: "localhost".into(),
                port: 7
            }
        );
        assert!(parse_address("host:0", 1).is_err());
        assert!(parse_address("host:99999", 1).is_err());
        assert!(parse_address("", 1).is_err());
        assert!(parse_address("bad host", 1).is_err());
    }

    #[test]
    fn connect_forms_and_cln_errors() {
        let id = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619";
        let r = parse_connect(&format!("{id}@127.0.0.1:1234"), None, None, 9735).unwrap();
        assert_eq!(
            (r.id.as_str(), r.address.unwrap().to_string()),
            (id, "127.0.0.1:1234".to_string())
        );
        let r = parse_connect(&format!("{id}@127.0.0.1"), None, Some(55), 9735).unwrap();
        assert_eq!(r.address.unwrap().to_string(), "127.0.0.1:55");
        let r = parse_connect(id, Some("localhost"), None, 19846).unwrap();
        assert_eq!(r.address.unwrap().to_string(), "localhost:19846");
        assert_eq!(parse_connect(id, None, None, 1).unwrap().address, None);
        assert_eq!(
            parse_connect(&format!("{id}@h"), Some("x"), None, 1).unwrap_err(),
            "Can't specify host as both xxx@yyy and separate argument"
        );
        assert_eq!(
            parse_connect(&format!("{id}@h:5"), None, Some(6), 1).unwrap_err(),
            "Can't specify port as both xxx@yyy:port and separate argument"
        );
        assert_eq!(
            parse_connect(id, None, Some(6), 1).unwrap_err(),
            "Can't specify port without host"
        );
        assert_eq!(
            parse_connect(&format!("{id}@bad host"), None, None, 1).unwrap_err(),
            "malformed host @part"
        );
    }
}
