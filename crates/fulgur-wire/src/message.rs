//! BOLT 1 "Lightning Message Format": a 2-byte big-endian type, then the payload, then an
//! optional extension TLV stream. [`Message`] is every message this crate knows, plus
//! [`Message::Unknown`] for odd types it does not ("it's ok to be odd").

use crate::bolt1::{ErrorMessage, Init, PeerStorage, PeerStorageRetrieval, Ping, Pong, Warning};
use crate::bolt2::{
    AcceptChannel, ChannelReady, ChannelReestablish, ClosingComplete, ClosingSig, ClosingSigned,
    CommitmentSigned, FundingCreated, FundingSigned, OpenChannel, RevokeAndAck, Shutdown,
    StartBatch, UpdateAddHtlc, UpdateFailHtlc, UpdateFailMalformedHtlc, UpdateFee,
    UpdateFulfillHtlc,
};
use crate::bolt2_interactive::{
    AcceptChannel2, OpenChannel2, TxAbort, TxAckRbf, TxAddInput, TxAddOutput, TxComplete,
    TxInitRbf, TxRemoveInput, TxRemoveOutput, TxSignatures,
};
use crate::bolt2_splice::{SpliceAck, SpliceInit, SpliceLocked, Stfu};
use crate::bolt4::OnionMessage;
use crate::bolt7::{
    AnnouncementSignatures, ChannelAnnouncement, ChannelUpdate, GossipTimestampFilter,
    NodeAnnouncement, QueryChannelRange, QueryShortChannelIds, ReplyChannelRange,
    ReplyShortChannelIdsEnd,
};
use crate::error::{DecodeError, EncodeError, WireError};
use crate::primitives::{Codec, Writer};

/// The largest message BOLT 8 can carry (type included).
pub const MAX_MESSAGE_LEN: usize = 65535;

/// A message type with its payload codec (generated for each message struct).
pub trait WireMessage: Sized {
    /// The 2-byte message type.
    const TYPE: u16;
    /// The name the BOLTs give the message.
    const NAME: &'static str;

    /// Appends the payload: the fields, then the extension TLV stream.
    fn encode_payload(&self, w: &mut Writer);

    /// Decodes a payload (everything after the type). Bytes after the known fields must
    /// form a valid TLV stream.
    fn decode_payload(payload: &[u8]) -> Result<Self, WireError>;

    /// The whole message: type, then payload.
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        Self::TYPE.encode(&mut w);
        self.encode_payload(&mut w);
        w.into_bytes()
    }
}

