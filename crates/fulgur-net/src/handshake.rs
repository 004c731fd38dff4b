//! Runs the BOLT 8 handshake ("Authenticated Key Exchange Handshake") over a TCP stream with a
//! time limit, for both roles, and classifies failures by act.

use crate::error::Failure;
use fulgur_noise::{Initiator, Responder, Transport};
use secp256k1::{PublicKey, SecretKey};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A fresh ephemeral key from the operating system's randomness.
pub fn ephemeral_key() -> SecretKey {
    loop {
        let mut bytes = [0u8; 32];
        if getrandom::getrandom(&mut bytes).is_err() {
            continue;
        }
        if let Ok(k) = SecretKey::from_slice(&bytes) {
            return k;
        }
    }
}

/// Our side of an outgoing connection: sends act one, reads act two, sends act three.
pub async fn outbound(
    stream: &mut TcpStream,
    our_key: SecretKey,
    their_id: PublicKey,
    limit: Duration,
) -> Result<Transport, Failure> {
    let initiator = Initiator::new(our_key, their_id, ephemeral_key());
    let work = async {
        let act_one = initiator.act_one();
        stream
            .write_all(&act_one)
            .await
            .map_err(|e| Failure::Tcp(e.to_string()))?;
        let mut act_two = [0u8; 50];
        match stream.read_exact(&mut act_two).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(Failure::ClosedDuringAct2)
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Err(Failure::ClosedDuringAct2)
            }
            Err(e) => return Err(Failure::Tcp(e.to_string())),
        }
        let (act_three, transport) = initiator
            .process_act_two(&act_two)
            .map_err(|e| Failure::Act2(e.to_string()))?;
        stream
            .write_all(&act_three)
            .await
            .map_err(|e| Failure::Tcp(e.to_string()))?;
        Ok(transport)
    };
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| Failure::HandshakeTimeout(limit))?
}

/// Why an incoming handshake failed (logged; nothing is reported to the peer).
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// The peer closed or the socket failed.
    #[error("connection lost during handshake: {0}")]
    Io(#[from] std::io::Error),
    /// The peer's act one or act three was invalid.
    #[error("{0}")]
    Handshake(String),
    /// The peer was too slow.
    #[error("handshake not completed within {0:?}")]
    Timeout(Duration),
}

/// The responder's side of an incoming connection; returns the transport and the peer's id.
pub async fn inbound(
    stream: &mut TcpStream,
    our_key: SecretKey,
    limit: Duration,
) -> Result<(Transport, PublicKey), InboundError> {
    let mut responder = Responder::new(our_key, ephemeral_key());
    let work = async {
        let mut act_one = [0u8; 50];
        stream.read_exact(&mut act_one).await?;
        let act_two = responder
            .process_act_one(&act_one)
            .map_err(|e| InboundError::Handshake(e.to_string()))?;
        stream.write_all(&act_two).await?;
        let mut act_three = [0u8; 66];
        stream.read_exact(&mut act_three).await?;
        responder
            .process_act_three(&act_three)
            .map_err(|e| InboundError::Handshake(e.to_string()))
    };
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| InboundError::Timeout(limit))?
}
