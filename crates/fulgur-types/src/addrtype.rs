//! The kinds of output script the on-chain wallet receives to and spends from, named as Core
//! Lightning's `addrtype` names them. Shared by the wallet (keys, scanning, signing) and the
//! store (which keeps them as append-only numbers).

use std::fmt;

/// An address type of the wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddrType {
    /// Native segwit v0 P2WPKH (`bech32`).
    Bech32,
    /// BIP86 key-path-only taproot (`p2tr`).
    P2tr,
    /// P2WPKH wrapped in P2SH (`p2sh-segwit`): never issued any more, but legacy CLN wallets
    /// may still hold such outputs, so they are recognised and spendable.
    P2shSegwit,
}

impl AddrType {
    /// Every address type.
    pub const ALL: [AddrType; 3] = [AddrType::Bech32, AddrType::P2tr, AddrType::P2shSegwit];

    /// CLN's name for the type.
    pub const fn name(self) -> &'static str {
        match self {
            AddrType::Bech32 => "bech32",
            AddrType::P2tr => "p2tr",
            AddrType::P2shSegwit => "p2sh-segwit",
        }
    }
}

impl fmt::Display for AddrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
