//! Who a request comes from: the socket's address, or behind a trusted
//! proxy the one the proxy forwards (`Forwarded`, else `X-Forwarded-For`);
//! and the streams each client address holds, capped.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::request::Parts;
use ipnet::IpNet;

use crate::server::ClientAddr;

/// The address of the socket a request came on: from [`ClientAddr`] (set
/// by [`serve`](crate::server::serve)) or, with the `axum-connect-info`
/// feature, axum's `ConnectInfo<SocketAddr>`.
pub(super) fn socket_addr(parts: &Parts) -> Option<SocketAddr> {
    let remote = parts
        .extensions
        .get::<ClientAddr>()
        .map(|address| address.0);
    #[cfg(feature = "axum-connect-info")]
    let remote = remote.or_else(|| {
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0)
    });
    remote
}

/// One address in a `Forwarded: for=` value or an `X-Forwarded-For` entry:
/// `1.2.3.4`, `1.2.3.4:80`, `"[::1]:80"`, `[::1]`; `None` for obfuscated
/// names (`_hidden`, `unknown`).
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(address) = node.parse::<SocketAddr>() {
        return Some(address.ip());
    }
    let bracketed = node.strip_prefix('[')?;
    bracketed.split(']').next()?.parse().ok()
}

/// The addresses a request passed through, nearest last, as the proxies
/// said them: `Forwarded`'s `for=` (RFC 7239) if present, else
/// `X-Forwarded-For`. An entry that is not an address ends the list there
/// (nothing before it can be trusted).
fn forwarded_chain(parts: &Parts) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = parts
        .headers
        .get_all("forwarded")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node))
            })
            .collect();
    }
    parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(parse_node)
        .collect()
}

/// The client's address: the socket's, unless the socket is a trusted
/// proxy's, in which case the nearest forwarded address that is not a
/// trusted proxy's (proxies in front of proxies are walked through). A
/// forwarded header from an untrusted socket is ignored: anyone can send
/// one.
pub(super) fn client_ip(parts: &Parts, trusted: &[IpNet]) -> Option<IpAddr> {
    let socket = socket_addr(parts)?.ip();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&socket) {
        return Some(socket);
    }
    let mut client = socket;
    for hop in forwarded_chain(parts).into_iter().rev() {
        match hop {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return Some(ip),
            None => return Some(client),
        }
    }
    Some(client)
}

/// The streams each client address holds.
#[derive(Debug)]
pub(super) struct Streams {
    per_client: usize,
    held: Mutex<HashMap<IpAddr, usize>>,
}

impl Streams {
    pub(super) fn new(per_client: usize) -> Arc<Self> {
        Arc::new(Self {
            per_client,
            held: Mutex::new(HashMap::new()),
        })
    }

    fn held(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A stream slot for `ip`, or `None` when it holds as many as allowed.
    pub(super) fn take(self: &Arc<Self>, ip: IpAddr) -> Option<StreamSlot> {
        let mut held = self.held();
        let count = held.entry(ip).or_insert(0);
        if *count >= self.per_client {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            streams: Arc::clone(self),
            ip,
        })
    }

    #[cfg(test)]
    fn count(&self, ip: IpAddr) -> usize {
        self.held().get(&ip).copied().unwrap_or(0)
    }
}

/// A client's stream slot, given back when the subscription (which holds
/// it in its properties) is dropped.
#[derive(Debug)]
pub(super) struct StreamSlot {
    streams: Arc<Streams>,
    ip: IpAddr,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut held = self.streams.held();
        if let Some(count) = held.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr};

    use ipnet::IpNet;

    use super::{Streams, client_ip};
    use crate::server::ClientAddr;

    fn parts(peer: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut request = http::Request::get("/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut parts = request.body(()).unwrap().into_parts().0;
        parts
            .extensions
            .insert(ClientAddr(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let spoofed = parts("203.0.113.9:5000", &[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(client_ip(&spoofed, &trusted), ip("203.0.113.9"));
        let proxied = parts(
            "10.1.2.3:5000",
            &[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.9.9.9")],
        );
        assert_eq!(
            client_ip(&proxied, &trusted),
            ip("1.2.3.4"),
            "the nearest untrusted hop"
        );
        let forwarded = parts(
            "10.1.2.3:5000",
            &[(
                "forwarded",
                "for=192.0.2.60;proto=http, for=\"[2001:db8::1]:4711\"",
            )],
        );
        assert_eq!(client_ip(&forwarded, &trusted), ip("2001:db8::1"));
        let hidden = parts("10.1.2.3:5000", &[("forwarded", "for=_hidden")]);
        assert_eq!(client_ip(&hidden, &trusted), ip("10.1.2.3"));
        let none = parts("10.1.2.3:5000", &[]);
        assert_eq!(client_ip(&none, &trusted), ip("10.1.2.3"));
        assert_eq!(
            client_ip(&proxied, &[]),
            ip("10.1.2.3"),
            "no proxy is trusted by default"
        );
    }

    #[test]
    fn stream_slots_are_capped_per_address_and_come_back() {
        let streams = Streams::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = streams.take(a).unwrap();
        let _second = streams.take(a).unwrap();
        assert!(streams.take(a).is_none());
        assert!(streams.take(b).is_some(), "another address has its own cap");
        drop(first);
        assert_eq!(streams.count(a), 1);
        assert!(streams.take(a).is_some());
    }
}
