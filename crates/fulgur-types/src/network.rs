//! The chains a node can run on, with the names, ports and directories Core Lightning and
//! Bitcoin Core use for each (BOLT 1 `chain_hash` comes from the genesis block of each).

use std::fmt;
use std::str::FromStr;

/// A Bitcoin network, spelled as Core Lightning's `--network` option spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    /// Bitcoin mainnet (`bitcoin`; `--mainnet`).
    Bitcoin,
    /// testnet3 (`testnet`).
    Testnet,
    /// testnet4 (`testnet4`).
    Testnet4,
    /// The default signet (`signet`).
    Signet,
    /// A local regression-test chain (`regtest`).
    Regtest,
}

/// A network name that is none of the names [`Network::from_str`] knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown network '{0}': expected one of bitcoin, testnet, testnet4, signet, regtest")]
pub struct UnknownNetwork(pub String);

impl Network {
    /// Every network, in a stable order.
    pub const ALL: [Network; 5] = [
        Network::Bitcoin,
        Network::Testnet,
        Network::Testnet4,
        Network::Signet,
        Network::Regtest,
    ];

    /// The name used by `--network`, `getinfo.network` and the per-network directory.
    pub fn name(self) -> &'static str {
        match self {
            Network::Bitcoin => "bitcoin",
            Network::Testnet => "testnet",
            Network::Testnet4 => "testnet4",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
        }
    }

    /// The `chain` value bitcoind's `getblockchaininfo` reports for this network.
    pub fn bitcoind_chain(self) -> &'static str {
        match self {
            Network::Bitcoin => "main",
            Network::Testnet => "test",
            Network::Testnet4 => "testnet4",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
        }
    }

    /// The network whose bitcoind `chain` name is `chain`, if any.
    pub fn from_bitcoind_chain(chain: &str) -> Option<Network> {
        Network::ALL
            .into_iter()
            .find(|n| n.bitcoind_chain() == chain)
    }

    /// bitcoind's default JSON-RPC port on this network.
    pub fn default_bitcoind_rpc_port(self) -> u16 {
        match self {
            Network::Bitcoin => 8332,
            Network::Testnet => 18332,
            Network::Testnet4 => 48332,
            Network::Signet => 38332,
            Network::Regtest => 18443,
        }
    }

    /// The sub-directory of bitcoind's data directory for this network ("" on mainnet), where
    /// its `.cookie` file lives.
    pub fn bitcoind_subdir(self) -> &'static str {
        match self {
            Network::Bitcoin => "",
            Network::Testnet => "testnet3",
            Network::Testnet4 => "testnet4",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
        }
    }

    /// The Lightning port Core Lightning listens on by default on this network.
    pub fn default_lightning_port(self) -> u16 {
        match self {
            Network::Bitcoin => 9735,
            Network::Testnet => 19735,
            Network::Testnet4 => 49735,
            Network::Signet => 39735,
            Network::Regtest => 19846,
        }
    }

    /// The matching `bitcoin` crate network (address encoding, genesis block).
    pub fn to_bitcoin(self) -> bitcoin::Network {
        match self {
            Network::Bitcoin => bitcoin::Network::Bitcoin,
            Network::Testnet => bitcoin::Network::Testnet,
            Network::Testnet4 => bitcoin::Network::Testnet4,
            Network::Signet => bitcoin::Network::Signet,
            Network::Regtest => bitcoin::Network::Regtest,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Network {
    type Err = UnknownNetwork;

    /// Accepts the `--network` names; `mainnet` is accepted as an alias of `bitcoin`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bitcoin" | "mainnet" => Ok(Network::Bitcoin),
            "testnet" => Ok(Network::Testnet),
            "testnet4" => Ok(Network::Testnet4),
            "signet" => Ok(Network::Signet),
            "regtest" => Ok(Network::Regtest),
            other => Err(UnknownNetwork(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in Network::ALL {
            assert_eq!(n.name().parse::<Network>(), Ok(n));
            assert_eq!(Network::from_bitcoind_chain(n.bitcoind_chain()), Some(n));
        }
        assert_eq!("mainnet".parse::<Network>(), Ok(Network::Bitcoin));
        assert!("liquid".parse::<Network>().is_err());
    }

    #[test]
    fn regtest_ports() {
        assert_eq!(Network::Regtest.default_lightning_port(), 19846);
        assert_eq!(Network::Regtest.default_bitcoind_rpc_port(), 18443);
    }
}
