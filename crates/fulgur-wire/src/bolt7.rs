//! BOLT 7 "P2P Node and Channel Discovery": `channel_announcement` (256),
//! `node_announcement` (257), `channel_update` (258), `announcement_signatures` (259) and the
//! "Query Messages" `query_short_channel_ids` (261), `reply_short_channel_ids_end` (262),
//! `query_channel_range` (263), `reply_channel_range` (264) and `gossip_timestamp_filter`
//! (265).
//!
//! Arrays of short channel ids, timestamps and query flags carry an `encoding_type` byte.
//! Only type 0 (uncompressed) is allowed; type 1 (zlib) is forbidden by the current spec and
//! decodes to [`WireError::UnsupportedEncoding`], which the receiver answers with a
//! `warning`.

use fulgur_types::Features;

use crate::address::NetAddress;
use crate::bigsize::{read_bigsize, write_bigsize};
use crate::error::WireError;
use crate::macros::wire_messages;
use crate::primitives::{
    ChainHash, ChannelId, Codec, PublicKey, Reader, ShortChannelId, Signature, Writer,
};
use crate::tlv::{decode_array, TlvValue};

/// The only `encoding_type` BOLT 7 allows: an uncompressed array.
pub const ENCODING_UNCOMPRESSED: u8 = 0;

/// Splits the `encoding_type` byte off, requiring it to be uncompressed.
fn uncompressed(bytes: &[u8]) -> Result<&[u8], WireError> {
    match bytes.split_first() {
        Some((&ENCODING_UNCOMPRESSED, rest)) => Ok(rest),
        Some((&other, _)) => Err(WireError::UnsupportedEncoding(other)),
        None => Err(WireError::Truncated {
            needed: 1,
            available: 0,
        }),
    }
}

/// `encoded_short_ids`: a `u16` length, the `encoding_type` byte, then the ids.
///
/// An empty field (length 0, without even the encoding byte) is read as no ids; encoding
/// always writes the encoding byte.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodedShortIds(pub Vec<ShortChannelId>);

impl Codec for EncodedShortIds {
    fn encode(&self, w: &mut Writer) {
        let mut inner = Writer::new();
        inner.bytes(&[ENCODING_UNCOMPRESSED]);
        for id in &self.0 {
            id.encode(&mut inner);
        }
        w.u16_prefixed(inner.as_bytes());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let bytes = r.u16_prefixed()?;
        if bytes.is_empty() {
            return Ok(EncodedShortIds(Vec::new()));
        }
        decode_array(uncompressed(bytes)?, 8).map(EncodedShortIds)
    }
}

/// `query_short_channel_ids`'s `query_flags` TLV: the `encoding_type` byte, then one
/// minimal BigSize of flags per queried id (see the `QUERY_FLAG_*` constants).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodedQueryFlags(pub Vec<u64>);

/// Query flag bit 0: the sender wants the `channel_announcement`.
pub const QUERY_FLAG_CHANNEL_ANNOUNCEMENT: u64 = 1 << 0;
/// Query flag bit 1: the sender wants `node_id_1`'s `channel_update`.
pub const QUERY_FLAG_CHANNEL_UPDATE_1: u64 = 1 << 1;
/// Query flag bit 2: the sender wants `node_id_2`'s `channel_update`.
pub const QUERY_FLAG_CHANNEL_UPDATE_2: u64 = 1 << 2;
/// Query flag bit 3: the sender wants `node_id_1`'s `node_announcement`.
pub const QUERY_FLAG_NODE_ANNOUNCEMENT_1: u64 = 1 << 3;
/// Query flag bit 4: the sender wants `node_id_2`'s `node_announcement`.
pub const QUERY_FLAG_NODE_ANNOUNCEMENT_2: u64 = 1 << 4;

impl TlvValue for EncodedQueryFlags {
    fn encode_value(&self, w: &mut Writer) {
        w.bytes(&[ENCODING_UNCOMPRESSED]);
        for flags in &self.0 {
            write_bigsize(w, *flags);
        }
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(uncompressed(value)?);
        let mut flags = Vec::new();
        while !r.is_empty() {
            flags.push(read_bigsize(&mut r)?);
        }
        Ok(EncodedQueryFlags(flags))
    }
}

/// `query_channel_range`'s `query_option` TLV: a minimal BigSize bitfield.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueryOptionFlags(pub u64);

