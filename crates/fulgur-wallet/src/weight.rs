//! Transaction weights as CLN estimates them (`bitcoin/tx.c`), in weight units.
//!
//! ECDSA signatures are ground to low R, so a DER signature plus its sighash byte is at most
//! 71 bytes; a P2WPKH input's witness is then at most 1 (item count) + 1 + 71 + 1 + 33 = 107
//! bytes, and a taproot key-path witness exactly 1 + 1 + 64 = 66 bytes (SIGHASH_DEFAULT).

use crate::keys::AddrType;

/// Length of a P2WPKH scriptpubkey.
pub const P2WPKH_SCRIPT_LEN: usize = 22;
/// Length of a P2TR scriptpubkey.
pub const P2TR_SCRIPT_LEN: usize = 34;
/// Length of a P2SH scriptpubkey.
pub const P2SH_SCRIPT_LEN: usize = 23;

/// The size of a Bitcoin CompactSize length prefix for `n`.
pub const fn varint_size(n: u64) -> u64 {
    if n < 0xfd {
        1
    } else if n <= 0xffff {
        3
    } else if n <= 0xffff_ffff {
        5
    } else {
        9
    }
}

/// Weight of a segwit transaction's fixed part: version, input and output counts, locktime,
/// and the marker and flag bytes (CLN's `bitcoin_tx_core_weight`).
pub const fn core_weight(num_inputs: u64, num_outputs: u64) -> u64 {
    (4 + varint_size(num_inputs) + varint_size(num_outputs) + 4) * 4 + 2
}

/// Weight of an output with a `script_len`-byte scriptpubkey.
pub const fn output_weight(script_len: usize) -> u64 {
    let len = script_len as u64;
    (8 + varint_size(len) + len) * 4
}

/// Weight of a P2TR change output (CLN's `change_weight`: its change is always P2TR).
pub const CHANGE_OUTPUT_WEIGHT: u64 = output_weight(P2TR_SCRIPT_LEN);

/// Weight of the witness items of an input spending `addrtype`, excluding the item count
/// (CLN's `bitcoin_tx_input_witness_weight`).
pub const fn witness_weight(addrtype: AddrType) -> u64 {
    match addrtype {
        // Signature (1 + 71) and compressed key (1 + 33).
        AddrType::Bech32 | AddrType::P2shSegwit => (1 + 71) + (1 + 33),
        // A 64-byte Schnorr signature with its length.
        AddrType::P2tr => 1 + 64,
    }
}

/// Weight of an input whose witness items weigh `witness_weight`: the item count, outpoint,
/// sequence, script length and, for P2SH-wrapped inputs, the 23-byte redeem script push
/// (CLN's `bitcoin_tx_input_weight`, which assumes fewer than 253 witness items).
pub const fn input_weight(p2sh: bool, witness_weight: u64) -> u64 {
    let mut weight = 1 + witness_weight + (32 + 4 + 4) * 4 + 4;
    if p2sh {
        weight += 23 * 4;
    }
    weight
}

/// Weight a coin of `addrtype` adds when spent, with its witness items counted as at least
/// `min_witness_weight` (CLN's `utxo_spend_weight`).
pub const fn spend_weight(addrtype: AddrType, min_witness_weight: u64) -> u64 {
    let witness = witness_weight(addrtype);
    let witness = if witness < min_witness_weight {
        min_witness_weight
    } else {
        witness
    };
    input_weight(matches!(addrtype, AddrType::P2shSegwit), witness)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cln_values() {
        assert_eq!(core_weight(1, 1), 42);
        assert_eq!(core_weight(1, 2), 42);
        assert_eq!(output_weight(P2WPKH_SCRIPT_LEN), 124);
        assert_eq!(CHANGE_OUTPUT_WEIGHT, 172);
        assert_eq!(spend_weight(AddrType::Bech32, 0), 271);
        assert_eq!(spend_weight(AddrType::P2tr, 0), 230);
        assert_eq!(spend_weight(AddrType::P2shSegwit, 0), 271 + 92);
        // fundpsbt example 2: min_witness_weight 110 raises a P2TR input's witness.
        assert_eq!(spend_weight(AddrType::P2tr, 110), 275);
        assert_eq!(spend_weight(AddrType::Bech32, 110), 275);
        assert_eq!(spend_weight(AddrType::Bech32, 100), 271);
    }
}
