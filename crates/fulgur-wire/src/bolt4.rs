//! BOLT 4 "The `onion_message` Message" (513): the peer-to-peer carrier of onion messages
//! (`option_onion_messages`). The packet inside is left as bytes for the onion layer.

use crate::macros::wire_messages;
use crate::primitives::PublicKey;

wire_messages! {
    /// `onion_message`: forwards an onion message along a blinded path.
    message OnionMessage = 513 "onion_message" {
        /// The blinding point for the receiving hop.
        path_key: PublicKey,
        /// The `onion_message_packet` (version, public key, payloads, HMAC).
        onion_message_packet: Vec<u8>,
    }
}
