//! BOLT 7 address descriptors (`node_announcement`'s `addresses`, and `init`'s `remote_addr`
//! in BOLT 1): a type byte and a body whose length the type fixes.
//!
//! A descriptor of an unknown type cannot be skipped (its length is unknown), so BOLT 7 says
//! to ignore it and everything after it: it becomes [`NetAddress::Unknown`] holding the rest
//! of the field, which keeps re-encoding exact.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::WireError;
use crate::primitives::{Codec, Reader, Writer};
use crate::tlv::TlvValue;

/// One address descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetAddress {
    /// Type 1: IPv4 address and port.
    Ipv4 {
        /// The address.
        addr: Ipv4Addr,
        /// The port.
        port: u16,
    },
    /// Type 2: IPv6 address and port.
    Ipv6 {
        /// The address.
        addr: Ipv6Addr,
        /// The port.
        port: u16,
    },
    /// Type 3: deprecated Tor v2 onion service (10 bytes), which BOLT 7 says to ignore.
    TorV2 {
        /// The 10 address bytes.
        addr: [u8; 10],
        /// The port.
        port: u16,
    },
    /// Type 4: Tor v3 onion service: ed25519 public key (32), checksum (2), version (1).
    TorV3 {
        /// The 35 address bytes.
        addr: [u8; 35],
        /// The port.
        port: u16,
    },
    /// Type 5: DNS hostname (at most 255 bytes; BOLT 7 requires ASCII, not checked here).
    Dns {
        /// The hostname bytes.
        hostname: Vec<u8>,
        /// The port.
        port: u16,
    },
    /// A descriptor of a type not defined above, with every byte after its type byte.
    Unknown {
        /// The type byte.
        kind: u8,
        /// The rest of the field.
        data: Vec<u8>,
    },
}

impl NetAddress {
    /// The descriptor type byte.
    pub fn kind(&self) -> u8 {
        match self {
            NetAddress::Ipv4 { .. } => 1,
            NetAddress::Ipv6 { .. } => 2,
            NetAddress::TorV2 { .. } => 3,
            NetAddress::TorV3 { .. } => 4,
            NetAddress::Dns { .. } => 5,
            NetAddress::Unknown { kind, .. } => *kind,
        }
    }

    /// Appends the descriptor.
    pub fn encode(&self, w: &mut Writer) {
        w.bytes(&[self.kind()]);
        match self {
            NetAddress::Ipv4 { addr, port } => {
                w.bytes(&addr.octets());
                port.encode(w);
            }
            NetAddress::Ipv6 { addr, port } => {
                w.bytes(&addr.octets());
                port.encode(w);
            }
            NetAddress::TorV2 { addr, port } => {
                w.bytes(addr);
                port.encode(w);
            }
            NetAddress::TorV3 { addr, port } => {
                w.bytes(addr);
                port.encode(w);
            }
            NetAddress::Dns { hostname, port } => {
                let len = u8::try_from(hostname.len()).unwrap_or_else(|_| {
                    w.mark_overflow();
                    u8::MAX
                });
                w.bytes(&[len]);
                w.bytes(hostname.get(..usize::from(len)).unwrap_or(hostname));
                port.encode(w);
            }
            NetAddress::Unknown { data, .. } => w.bytes(data),
        }
    }

    /// Reads one descriptor; an unknown type takes everything left.
    pub fn decode(r: &mut Reader<'_>) -> Result<NetAddress, WireError> {
        let kind = u8::decode(r)?;
        let invalid = |_| WireError::InvalidAddress { kind };
        Ok(match kind {
            1 => NetAddress::Ipv4 {
                addr: Ipv4Addr::from(r.array::<4>().map_err(invalid)?),
                port: u16::decode(r).map_err(invalid)?,
            },
            2 => NetAddress::Ipv6 {
                addr: Ipv6Addr::from(r.array::<16>().map_err(invalid)?),
                port: u16::decode(r).map_err(invalid)?,
            },
            3 => NetAddress::TorV2 {
                addr: r.array().map_err(invalid)?,
                port: u16::decode(r).map_err(invalid)?,
            },
            4 => NetAddress::TorV3 {
                addr: r.array().map_err(invalid)?,
                port: u16::decode(r).map_err(invalid)?,
            },
            5 => {
                let len = u8::decode(r).map_err(invalid)?;
                NetAddress::Dns {
                    hostname: r.take(usize::from(len)).map_err(invalid)?.to_vec(),
                    port: u16::decode(r).map_err(invalid)?,
                }
            }
            kind => NetAddress::Unknown {
                kind,
                data: r.rest().to_vec(),
            },
        })
    }
}

/// `init`'s `remote_addr`: one descriptor filling the value.
impl TlvValue for NetAddress {
    fn encode_value(&self, w: &mut Writer) {
        self.encode(w);
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(value);
        let addr = NetAddress::decode(&mut r)?;
        r.finish()?;
        Ok(addr)
    }
}

/// `node_announcement`'s `addrlen` and `addresses`: a `u16` byte length, then descriptors.
impl Codec for Vec<NetAddress> {
    fn encode(&self, w: &mut Writer) {
        let mut inner = Writer::new();
        for a in self {
            a.encode(&mut inner);
        }
        if inner.overflowed() {
            w.mark_overflow();
        }
        w.u16_prefixed(inner.as_bytes());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let mut inner = Reader::new(r.u16_prefixed()?);
        let mut out = Vec::new();
        while !inner.is_empty() {
            out.push(NetAddress::decode(&mut inner)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn unknown_type_swallows_the_rest() {
        let bytes = [0, 13, 1, 127, 0, 0, 1, 0x26, 0x07, 9, 1, 2, 3, 4, 5];
        let list = Vec::<NetAddress>::decode(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(
            list,
            vec![
                NetAddress::Ipv4 {
                    addr: Ipv4Addr::new(127, 0, 0, 1),
                    port: 9735
                },
                NetAddress::Unknown {
                    kind: 9,
                    data: vec![1, 2, 3, 4, 5]
                },
            ]
        );
        let mut w = Writer::new();
        list.encode(&mut w);
        assert_eq!(w.as_bytes(), &bytes);
    }

    #[test]
    fn truncated_known_descriptor_is_invalid() {
        let bytes = [0, 4, 1, 127, 0, 0];
        assert_eq!(
            Vec::<NetAddress>::decode(&mut Reader::new(&bytes)),
            Err(WireError::InvalidAddress { kind: 1 })
        );
    }
}
