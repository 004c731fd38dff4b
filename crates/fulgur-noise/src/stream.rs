//! A byte-stream driver for the BOLT 8 handshake: feed whatever the socket
//! returned and get told what to send. The acts themselves are in
//! [`crate::handshake`].

use secp256k1::{PublicKey, SecretKey};

use crate::error::{Act, HandshakeError};
use crate::handshake::{Initiator, Responder};
use crate::transport::Transport;
use crate::{ACT_ONE_LEN, ACT_THREE_LEN, ACT_TWO_LEN};

/// What the handshake needs next.
#[derive(Debug)]
enum Stage {
    InitiatorAwaitingActTwo(Initiator),
    ResponderAwaitingActOne(Responder),
    ResponderAwaitingActThree(Responder),
    Finished,
    Failed,
}

/// Something the caller must do after a [`HandshakeStream::feed`].
#[derive(Debug)]
pub enum HandshakeEvent {
    /// Responder only: send these 50 bytes (act two) to the initiator.
    SendActTwo([u8; ACT_TWO_LEN]),
    /// The handshake succeeded.
    Complete(Box<HandshakeComplete>),
}

/// The result of a successful handshake.
#[derive(Debug)]
pub struct HandshakeComplete {
    /// Initiator only: act three, to send before any transport message.
    pub act_three: Option<[u8; ACT_THREE_LEN]>,
    /// The established transport.
    pub transport: Transport,
    /// The peer's static public key (its node id).
    pub remote_static: PublicKey,
}

/// What one [`HandshakeStream::feed`] call did.
#[derive(Debug)]
#[must_use = "bytes past `consumed` were not taken, and an event may need sending"]
pub struct Progress {
    /// How many bytes of the input were taken. Bytes after them belong to
    /// the next act or, once the handshake is complete, to the transport.
    pub consumed: usize,
    /// What to do now, if anything.
    pub event: Option<HandshakeEvent>,
}

/// Drives either role of the handshake over a byte stream of arbitrary
/// chunking. It buffers at most one act (66 bytes).
///
/// A failed handshake refuses further input. When the peer closes the stream
/// early, [`HandshakeStream::on_eof`] says which act was cut short.
#[derive(Debug)]
pub struct HandshakeStream {
    stage: Stage,
    buf: [u8; ACT_THREE_LEN],
    filled: usize,
}

impl HandshakeStream {
    /// Starts the initiator's side; returns the driver and act one, which the
    /// caller sends first. See [`Initiator::new`] for the keys.
    pub fn initiator(
        local_static: SecretKey,
        remote_static: PublicKey,
        ephemeral: SecretKey,
    ) -> (Self, [u8; ACT_ONE_LEN]) {
        let initiator = Initiator::new(local_static, remote_static, ephemeral);
        let act_one = initiator.act_one();
        (
            Self::with_stage(Stage::InitiatorAwaitingActTwo(initiator)),
            act_one,
        )
    }

    /// Starts the responder's side. See [`Responder::new`] for the keys.
    pub fn responder(local_static: SecretKey, ephemeral: SecretKey) -> Self {
        Self::with_stage(Stage::ResponderAwaitingActOne(Responder::new(
            local_static,
            ephemeral,
        )))
    }

    fn with_stage(stage: Stage) -> Self {
        HandshakeStream {
            stage,
            buf: [0; ACT_THREE_LEN],
            filled: 0,
        }
    }

    /// The act being waited for, or `None` once finished or failed.
    pub fn awaited_act(&self) -> Option<Act> {
        match self.stage {
            Stage::InitiatorAwaitingActTwo(_) => Some(Act::Two),
            Stage::ResponderAwaitingActOne(_) => Some(Act::One),
            Stage::ResponderAwaitingActThree(_) => Some(Act::Three),
            Stage::Finished | Stage::Failed => None,
        }
    }

    /// How many more bytes complete the awaited act; 0 when none is awaited.
    pub fn bytes_needed(&self) -> usize {
        self.awaited_act()
            .map_or(0, |act| act.wire_len() - self.filled)
    }

    /// Takes bytes up to the end of the awaited act and processes the act
    /// once complete. Feed the remaining bytes again unless the handshake is
    /// complete, in which case they belong to the transport.
    pub fn feed(&mut self, data: &[u8]) -> Result<Progress, HandshakeError> {
        let act = match (&self.stage, self.awaited_act()) {
            (_, Some(act)) => act,
            (Stage::Finished, None) => return Err(HandshakeError::Finished),
            (_, None) => return Err(HandshakeError::Aborted),
        };
        let take = data.len().min(act.wire_len() - self.filled);
        self.buf[self.filled..self.filled + take].copy_from_slice(&data[..take]);
        self.filled += take;
        if self.filled < act.wire_len() {
            return Ok(Progress {
                consumed: take,
                event: None,
            });
        }
        self.filled = 0;
        let event = self.process().inspect_err(|_| self.stage = Stage::Failed)?;
        Ok(Progress {
            consumed: take,
            event: Some(event),
        })
    }

    /// Runs the complete act in `buf` through the role's state machine.
    fn process(&mut self) -> Result<HandshakeEvent, HandshakeError> {
        match std::mem::replace(&mut self.stage, Stage::Failed) {
            Stage::InitiatorAwaitingActTwo(initiator) => {
                let mut act = [0u8; ACT_TWO_LEN];
                act.copy_from_slice(&self.buf[..ACT_TWO_LEN]);
                let remote_static = initiator.remote_static();
                let (act_three, transport) = initiator.process_act_two(&act)?;
                self.stage = Stage::Finished;
                Ok(HandshakeEvent::Complete(Box::new(HandshakeComplete {
                    act_three: Some(act_three),
                    transport,
                    remote_static,
                })))
            }
            Stage::ResponderAwaitingActOne(mut responder) => {
                let mut act = [0u8; ACT_ONE_LEN];
                act.copy_from_slice(&self.buf[..ACT_ONE_LEN]);
                let act_two = responder.process_act_one(&act)?;
                self.stage = Stage::ResponderAwaitingActThree(responder);
                Ok(HandshakeEvent::SendActTwo(act_two))
            }
            Stage::ResponderAwaitingActThree(responder) => {
                let (transport, remote_static) = responder.process_act_three(&self.buf)?;
                self.stage = Stage::Finished;
                Ok(HandshakeEvent::Complete(Box::new(HandshakeComplete {
                    act_three: None,
                    transport,
                    remote_static,
                })))
            }
            Stage::Finished => {
                self.stage = Stage::Finished;
                Err(HandshakeError::Finished)
            }
            Stage::Failed => Err(HandshakeError::Aborted),
        }
    }

    /// Tells the driver the peer closed the stream. Returns `Ok` if the
    /// handshake had finished, otherwise the short-read error for the act
    /// that was cut off; the driver is then failed.
    pub fn on_eof(&mut self) -> Result<(), HandshakeError> {
        match (&self.stage, self.awaited_act()) {
            (Stage::Finished, _) => Ok(()),
            (_, Some(act)) => {
                let got = self.filled;
                self.stage = Stage::Failed;
                Err(HandshakeError::Truncated { act, got })
            }
            (_, None) => Err(HandshakeError::Aborted),
        }
    }
}
