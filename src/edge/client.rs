//! Who the client is: the peer, or behind trusted proxies the address they
//! forwarded (see `domain::net::client_address`).

use std::net::IpAddr;

use poem::Request;

use crate::domain::net::{Cidr, client_address};

#[derive(Clone, Debug, Default)]
pub struct ClientAddress {
    /// The forwarding header (such as `X-Forwarded-For`); none: the peer.
    pub header: Option<String>,
    pub trusted_proxies: Vec<Cidr>,
}

impl ClientAddress {
    pub fn of(&self, req: &Request) -> Option<IpAddr> {
        let peer = req.remote_addr().as_socket_addr()?.ip().to_canonical();
        let Some(header) = self
            .header
            .as_deref()
            .filter(|_| !self.trusted_proxies.is_empty())
        else {
            return Some(peer);
        };
        let forwarded: Vec<&str> = req
            .headers()
            .get_all(header)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        Some(client_address(peer, &forwarded, &self.trusted_proxies))
    }
}
