//! Recognising the wallet's own output scripts: a hash map from scriptpubkey to the key index
//! and address type it belongs to, covering every index up to the highest one used plus a
//! look-ahead gap, like CLN's `our_addresses` table (whose gap, `keyscan_gap`, is 50).

use std::collections::HashMap;

use bitcoin::{Script, ScriptBuf};

use crate::keys::{script_for_key, AddrType, Derivation, KeyError, WalletKeys};

/// Where a recognised script comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScriptOrigin {
    /// The key index.
    pub keyindex: u32,
    /// The kind of output.
    pub addrtype: AddrType,
}

/// The wallet's scriptpubkeys for key indexes `0..=covered_up_to()`, looked up by script.
///
/// Every index gets its P2WPKH and P2TR scripts (CLN issues both from one index counter);
/// legacy wallets also get the P2SH-wrapped P2WPKH that CLN versions before 24.11 could issue.
#[derive(Debug, Clone)]
pub struct ScriptIndex {
    scripts: HashMap<ScriptBuf, ScriptOrigin>,
    /// The highest index whose scripts are in `scripts`.
    covered_up_to: u32,
    /// How many indexes beyond the highest used one are kept.
    gap: u32,
    /// Whether legacy P2SH-wrapped scripts are included.
    wrapped: bool,
}

impl ScriptIndex {
    /// CLN's `keyscan_gap`: how many unused indexes beyond the highest used one it watches.
    pub const DEFAULT_GAP: u32 = 50;

    /// The index covering `0..=max_used + gap`, where `max_used` is the highest key index
    /// handed out or seen used so far (0 on a fresh wallet).
    pub fn new(keys: &WalletKeys, max_used: u32, gap: u32) -> Result<ScriptIndex, KeyError> {
        let mut index = ScriptIndex {
            scripts: HashMap::new(),
            covered_up_to: 0,
            gap,
            wrapped: keys.derivation() == Derivation::Legacy,
        };
        index.add_index(keys, 0)?;
        index.ensure_covers(keys, max_used)?;
        Ok(index)
    }

    /// Extends the index so it covers `max_used + gap`; call it whenever the highest used
    /// index grows (an address was issued, or a script in the gap received funds). Never
    /// shrinks.
    pub fn ensure_covers(&mut self, keys: &WalletKeys, max_used: u32) -> Result<(), KeyError> {
        let target = max_used.saturating_add(self.gap).min(MAX_INDEX);
        while self.covered_up_to < target {
            self.add_index(keys, self.covered_up_to + 1)?;
        }
        Ok(())
    }

    fn add_index(&mut self, keys: &WalletKeys, i: u32) -> Result<(), KeyError> {
        let key = keys.derive_pub(i)?;
        let mut add = |addrtype| {
            self.scripts.insert(
                script_for_key(&key, addrtype),
                ScriptOrigin {
                    keyindex: i,
                    addrtype,
                },
            );
        };
        add(AddrType::Bech32);
        add(AddrType::P2tr);
        if self.wrapped {
            add(AddrType::P2shSegwit);
        }
        self.covered_up_to = i;
        Ok(())
    }

    /// The key index and type `script` belongs to, if it is one of ours.
    #[inline]
    pub fn lookup(&self, script: &Script) -> Option<ScriptOrigin> {
        // Our scripts are 22 (P2WPKH), 23 (P2SH) or 34 (P2TR) bytes: skip hashing others.
        match script.len() {
            22 | 23 | 34 => self.scripts.get(script).copied(),
            _ => None,
        }
    }

    /// The highest key index covered.
    pub fn covered_up_to(&self) -> u32 {
        self.covered_up_to
    }

    /// The look-ahead gap.
    pub fn gap(&self) -> u32 {
        self.gap
    }

    /// The number of scripts held.
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    /// Whether no script is held (never true: index 0 is always covered).
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }
}

/// The highest non-hardened BIP32 child index.
const MAX_INDEX: u32 = 0x7fff_ffff;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;
    use fulgur_keys::HsmSecret;
    use fulgur_types::Network;

    #[test]
    fn covers_gap_and_grows() {
        let secret = HsmSecret::from_file_bytes(&[1u8; 32]).unwrap();
        let keys = WalletKeys::from_hsm_secret(&secret, Network::Regtest);
        let mut index = ScriptIndex::new(&keys, 0, 5).unwrap();
        assert_eq!(index.covered_up_to(), 5);
        assert_eq!(index.len(), 6 * 3);
        let s = keys.script_pubkey(5, AddrType::P2tr).unwrap();
        assert_eq!(
            index.lookup(&s),
            Some(ScriptOrigin {
                keyindex: 5,
                addrtype: AddrType::P2tr
            })
        );
        let far = keys.script_pubkey(9, AddrType::Bech32).unwrap();
        assert_eq!(index.lookup(&far), None);
        index.ensure_covers(&keys, 4).unwrap();
        assert_eq!(index.covered_up_to(), 9);
        assert_eq!(index.lookup(&far).unwrap().keyindex, 9);
        let wrapped = keys.script_pubkey(3, AddrType::P2shSegwit).unwrap();
        assert_eq!(
            index.lookup(&wrapped).unwrap().addrtype,
            AddrType::P2shSegwit
        );
        index.ensure_covers(&keys, 1).unwrap();
        assert_eq!(index.covered_up_to(), 9);
    }

    #[test]
    fn bip86_wallet_has_no_wrapped_scripts() {
        let (secret, _) = HsmSecret::generate([9u8; 16]);
        let keys = WalletKeys::from_hsm_secret(&secret, Network::Regtest);
        let index = ScriptIndex::new(&keys, 2, 1).unwrap();
        assert_eq!(index.len(), 4 * 2);
        let wrapped = keys.script_pubkey(1, AddrType::P2shSegwit).unwrap();
        assert_eq!(index.lookup(&wrapped), None);
    }
}
