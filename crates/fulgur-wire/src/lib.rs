//! Lightning wire messages, sans-IO: the BOLT 1 message format and fundamental types, TLV
//! streams, and the messages of BOLT 1 (setup, control, peer storage), BOLT 2 (channel
//! establishment v1 and v2, interactive transactions, quiescence, splicing, close, normal
//! operation, reestablish), BOLT 7 (gossip and queries) and BOLT 4's `onion_message`.
//!
//! * [`Message::decode`] takes the bytes of one decrypted message (2-byte type, payload,
//!   extension) and never panics; errors say what BOLT 1 requires
//!   ([`DecodeError::consequence`]).
//! * [`Message::encode`] writes one; `decode(encode(m)) == m` for every message.
//! * Each message is described once, in a `wire_messages!` table in its BOLT's module, which
//!   generates the struct, its codec and (in tests) its proptest strategy.
//!
//! Decoding never allocates on the strength of a length read from the wire: every length is
//! checked against the bytes actually present first.

mod macros;

pub mod address;
pub mod bigsize;
pub mod bolt1;
pub mod bolt2;
pub mod bolt2_interactive;
pub mod bolt2_splice;
pub mod bolt4;
pub mod bolt7;
pub mod error;
pub mod message;
pub mod primitives;
pub mod tlv;

#[cfg(test)]
mod arbitrary;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod roundtrip_tests;

pub use address::NetAddress;
pub use bigsize::{BigSize, Tu16, Tu32, Tu64};
pub use bolt1::{
    ErrorMessage, Init, PeerStorage, PeerStorageRetrieval, Ping, Pong, Warning, WarningMessage,
    MAX_PONG_BYTES,
};
pub use bolt2::{
    AcceptChannel, AttributionData, ChannelReady, ChannelReestablish, ClosingComplete, ClosingSig,
    ClosingSigned, CommitmentSigned, FeeRange, FundingCreated, FundingSigned,
    MyCurrentFundingLocked, NextFunding, OpenChannel, RevokeAndAck, Shutdown, StartBatch,
    UpdateAddHtlc, UpdateFailHtlc, UpdateFailMalformedHtlc, UpdateFee, UpdateFulfillHtlc,
    ONION_PACKET_LEN,
};
pub use bolt2_interactive::{
    AcceptChannel2, OpenChannel2, TxAbort, TxAckRbf, TxAddInput, TxAddOutput, TxComplete,
    TxInitRbf, TxRemoveInput, TxRemoveOutput, TxSignatures, Witness,
};
pub use bolt2_splice::{SpliceAck, SpliceInit, SpliceLocked, Stfu};
pub use bolt4::OnionMessage;
pub use bolt7::{
    AnnouncementSignatures, ChannelAnnouncement, ChannelUpdate, ChannelUpdateChecksums,
    ChannelUpdateTimestamps, EncodedQueryFlags, EncodedShortIds, EncodedTimestamps,
    GossipTimestampFilter, NodeAnnouncement, QueryChannelRange, QueryOptionFlags,
    QueryShortChannelIds, ReplyChannelRange, ReplyShortChannelIdsEnd,
};
pub use error::{Consequence, DecodeError, EncodeError, WireError};
pub use fulgur_types::{Feature, Features};
pub use message::{decode, encode, Message, WireMessage, KNOWN_MESSAGE_TYPES, MAX_MESSAGE_LEN};
pub use primitives::{
    ChainHash, ChannelId, Codec, PublicKey, Reader, Sha256, ShortChannelId, Signature, Txid, Writer,
};
pub use tlv::{TlvField, TlvReader, TlvRecord, TlvValue};