impl QueryOptionFlags {
    /// Bit 0: the sender wants timestamps.
    pub const WANT_TIMESTAMPS: u64 = 1 << 0;
    /// Bit 1: the sender wants checksums.
    pub const WANT_CHECKSUMS: u64 = 1 << 1;

    /// Whether timestamps are wanted.
    pub fn wants_timestamps(self) -> bool {
        self.0 & Self::WANT_TIMESTAMPS != 0
    }

    /// Whether checksums are wanted.
    pub fn wants_checksums(self) -> bool {
        self.0 & Self::WANT_CHECKSUMS != 0
    }
}

impl TlvValue for QueryOptionFlags {
    fn encode_value(&self, w: &mut Writer) {
        write_bigsize(w, self.0);
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(value);
        let v = read_bigsize(&mut r)?;
        r.finish()?;
        Ok(QueryOptionFlags(v))
    }
}

crate::wire_struct! {
    /// The `channel_update_timestamps` subtype: the two directions' latest update times
    /// (0 when there is none).
    pub struct ChannelUpdateTimestamps {
        /// `node_id_1`'s update.
        pub timestamp_node_id_1: u32,
        /// `node_id_2`'s update.
        pub timestamp_node_id_2: u32,
    }
}

crate::wire_struct! {
    /// The `channel_update_checksums` subtype: CRC32C of each direction's latest update
    /// without signature and timestamp (0 when there is none).
    pub struct ChannelUpdateChecksums {
        /// `node_id_1`'s update.
        pub checksum_node_id_1: u32,
        /// `node_id_2`'s update.
        pub checksum_node_id_2: u32,
    }
}

/// `reply_channel_range`'s `timestamps_tlv`: the `encoding_type` byte, then one
/// [`ChannelUpdateTimestamps`] per id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodedTimestamps(pub Vec<ChannelUpdateTimestamps>);

impl TlvValue for EncodedTimestamps {
    fn encode_value(&self, w: &mut Writer) {
        w.bytes(&[ENCODING_UNCOMPRESSED]);
        for t in &self.0 {
            t.encode(w);
        }
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        decode_array(uncompressed(value)?, 8).map(EncodedTimestamps)
    }
}

/// `reply_channel_range`'s `checksums_tlv`: one [`ChannelUpdateChecksums`] per id, no
/// encoding byte.
impl TlvValue for Vec<ChannelUpdateChecksums> {
    fn encode_value(&self, w: &mut Writer) {
        for c in self {
            c.encode(w);
        }
    }
    fn decode_value(value: &[u8]) -> Result<Self, WireError> {
        decode_array(value, 8)
    }
}

