//! Reconnection (BOLT 2 "Message Retransmission"): `channel_reestablish`, the checks of the
//! peer's commitment and revocation numbers (with `option_data_loss_protect`'s proof that
//! we fell behind), and the retransmission of `channel_ready`, `revoke_and_ack`, our last
//! `commitment_signed` batch and `shutdown`.

use fulgur_bolt3::shachain;
use fulgur_wire::{ChannelReestablish, ErrorMessage, Message};

use crate::channel::{Action, Channel, Out};
use crate::error::ChannelError;
use crate::state::{ChannelState, Side};

impl Channel {
    /// The peer connected: our `channel_reestablish`. No other channel message may be
    /// sent or accepted until the peer's arrives. A channel whose mutual close we agreed
    /// reestablishes too, so that a peer that missed our last `closing_signed` can finish.
    pub fn connected(&mut self) -> Vec<Action> {
        let mut out = Out::default();
        if !self.d.state.is_active() && self.d.state != ChannelState::ClosingdComplete {
            return out.finish();
        }
        self.live = false;
        self.awaiting_reestablish = true;
        out.send(self.reestablish_message());
        out.finish()
    }

    /// The peer disconnected (or the node restarted): forget the peer's uncommitted updates
    /// and any closing fee negotiation.
    pub fn disconnected(&mut self) {
        self.live = false;
        self.awaiting_reestablish = false;
        self.d.updates.drop_uncommitted_remote();
        self.d.closing.reset_negotiation();
    }

    fn next_revocation_number(&self) -> u64 {
        let rc = &self.d.remote_commit;
        rc.number - u64::from(rc.prev_point.is_some())
    }

    /// Our `channel_reestablish`.
    pub fn reestablish_message(&self) -> ChannelReestablish {
        let next_revocation_number = self.next_revocation_number();
        let your_last_per_commitment_secret = if next_revocation_number == 0 {
            [0; 32]
        } else {
            self.d
                .remote_secrets
                .get(shachain::MAX_INDEX - (next_revocation_number - 1))
                .unwrap_or([0; 32])
        };
        ChannelReestablish {
            unknown_tlvs: Vec::new(),
            channel_id: self.channel_id(),
            next_commitment_number: self.d.local_commit.number + 1,
            next_revocation_number,
            your_last_per_commitment_secret,
            my_current_per_commitment_point: self
                .signer
                .per_commitment_point(self.d.local_commit.number),
            next_funding: None,
            my_current_funding_locked: None,
        }
    }

    pub(crate) fn on_reestablish(
        &mut self,
        m: &ChannelReestablish,
    ) -> Result<Vec<Action>, ChannelError> {
        if !self.awaiting_reestablish {
            return Err(ChannelError::warn("unexpected channel_reestablish"));
        }
        let mut out = Out::default();
        let local_number = self.d.local_commit.number;
        if m.next_commitment_number == 0 {
            return Err(ChannelError::fail(
                "channel_reestablish with next_commitment_number 0",
            ));
        }
        // The peer's view of our revocations.
        let mut resend_revoke = false;
        if m.next_revocation_number > local_number {
            let proof = m.next_revocation_number - 1;
            if self.signer.per_commitment_secret(proof) == m.your_last_per_commitment_secret {
                // We lost state: never broadcast our (revoked) commitment; ask the peer to
                // close and wait for its commitment on chain.
                self.awaiting_reestablish = false;
                self.set_state(ChannelState::AwaitingUnilateral, &mut out);
                out.send(ErrorMessage {
                    channel_id: self.channel_id(),
                    data: format!(
                        "we have lost state: you expect revocation {} but we are at commitment {}; please close the channel",
                        m.next_revocation_number, local_number
                    )
                    .into_bytes(),
                });
                return Ok(out.finish());
            }
            return Err(ChannelError::fail(format!(
                "peer expects revocation {} but we only revoked up to {}",
                m.next_revocation_number,
                local_number.saturating_sub(1)
            )));
        }
        if m.next_revocation_number + 1 == local_number {
            resend_revoke = true;
        } else if m.next_revocation_number != local_number {
            return Err(ChannelError::fail(format!(
                "peer expects revocation {}, far behind our commitment {local_number}",
                m.next_revocation_number
            )));
        }
        if m.next_revocation_number > 0
            && self
                .signer
                .per_commitment_secret(m.next_revocation_number - 1)
                != m.your_last_per_commitment_secret
        {
            return Err(ChannelError::fail(
                "your_last_per_commitment_secret is wrong",
            ));
        }
        // The peer's view of our commitments.
        let remote_number = self.d.remote_commit.number;
        let mut resend_batch = None;
        if m.next_commitment_number == remote_number {
            match &self.d.last_sent_batch {
                Some(b) if b.commit_number == remote_number => resend_batch = Some(b.clone()),
                _ => {
                    return Err(ChannelError::fail(format!(
                        "peer expects commitment {} again but we have nothing to resend",
                        m.next_commitment_number
                    )))
                }
            }
        } else if m.next_commitment_number != remote_number + 1 {
            return Err(ChannelError::fail(format!(
                "peer expects commitment {}, we signed up to {remote_number}",
                m.next_commitment_number
            )));
        }
        if m.next_commitment_number == 1 && local_number == 0 && self.d.channel_ready_sent {
            out.send(self.channel_ready_message());
        }
        let revoke =
            resend_revoke.then(|| (self.d.last_revoke_seq, Message::from(self.revoke_message())));
        let mut batch: Vec<(u64, Vec<Message>)> = Vec::new();
        if let Some(b) = resend_batch {
            let msgs: Result<Vec<Message>, _> =
                b.messages.iter().map(|m| Message::decode(m)).collect();
            let msgs =
                msgs.map_err(|e| ChannelError::fail(format!("stored batch is corrupt: {e}")))?;
            batch.push((b.seq, msgs));
        }
        let mut ordered: Vec<(u64, Vec<Message>)> = batch;
        if let Some((seq, m)) = revoke {
            ordered.push((seq, vec![m]));
        }
        ordered.sort_by_key(|(seq, _)| *seq);
        for (_, msgs) in ordered {
            for m in msgs {
                out.push(Action::Send(m));
            }
        }
        self.awaiting_reestablish = false;
        self.live = true;
        if self.d.closing.local_shutdown_sent {
            if let Some(script) = &self.d.closing.local_script {
                out.send(fulgur_wire::Shutdown {
                    unknown_tlvs: Vec::new(),
                    channel_id: self.channel_id(),
                    scriptpubkey: script.clone(),
                });
            }
        }
        self.maybe_commit(&mut out)?;
        self.progress_close(&mut out)?;
        if self.d.state == ChannelState::ClosingdComplete && self.d.setup.opener == Side::Local {
            self.send_agreed_closing_signed(&mut out)?;
        }
        Ok(out.finish())
    }
}
