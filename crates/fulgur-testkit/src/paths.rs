//! Where the fixtures find their programs: the cached `bitcoind` build and the workspace's
//! own binaries.

use std::path::{Path, PathBuf};

/// The version of `libbitcoinkernel-sys` whose Bitcoin Core source `scripts/build-bitcoind.sh`
/// builds; the cache directory is named after it.
pub const BITCOIN_CORE_CRATE_VERSION: &str = "0.4.1";

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The directory holding `bitcoind` and `bitcoin-cli`: `$FULGUR_BITCOIND_DIR`, else the cache
/// `scripts/build-bitcoind.sh` fills. Panics with the command to run when neither has them.
pub fn bitcoind_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FULGUR_BITCOIND_DIR") {
        return PathBuf::from(d);
    }
    let cache = std::env::var_os("FULGUR_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/fulgur")
        });
    let dir = cache.join(format!("bitcoind-{BITCOIN_CORE_CRATE_VERSION}/bin"));
    assert!(
        dir.join("bitcoind").exists(),
        "bitcoind not found in {}: run scripts/build-bitcoind.sh (or set FULGUR_BITCOIND_DIR)",
        dir.display()
    );
    dir
}

/// A binary of this workspace (`fulgurd`, `fulgur-cli`): `$FULGUR_BIN_DIR/<name>`, else next to
/// the running test executable's directory (`target/<profile>/`).
pub fn workspace_bin(name: &str) -> PathBuf {
    if let Some(d) = std::env::var_os("FULGUR_BIN_DIR") {
        return PathBuf::from(d).join(name);
    }
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not built: run `cargo build --workspace` (or `cargo test --workspace`) first",
        path.display()
    );
    path
}