wire_messages! {
    /// `announcement_signatures`: a channel party's signatures for the
    /// `channel_announcement`.
    message AnnouncementSignatures = 259 "announcement_signatures" {
        /// The channel.
        channel_id: ChannelId,
        /// Its short id.
        short_channel_id: ShortChannelId,
        /// Signature by the sender's node key.
        node_signature: Signature,
        /// Signature by the sender's funding key.
        bitcoin_signature: Signature,
    }

    /// `channel_announcement`: proves a channel exists between two nodes.
    message ChannelAnnouncement = 256 "channel_announcement" {
        /// Signature by `node_id_1`.
        node_signature_1: Signature,
        /// Signature by `node_id_2`.
        node_signature_2: Signature,
        /// Signature by `bitcoin_key_1`.
        bitcoin_signature_1: Signature,
        /// Signature by `bitcoin_key_2`.
        bitcoin_signature_2: Signature,
        /// Channel features (BOLT 9, context `C`).
        features: Features,
        /// The chain.
        chain_hash: ChainHash,
        /// The funding output.
        short_channel_id: ShortChannelId,
        /// The lesser node id.
        node_id_1: PublicKey,
        /// The greater node id.
        node_id_2: PublicKey,
        /// `node_id_1`'s funding key.
        bitcoin_key_1: PublicKey,
        /// `node_id_2`'s funding key.
        bitcoin_key_2: PublicKey,
    }

    /// `node_announcement`: a node's features, alias and addresses.
    message NodeAnnouncement = 257 "node_announcement" {
        /// Signature by `node_id` of the rest of the message.
        signature: Signature,
        /// Node features (BOLT 9, context `N`).
        features: Features,
        /// Orders announcements from the same node.
        timestamp: u32,
        /// The node.
        node_id: PublicKey,
        /// Display color.
        rgb_color: [u8; 3],
        /// Display name, zero-padded UTF-8.
        alias: [u8; 32],
        /// Address descriptors (`addrlen`, `addresses`).
        addresses: Vec<NetAddress>,
    }

    /// `channel_update`: one direction's routing policy.
    message ChannelUpdate = 258 "channel_update" {
        /// Signature by the originating node.
        signature: Signature,
        /// The chain.
        chain_hash: ChainHash,
        /// The channel.
        short_channel_id: ShortChannelId,
        /// Orders updates.
        timestamp: u32,
        /// Bit 0 `must_be_one`, bit 1 `dont_forward`.
        message_flags: u8,
        /// Bit 0 `direction`, bit 1 `disable`.
        channel_flags: u8,
        /// Blocks subtracted from an incoming HTLC's expiry.
        cltv_expiry_delta: u16,
        /// Smallest HTLC accepted.
        htlc_minimum_msat: u64,
        /// Base fee.
        fee_base_msat: u32,
        /// Proportional fee.
        fee_proportional_millionths: u32,
        /// Largest HTLC accepted.
        htlc_maximum_msat: u64,
    }

    /// `query_short_channel_ids`: asks for the gossip of specific channels.
    message QueryShortChannelIds = 261 "query_short_channel_ids" {
        /// The chain.
        chain_hash: ChainHash,
        /// The channels.
        encoded_short_ids: EncodedShortIds,
    } tlvs {
        /// Type 1: per-channel flags saying what to send.
        1 => query_flags: Option<EncodedQueryFlags>,
    }

    /// `reply_short_channel_ids_end`: ends the answer to a `query_short_channel_ids`.
    message ReplyShortChannelIdsEnd = 262 "reply_short_channel_ids_end" {
        /// The chain.
        chain_hash: ChainHash,
        /// 1 if the sender has up-to-date information for the chain.
        full_information: u8,
    }

    /// `query_channel_range`: asks for the channels in a block range.
    message QueryChannelRange = 263 "query_channel_range" {
        /// The chain.
        chain_hash: ChainHash,
        /// First block.
        first_blocknum: u32,
        /// Number of blocks (at least 1).
        number_of_blocks: u32,
    } tlvs {
        /// Type 1: wanted extra information.
        1 => query_option: Option<QueryOptionFlags>,
    }

    /// `reply_channel_range`: channels in (part of) a queried range.
    message ReplyChannelRange = 264 "reply_channel_range" {
        /// The chain.
        chain_hash: ChainHash,
        /// First block covered.
        first_blocknum: u32,
        /// Number of blocks covered.
        number_of_blocks: u32,
        /// 1 on the last reply.
        sync_complete: u8,
        /// The channels, ascending.
        encoded_short_ids: EncodedShortIds,
    } tlvs {
        /// Type 1: update timestamps per channel.
        1 => timestamps_tlv: Option<EncodedTimestamps>,
        /// Type 3: update checksums per channel.
        3 => checksums_tlv: Option<Vec<ChannelUpdateChecksums>>,
    }

    /// `gossip_timestamp_filter`: which gossip the sender wants relayed.
    message GossipTimestampFilter = 265 "gossip_timestamp_filter" {
        /// The chain.
        chain_hash: ChainHash,
        /// Earliest timestamp wanted.
        first_timestamp: u32,
        /// Width of the window.
        timestamp_range: u32,
    }
}

impl ChannelUpdate {
    /// `channel_flags` bit 0: 0 if the update comes from `node_id_1`, 1 from `node_id_2`.
    pub fn direction(&self) -> u8 {
        self.channel_flags & 1
    }

    /// `channel_flags` bit 1: the channel is disabled.
    pub fn is_disabled(&self) -> bool {
        self.channel_flags & 2 != 0
    }

    /// `message_flags` bit 1: the channel must not be forwarded (private).
    pub fn dont_forward(&self) -> bool {
        self.message_flags & 2 != 0
    }
}

impl NodeAnnouncement {
    /// The alias up to its first zero byte, if that is UTF-8.
    pub fn alias_str(&self) -> Option<&str> {
        let end = self
            .alias
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(self.alias.len());
        std::str::from_utf8(self.alias.get(..end)?).ok()
    }
}
