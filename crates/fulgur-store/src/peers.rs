//! Peers' addresses: the address we last reached each peer at, so channel peers are
//! reconnected after a disconnection or a restart.

use rusqlite::{params, OptionalExtension};

use crate::error::StoreError;
use crate::store::Store;

impl Store {
    /// Remembers `address` (as `host:port`) for `node_id`, replacing any older one.
    pub fn save_peer_address(
        &mut self,
        node_id: &[u8; 33],
        address: &str,
    ) -> Result<(), StoreError> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO peers (node_id, address) VALUES (?1, ?2)
             ON CONFLICT (node_id) DO UPDATE SET address = excluded.address",
            params![&node_id[..], address],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The address remembered for `node_id`, if any.
    pub fn peer_address(&self, node_id: &[u8; 33]) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT address FROM peers WHERE node_id = ?1",
                params![&node_id[..]],
                |r| r.get(0),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn a_peer_address_is_saved_replaced_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path().join("t.sqlite3")).unwrap();
        let id = [3u8; 33];
        assert_eq!(s.peer_address(&id).unwrap(), None);
        s.save_peer_address(&id, "127.0.0.1:9735").unwrap();
        s.save_peer_address(&id, "[::1]:19735").unwrap();
        assert_eq!(s.peer_address(&id).unwrap().as_deref(), Some("[::1]:19735"));
        assert_eq!(s.peer_address(&[2u8; 33]).unwrap(), None);
    }
}
