//! The `hsm_secret` file: created on first start (a BIP39 mnemonic, in the form Core Lightning
//! v25.12+ writes, readable by the owner only) and read on every start; the legacy 32-byte
//! form is read as well. The secret is never logged.

use fulgur_keys::HsmSecret;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Puts `tmp` at `path` unless `path` exists; `Ok(false)` when it did (nothing replaced).
fn install(tmp: &Path, path: &Path) -> io::Result<bool> {
    match std::fs::hard_link(tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads `path`, or creates it with fresh randomness when it does not exist.
/// Returns the secret and whether it was created now.
pub fn load_or_create(path: &Path) -> io::Result<(HsmSecret, bool)> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let secret = HsmSecret::from_file_bytes(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?;
            Ok((secret, false))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut entropy = [0u8; 16];
            getrandom::getrandom(&mut entropy)
                .map_err(|e| io::Error::other(format!("no randomness for hsm_secret: {e}")))?;
            let (secret, bytes) = HsmSecret::generate(entropy);
            // Write a temporary file, then link it into place: a crash never leaves half a
            // secret, and unlike a rename a link never replaces a secret that appeared
            // meanwhile (another process started on the same directory).
            let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
            let _ = std::fs::remove_file(&tmp);
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o400)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            let installed = install(&tmp, path);
            let _ = std::fs::remove_file(&tmp);
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            if !installed? {
                // Another process's secret is in place: use that one.
                return load_or_create(path);
            }
            Ok((secret, true))
        }
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_once_owner_read_only_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hsm_secret");
        let (a, created) = load_or_create(&path).unwrap();
        assert!(created);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o400);
        let (b, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(a.node_id(), b.node_id());
    }

    #[test]
    fn installing_never_replaces_an_existing_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hsm_secret");
        let (first, _) = load_or_create(&path).unwrap();
        let tmp = dir.path().join("other");
        std::fs::write(&tmp, [7u8; 32]).unwrap();
        assert!(!install(&tmp, &path).unwrap());
        let (again, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first.node_id(), again.node_id());
        // Only the secret and our stray file: creation left no temporary file behind.
        assert_eq!(dir.path().read_dir().unwrap().count(), 2);
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hsm_secret");
        std::fs::write(&path, b"short").unwrap();
        let err = load_or_create(&path).unwrap_err();
        assert!(err.to_string().contains("hsm_secret"), "{err}");
    }
}
