//! A small blocking BOLT 8 peer for benchmarks: opens a TCP connection to a node's peer port,
//! runs the initiator side of the handshake with [`fulgur_noise::Initiator`], exchanges `init`
//! and can then just sit there, idle, holding the connection open.
//!
//! Keys come from a counter ([`counter_key`]), so every connection can have its own node id
//! (a node keeps one connection per node id) without a source of randomness.

use anyhow::{bail, Context, Result};
use fulgur_noise::{Initiator, Transport, ACT_TWO_LEN, LENGTH_HEADER_LEN, MAC_LEN};
use fulgur_wire::{ChainHash, Features, Init, Message};
use secp256k1::{PublicKey, SecretKey};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The type of `init` on the wire.
const INIT_TYPE: u16 = 16;

/// How many messages may come before the node's `init` before giving up (BOLT 1 says none).
const MAX_BEFORE_INIT: usize = 8;

/// A secret key made from a tag and a counter: `tag` in the first byte, `n` in the last eight,
/// zeroes between. Always valid (non-zero and far below the curve order).
pub fn counter_key(tag: u8, n: u64) -> SecretKey {
    let mut bytes = [0u8; 32];
    bytes[0] = tag;
    bytes[24..].copy_from_slice(&n.to_be_bytes());
    if bytes == [0u8; 32] {
        bytes[31] = 1;
    }
    // Below the order: the top byte is at most 0xff but the next seven are zero.
    SecretKey::from_slice(&bytes).expect("a key below the curve order")
}

/// The encoded `init` a well-behaved regtest peer sends: the features assumed of every node
/// today, and regtest as its only network.
pub fn regtest_init() -> Vec<u8> {
    Message::Init(Init {
        global_features: Features::assumed(),
        features: Features::assumed(),
        networks: Some(vec![ChainHash::using_genesis_block(
            bitcoin::Network::Regtest,
        )]),
        remote_addr: None,
    })
    .encode()
}

/// How long the steps of one connection took, seen from the client.
#[derive(Debug, Clone, Copy)]
pub struct ConnectTimings {
    /// TCP connect.
    pub tcp: Duration,
    /// From the TCP connection to act three sent (act one out, act two back).
    pub handshake: Duration,
    /// From act three sent to the node's `init` read (ours sent first).
    pub init: Duration,
}

impl ConnectTimings {
    /// The whole: TCP connect to the node's `init` read.
    pub fn total(&self) -> Duration {
        self.tcp + self.handshake + self.init
    }
}

/// A connection that completed the handshake.
pub struct RawPeer {
    stream: TcpStream,
    transport: Transport,
}

impl RawPeer {
    /// Connects to `addr`, runs the handshake as `local` (with the ephemeral key `ephemeral`,
    /// which must differ for every connection), sends `init` (see [`regtest_init`]) and reads
    /// the node's `init`. Socket reads and writes fail after `limit`.
    pub fn connect(
        addr: SocketAddr,
        remote: PublicKey,
        local: SecretKey,
        ephemeral: SecretKey,
        init: &[u8],
        limit: Duration,
    ) -> Result<(RawPeer, ConnectTimings)> {
        let t0 = Instant::now();
        let mut stream = TcpStream::connect_timeout(&addr, limit)
            .with_context(|| format!("TCP connect to {addr}"))?;
        let tcp = t0.elapsed();
        stream.set_read_timeout(Some(limit))?;
        stream.set_write_timeout(Some(limit))?;
        stream.set_nodelay(true)?;

        let t1 = Instant::now();
        let initiator = Initiator::new(local, remote, ephemeral);
        stream
            .write_all(&initiator.act_one())
            .context("sending act one")?;
        let mut act_two = [0u8; ACT_TWO_LEN];
        if let Err(e) = stream.read_exact(&mut act_two) {
            if matches!(
                e.kind(),
                ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
            ) {
                bail!(
                    "the node closed the connection before act two (max-connections reached, \
                     or it cannot accept: look for `accept failed` in its log)"
                );
            }
            if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
                bail!(
                    "no act two within {limit:?}: the node did not take the connection (out of \
                     file descriptors? look for `accept failed` in its log)"
                );
            }
            return Err(e).context("reading act two");
        }
        let (act_three, transport) = initiator
            .process_act_two(&act_two)
            .map_err(|e| anyhow::anyhow!("bad act two: {e}"))?;
        stream.write_all(&act_three).context("sending act three")?;
        let handshake = t1.elapsed();

        let t2 = Instant::now();
        let mut peer = RawPeer { stream, transport };
        peer.send(init).context("sending init")?;
        for _ in 0..MAX_BEFORE_INIT {
            let msg = peer.recv().context("reading the node's init")?;
            let ty = msg.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
            if ty == Some(INIT_TYPE) {
                let timings = ConnectTimings {
                    tcp,
                    handshake,
                    init: t2.elapsed(),
                };
                return Ok((peer, timings));
            }
        }
        bail!("the node sent {MAX_BEFORE_INIT} messages and no init")
    }

    /// Encrypts and sends one message (type included).
    pub fn send(&mut self, msg: &[u8]) -> Result<()> {
        let frame = self
            .transport
            .encrypt(msg)
            .map_err(|e| anyhow::anyhow!("encrypting: {e}"))?;
        self.stream.write_all(&frame)?;
        Ok(())
    }

    /// Reads and decrypts one message (type included).
    pub fn recv(&mut self) -> Result<Vec<u8>> {
        let mut header = [0u8; LENGTH_HEADER_LEN];
        self.stream.read_exact(&mut header)?;
        let len = self
            .transport
            .decrypt_length(&header)
            .map_err(|e| anyhow::anyhow!("bad frame length: {e}"))?;
        let mut body = vec![0u8; usize::from(len) + MAC_LEN];
        self.stream.read_exact(&mut body)?;
        self.transport
            .decrypt_body(&body)
            .map_err(|e| anyhow::anyhow!("bad frame body: {e}"))
    }

    /// Closes the connection.
    pub fn close(self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_keys_differ_and_are_valid() {
        let a = counter_key(1, 0);
        let b = counter_key(1, 1);
        let c = counter_key(2, 1);
        assert!(a != b && b != c && a != c);
        assert_eq!(counter_key(0, 0).secret_bytes()[31], 1);
        let _ = counter_key(0xff, u64::MAX);
    }

    #[test]
    fn init_is_an_init() {
        let bytes = regtest_init();
        assert_eq!(&bytes[..2], &INIT_TYPE.to_be_bytes());
        assert!(matches!(
            Message::decode(&bytes),
            Ok(Message::Init(Init {
                networks: Some(_),
                ..
            }))
        ));
    }
}