macro_rules! message_enum {
    ($( $(#[$meta:meta])* $variant:ident($ty:ident) ),* $(,)?) => {
        /// Any Lightning message.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(clippy::large_enum_variant, reason = "messages are moved rarely; keeps matching simple")]
        pub enum Message {
            $( $(#[$meta])* $variant($ty), )*
            /// A message of an odd type this crate does not know: BOLT 1 says to ignore it.
            Unknown {
                /// The message type (odd when decoded).
                msg_type: u16,
                /// The payload, undecoded.
                payload: Vec<u8>,
            },
        }

        /// Every message type [`Message`] decodes, in declaration order.
        pub const KNOWN_MESSAGE_TYPES: &[u16] = &[$( $ty::TYPE ),*];

        impl Message {
            /// The message type.
            pub fn msg_type(&self) -> u16 {
                match self {
                    $( Message::$variant(_) => $ty::TYPE, )*
                    Message::Unknown { msg_type, .. } => *msg_type,
                }
            }

            /// The BOLT name of the message (`"unknown"` for [`Message::Unknown`]).
            pub fn name(&self) -> &'static str {
                match self {
                    $( Message::$variant(_) => $ty::NAME, )*
                    Message::Unknown { .. } => "unknown",
                }
            }

            /// The BOLT name of a known message type.
            pub fn type_name(msg_type: u16) -> Option<&'static str> {
                match msg_type {
                    $( $ty::TYPE => Some($ty::NAME), )*
                    _ => None,
                }
            }

            /// Decodes a message: 2-byte type, then payload. An unknown odd type gives
            /// [`Message::Unknown`]; an unknown even type is an error (disconnect).
            pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
                let Some((type_bytes, payload)) = bytes.split_first_chunk::<2>() else {
                    return Err(DecodeError::MissingType);
                };
                let msg_type = u16::from_be_bytes(*type_bytes);
                match msg_type {
                    $( $ty::TYPE => <$ty as WireMessage>::decode_payload(payload)
                        .map(Message::$variant)
                        .map_err(|e| DecodeError::invalid(msg_type, $ty::NAME, e)), )*
                    odd if odd % 2 == 1 => Ok(Message::Unknown {
                        msg_type,
                        payload: payload.to_vec(),
                    }),
                    even => Err(DecodeError::UnknownEvenType(even)),
                }
            }

            fn encode_to(&self, w: &mut Writer) {
                self.msg_type().encode(w);
                match self {
                    $( Message::$variant(m) => m.encode_payload(w), )*
                    Message::Unknown { payload, .. } => w.bytes(payload),
                }
            }
        }

        $(
            impl From<$ty> for Message {
                fn from(m: $ty) -> Message {
                    Message::$variant(m)
                }
            }
        )*

        #[cfg(test)]
        impl $crate::arbitrary::WireArbitrary for Message {
            fn strategy() -> ::proptest::strategy::BoxedStrategy<Self> {
                use ::proptest::prelude::*;
                let unknown = (any::<u16>(), <Vec<u8>>::strategy())
                    .prop_map(|(t, payload)| (t | 1, payload))
                    .prop_filter("unknown type", |(t, _)| !KNOWN_MESSAGE_TYPES.contains(t))
                    .prop_map(|(msg_type, payload)| Message::Unknown { msg_type, payload });
                proptest::strategy::Union::new(vec![
                    $( <$ty>::strategy().prop_map(Message::$variant).boxed(), )*
                    unknown.boxed(),
                ])
                .boxed()
            }
        }

        /// One generated value per message type, for tests that must cover all of them.
        #[cfg(test)]
        pub(crate) fn strategies_by_type(
        ) -> Vec<(u16, ::proptest::strategy::BoxedStrategy<Message>)> {
            use ::proptest::strategy::Strategy;
            use $crate::arbitrary::WireArbitrary;
            vec![$(
                ($ty::TYPE, <$ty>::strategy().prop_map(Message::$variant).boxed()),
            )*]
        }
    };
}

message_enum! {
    /// BOLT 1 `warning` (1).
    Warning(Warning),
    /// BOLT 2 `stfu` (2).
    Stfu(Stfu),
    /// BOLT 1 `peer_storage` (7).
    PeerStorage(PeerStorage),
    /// BOLT 1 `peer_storage_retrieval` (9).
    PeerStorageRetrieval(PeerStorageRetrieval),
    /// BOLT 1 `init` (16).
    Init(Init),
    /// BOLT 1 `error` (17).
    Error(ErrorMessage),
    /// BOLT 1 `ping` (18).
    Ping(Ping),
    /// BOLT 1 `pong` (19).
    Pong(Pong),
    /// BOLT 2 `open_channel` (32).
    OpenChannel(OpenChannel),
    /// BOLT 2 `accept_channel` (33).
    AcceptChannel(AcceptChannel),
    /// BOLT 2 `funding_created` (34).
    FundingCreated(FundingCreated),
    /// BOLT 2 `funding_signed` (35).
    FundingSigned(FundingSigned),
    /// BOLT 2 `channel_ready` (36).
    ChannelReady(ChannelReady),
    /// BOLT 2 `shutdown` (38).
    Shutdown(Shutdown),
    /// BOLT 2 `closing_signed` (39).
    ClosingSigned(ClosingSigned),
    /// BOLT 2 `closing_complete` (40).
    ClosingComplete(ClosingComplete),
    /// BOLT 2 `closing_sig` (41).
    ClosingSig(ClosingSig),
    /// BOLT 2 `open_channel2` (64).
    OpenChannel2(OpenChannel2),
    /// BOLT 2 `accept_channel2` (65).
    AcceptChannel2(AcceptChannel2),
    /// BOLT 2 `tx_add_input` (66).
    TxAddInput(TxAddInput),
    /// BOLT 2 `tx_add_output` (67).
    TxAddOutput(TxAddOutput),
    /// BOLT 2 `tx_remove_input` (68).
    TxRemoveInput(TxRemoveInput),
    /// BOLT 2 `tx_remove_output` (69).
    TxRemoveOutput(TxRemoveOutput),
    /// BOLT 2 `tx_complete` (70).
    TxComplete(TxComplete),
    /// BOLT 2 `tx_signatures` (71).
    TxSignatures(TxSignatures),
    /// BOLT 2 `tx_init_rbf` (72).
    TxInitRbf(TxInitRbf),
    /// BOLT 2 `tx_ack_rbf` (73).
    TxAckRbf(TxAckRbf),
    /// BOLT 2 `tx_abort` (74).
    TxAbort(TxAbort),
    /// BOLT 2 `splice_locked` (77).
    SpliceLocked(SpliceLocked),
    /// BOLT 2 `splice_init` (80).
    SpliceInit(SpliceInit),
    /// BOLT 2 `splice_ack` (81).
    SpliceAck(SpliceAck),
    /// BOLT 2 `start_batch` (127).
    StartBatch(StartBatch),
    /// BOLT 2 `update_add_htlc` (128).
    UpdateAddHtlc(UpdateAddHtlc),
    /// BOLT 2 `update_fulfill_htlc` (130).
    UpdateFulfillHtlc(UpdateFulfillHtlc),
    /// BOLT 2 `update_fail_htlc` (131).
    UpdateFailHtlc(UpdateFailHtlc),
    /// BOLT 2 `commitment_signed` (132).
    CommitmentSigned(CommitmentSigned),
    /// BOLT 2 `revoke_and_ack` (133).
    RevokeAndAck(RevokeAndAck),
    /// BOLT 2 `update_fee` (134).
    UpdateFee(UpdateFee),
    /// BOLT 2 `update_fail_malformed_htlc` (135).
    UpdateFailMalformedHtlc(UpdateFailMalformedHtlc),
    /// BOLT 2 `channel_reestablish` (136).
    ChannelReestablish(ChannelReestablish),
    /// BOLT 7 `channel_announcement` (256).
    ChannelAnnouncement(ChannelAnnouncement),
    /// BOLT 7 `node_announcement` (257).
    NodeAnnouncement(NodeAnnouncement),
    /// BOLT 7 `channel_update` (258).
    ChannelUpdate(ChannelUpdate),
    /// BOLT 7 `announcement_signatures` (259).
    AnnouncementSignatures(AnnouncementSignatures),
    /// BOLT 7 `query_short_channel_ids` (261).
    QueryShortChannelIds(QueryShortChannelIds),
    /// BOLT 7 `reply_short_channel_ids_end` (262).
    ReplyShortChannelIdsEnd(ReplyShortChannelIdsEnd),
    /// BOLT 7 `query_channel_range` (263).
    QueryChannelRange(QueryChannelRange),
    /// BOLT 7 `reply_channel_range` (264).
    ReplyChannelRange(ReplyChannelRange),
    /// BOLT 7 `gossip_timestamp_filter` (265).
    GossipTimestampFilter(GossipTimestampFilter),
    /// BOLT 4 `onion_message` (513).
    OnionMessage(OnionMessage),
}

impl Message {
    /// Encodes the message (type, payload, extension). Never fails: a length-prefixed field
    /// longer than its prefix allows is cut to fit, which already makes the message longer
    /// than the 65535 bytes BOLT 8 can carry; use [`Message::try_encode`] to be told.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode_to(&mut w);
        w.into_bytes()
    }

    /// Encodes the message, failing if a field does not fit its length prefix or the result
    /// exceeds [`MAX_MESSAGE_LEN`].
    pub fn try_encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        self.encode_to(&mut w);
        if w.overflowed() {
            return Err(EncodeError::FieldTooLong);
        }
        if w.len() > MAX_MESSAGE_LEN {
            return Err(EncodeError::MessageTooLong(w.len()));
        }
        Ok(w.into_bytes())
    }

    /// Whether this is a message of an unknown odd type, which the receiver ignores.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Message::Unknown { .. })
    }
}

/// Decodes a message; see [`Message::decode`].
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    Message::decode(bytes)
}

/// Encodes a message; see [`Message::encode`].
pub fn encode(message: &Message) -> Vec<u8> {
    message.encode()
}
