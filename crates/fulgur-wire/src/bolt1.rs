//! BOLT 1 "Setup Messages", "Control Messages" and "Peer Storage": `init` (16), `error` (17),
//! `warning` (1), `ping` (18), `pong` (19), `peer_storage` (7) and `peer_storage_retrieval`
//! (9).
//!
//! `init`, `error`, `warning`, `ping` and `pong` validate their extension TLV stream but drop
//! unknown odd records (BOLT 1: a receiver MAY ignore the extension), so their structs hold
//! exactly the spec's fields; `peer_storage` messages keep them like every other message.

use fulgur_types::Features;

use crate::address::NetAddress;
use crate::macros::wire_messages;
use crate::primitives::{ChainHash, ChannelId};

/// The largest `num_pong_bytes` a `ping` can ask for and still get an answer: BOLT 1 says a
/// `ping` with `num_pong_bytes` of 65532 or more MUST be ignored.
pub const MAX_PONG_BYTES: u16 = 65531;

wire_messages! {
    /// `init`: the first message on every connection, giving the sender's features.
    message Init = 16 "init" ignore_unknown_tlvs {
        /// `globalfeatures`: legacy bits (at most 13), to be ORed with `features`.
        global_features: Features,
        /// `features`.
        features: Features,
    } tlvs {
        /// Type 1 `networks`: the chains the node is interested in.
        1 => networks: Option<Vec<ChainHash>>,
        /// Type 3 `remote_addr`: the address the sender sees the receiver connecting from.
        3 => remote_addr: Option<NetAddress>,
    }

    /// `error`: fails the channel `channel_id` (all channels if it is all zeroes).
    message ErrorMessage = 17 "error" ignore_unknown_tlvs {
        /// The channel, or [`ChannelId::ALL`].
        channel_id: ChannelId,
        /// Diagnostic data (print only if printable ASCII).
        data: Vec<u8>,
    }

    /// `warning`: something is wrong but the channel is not failed.
    message Warning = 1 "warning" ignore_unknown_tlvs {
        /// The channel, or [`ChannelId::ALL`].
        channel_id: ChannelId,
        /// Diagnostic data (print only if printable ASCII).
        data: Vec<u8>,
    }

    /// `ping`: keep-alive asking for `num_pong_bytes` of padding in the `pong`.
    message Ping = 18 "ping" ignore_unknown_tlvs {
        /// How many bytes the `pong` must carry (no reply if above [`MAX_PONG_BYTES`]).
        num_pong_bytes: u16,
        /// Padding, SHOULD be zeroes.
        ignored: Vec<u8>,
    }

    /// `pong`: the answer to a `ping`.
    message Pong = 19 "pong" ignore_unknown_tlvs {
        /// Padding of the requested length, SHOULD be zeroes.
        ignored: Vec<u8>,
    }

    /// `peer_storage`: a blob (at most 65531 bytes) the peer is asked to keep for us.
    message PeerStorage = 7 "peer_storage" {
        /// The (encrypted) data.
        blob: Vec<u8>,
    }

    /// `peer_storage_retrieval`: the last blob stored for the receiver, sent back after
    /// `init`.
    message PeerStorageRetrieval = 9 "peer_storage_retrieval" {
        /// The (encrypted) data.
        blob: Vec<u8>,
    }
}

impl Init {
    /// An `init` with the given features, no legacy global features and no TLVs.
    pub fn new(features: Features) -> Init {
        Init {
            global_features: Features::new(),
            features,
            networks: None,
            remote_addr: None,
        }
    }

    /// `globalfeatures | features`: the peer's feature set per BOLT 1.
    pub fn combined_features(&self) -> Features {
        self.global_features.union(&self.features)
    }
}

/// Whether `data` is printable ASCII (bytes 32 to 126), which BOLT 1 requires before
/// printing an `error`/`warning` verbatim.
fn printable(data: &[u8]) -> Option<&str> {
    if data.iter().all(|b| (32..=126).contains(b)) {
        std::str::from_utf8(data).ok()
    } else {
        None
    }
}

impl ErrorMessage {
    /// An `error` for `channel_id` with a text explanation.
    pub fn new(channel_id: ChannelId, text: impl Into<String>) -> ErrorMessage {
        ErrorMessage {
            channel_id,
            data: text.into().into_bytes(),
        }
    }

    /// `data` as text, if it is printable ASCII.
    pub fn text(&self) -> Option<&str> {
        printable(&self.data)
    }
}

/// Another name for [`Warning`], matching [`ErrorMessage`].
pub type WarningMessage = Warning;

impl Warning {
    /// A `warning` for `channel_id` with a text explanation.
    pub fn new(channel_id: ChannelId, text: impl Into<String>) -> Warning {
        Warning {
            channel_id,
            data: text.into().into_bytes(),
        }
    }

    /// `data` as text, if it is printable ASCII.
    pub fn text(&self) -> Option<&str> {
        printable(&self.data)
    }
}

impl Ping {
    /// A `ping` asking for `num_pong_bytes`, padded with `padding_len` zero bytes.
    pub fn new(num_pong_bytes: u16, padding_len: u16) -> Ping {
        Ping {
            num_pong_bytes,
            ignored: vec![0; usize::from(padding_len)],
        }
    }

    /// The `pong` BOLT 1 requires in reply, or `None` if the ping must be ignored
    /// (`num_pong_bytes` of 65532 or more).
    pub fn reply(&self) -> Option<Pong> {
        (self.num_pong_bytes <= MAX_PONG_BYTES).then(|| Pong::new(self.num_pong_bytes))
    }
}

impl Pong {
    /// A `pong` with `len` zero bytes.
    pub fn new(len: u16) -> Pong {
        Pong {
            ignored: vec![0; usize::from(len)],
        }
    }
}
