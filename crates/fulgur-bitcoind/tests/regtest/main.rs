//! The client against a real regtest bitcoind, when one is available (`$FULGUR_BITCOIND` or
//! the binary `scripts/build-bitcoind.sh` caches); otherwise each test prints why it skips.

// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backend;
mod node;

use std::path::PathBuf;
use std::time::Duration;

use bitcoin::secp256k1::{Secp256k1, SecretKey};
use bitcoin::{Address, CompressedPublicKey, KnownHrp, PrivateKey};
use fulgur_bitcoind::{Auth, BitcoindClient, BitcoindConfig, BitcoindError, RPC_METHOD_NOT_FOUND};
use fulgur_types::Network;
use node::{find_bitcoind, NodeAuth, RegtestNode};

/// The bitcoind binary, or `None` after printing why the test skips.
fn bitcoind_or_skip(test: &str) -> Option<PathBuf> {
    match find_bitcoind() {
        Ok(path) => Some(path),
        Err(why) => {
            eprintln!("skipping {test}: {why}");
            None
        }
    }
}

/// The test key whose 32 secret bytes are all `seed`, and its compressed public key.
fn test_key(seed: u8) -> (SecretKey, CompressedPublicKey) {
    let sk = SecretKey::from_slice(&[seed; 32]).unwrap();
    let pk = CompressedPublicKey::from_private_key(
        &Secp256k1::new(),
        &PrivateKey::new(sk, bitcoin::Network::Regtest),
    )
    .unwrap();
    (sk, pk)
}

/// The P2WPKH regtest address of [`test_key`]`(seed)`.
fn test_address(seed: u8) -> String {
    Address::p2wpkh(&test_key(seed).1, KnownHrp::Regtest).to_string()
}

/// A fixed P2WPKH regtest address (secret key 0x01...01), for mining rewards.
fn regtest_address() -> String {
    let address = test_address(1);
    assert!(address.starts_with("bcrt1q"), "{address}");
    address
}

#[tokio::test]
async fn user_password_round_trip() {
    let Some(binary) = bitcoind_or_skip("user_password_round_trip") else {
        return;
    };
    let datadir = tempfile::tempdir().unwrap();
    let node = RegtestNode::start(&binary, datadir.path(), NodeAuth::UserPass).await;
    let client = node.client();

    let info = client.check_network(Network::Regtest).await.unwrap();
    assert_eq!((info.chain.as_str(), info.blocks), ("regtest", 0));
    let genesis = client.getblockhash(0).await.unwrap();
    assert_eq!(info.bestblockhash, genesis);
    assert_eq!(
        genesis,
        bitcoin::constants::genesis_block(bitcoin::Network::Regtest).block_hash()
    );

    let err = client.check_network(Network::Bitcoin).await.unwrap_err();
    assert!(matches!(&err, BitcoindError::WrongNetwork { actual, .. } if actual == "regtest"));

    let net = client.getnetworkinfo().await.unwrap();
    assert!(
        net.version > 0 && net.subversion.contains("Satoshi"),
        "{net:?}"
    );

    let hashes = client
        .generatetoaddress(1, &regtest_address())
        .await
        .unwrap();
    assert_eq!(hashes.len(), 1);
    assert_eq!(client.getblockcount().await.unwrap(), 1);
    assert_eq!(client.getblockhash(1).await.unwrap(), hashes[0]);
    let info = client.getblockchaininfo().await.unwrap();
    assert_eq!((info.blocks, info.bestblockhash), (1, hashes[0]));

    let err = client
        .call("nosuchmethod", serde_json::json!([]))
        .await
        .unwrap_err();
    assert_eq!(err.rpc_code(), Some(RPC_METHOD_NOT_FOUND), "{err:?}");
    let err = client.getblockhash(1000).await.unwrap_err();
    assert!(
        matches!(err, BitcoindError::Rpc { code: -8, .. }),
        "{err:?}"
    );

    let wrong = BitcoindClient::new(
        BitcoindConfig::new(Network::Regtest, Auth::user_pass("u", "wrong"))
            .with_port(node.rpc_port()),
    );
    let err = wrong.getblockcount().await.unwrap_err();
    assert!(
        matches!(err, BitcoindError::AuthFailed { status: 401, .. }),
        "{err:?}"
    );

    node.stop().await;
}

#[tokio::test]
async fn cookie_auth_follows_a_restart() {
    let Some(binary) = bitcoind_or_skip("cookie_auth_follows_a_restart") else {
        return;
    };
    let datadir = tempfile::tempdir().unwrap();
    let node = RegtestNode::start(&binary, datadir.path(), NodeAuth::Cookie).await;
    let port = node.rpc_port();
    // A client of our own, kept across the restart.
    let client = BitcoindClient::new(
        BitcoindConfig::new(
            Network::Regtest,
            Auth::cookie_in_datadir(datadir.path(), Network::Regtest),
        )
        .with_port(port)
        .with_timeout(Duration::from_secs(30)),
    );
    client
        .generatetoaddress(1, &regtest_address())
        .await
        .unwrap();
    node.stop().await;

    // While bitcoind is down, the failure is transient (no cookie, or refused).
    let err = client.getblockcount().await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(
        matches!(
            err,
            BitcoindError::CookieUnreadable { .. } | BitcoindError::ConnectionRefused { .. }
        ),
        "{err:?}"
    );

    let node = RegtestNode::start_on(&binary, datadir.path(), NodeAuth::Cookie, port).await;
    let info = client.wait_ready(Duration::from_secs(60)).await.unwrap();
    assert_eq!(info.blocks, 1, "the chain survives the restart");
    node.stop().await;
}
