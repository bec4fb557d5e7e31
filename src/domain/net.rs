//! Address ranges (CIDR), for telling trusted proxies from clients.

use std::{fmt, net::IpAddr, str::FromStr};

/// An address range such as `10.0.0.0/8` or `2001:db8::/32`; a bare
/// address is a range of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                mask_eq(&network.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                mask_eq(&network.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn mask_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (whole, rest) = ((prefix / 8) as usize, prefix % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an address or CIDR range"))?;
        let network = network.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?} has an invalid prefix length"))?,
        };
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The client of a request that passed through proxies: the rightmost
/// address of the forwarding header that is not a trusted proxy, when the
/// peer itself is one; else the peer. With no trusted proxies the header is
/// never believed.
pub fn client_address(peer: IpAddr, forwarded: &[&str], trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut leftmost = peer;
    for entry in forwarded.iter().rev() {
        let Some(ip) = parse_forwarded(entry) else {
            // Not an address: nothing left of it can be believed.
            return leftmost;
        };
        if !is_trusted(ip) {
            return ip;
        }
        leftmost = ip;
    }
    leftmost
}

/// An entry of `X-Forwarded-For`: an address, maybe with a port.
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|addr| addr.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_contain_their_addresses_only() {
        let range: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(range.contains(ip("10.200.3.4")));
        assert!(!range.contains(ip("11.0.0.1")));
        assert!(range.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped");
        let narrow: Cidr = "192.168.1.128/25".parse().unwrap();
        assert!(narrow.contains(ip("192.168.1.200")));
        assert!(!narrow.contains(ip("192.168.1.100")));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        for bad in ["", "10.0.0.0/33", "foo/8", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_address_behind_a_trusted_peer() {
        let trusted: Vec<Cidr> = ["127.0.0.1", "10.0.0.0/8"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        let proxy = ip("127.0.0.1");
        // What the client wrote itself stands left of what proxies appended.
        assert_eq!(
            client_address(proxy, &["6.6.6.6", "1.2.3.4", "10.0.0.7"], &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_address(proxy, &["junk", "1.2.3.4:5555"], &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_address(proxy, &["10.0.0.1"], &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(client_address(proxy, &[], &trusted), proxy);
        // A peer that is no proxy: the header is not believed.
        assert_eq!(
            client_address(ip("8.8.8.8"), &["1.2.3.4"], &trusted),
            ip("8.8.8.8")
        );
        // No trusted proxies at all: the same.
        assert_eq!(client_address(proxy, &["1.2.3.4"], &[]), proxy);
    }
}
