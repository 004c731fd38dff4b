//! Channels: one row per channel with the channel machine's JSON record. A record is
//! replaced in one transaction; the node waits for the commit before it lets the messages,
//! signatures or transactions of that step leave (persist before send).

use rusqlite::params;

use crate::error::StoreError;
use crate::store::Store;

/// A stored channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    /// The channel's database id (part of its key derivation; never reused).
    pub dbid: u64,
    /// The peer's node id (compressed).
    pub peer_id: [u8; 33],
    /// The channel id.
    pub channel_id: [u8; 32],
    /// The channel state's name (as `listpeerchannels` shows it).
    pub state: String,
    /// The channel machine's record.
    pub record: String,
    /// The block height when the channel was funded.
    pub opened_height: u32,
    /// The block height when the channel was closed, if it was.
    pub closed_height: Option<u32>,
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("value {v} too large")))
}

impl Store {
    /// Inserts or replaces a channel's row in one transaction.
    pub fn save_channel(&mut self, row: &ChannelRow) -> Result<(), StoreError> {
        self.save_channels(std::slice::from_ref(row))
    }

    /// Inserts or replaces several channels' rows in one transaction (one fsync): the steps
    /// of many channels sharing a commit.
    pub fn save_channels(&mut self, rows: &[ChannelRow]) -> Result<(), StoreError> {
        let tx = self.write_tx()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO channels (dbid, peer_id, channel_id, state, record, opened_height, closed_height)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (dbid) DO UPDATE SET
                    state = excluded.state, record = excluded.record,
                    closed_height = excluded.closed_height",
            )?;
            for row in rows {
                stmt.execute(params![
                    to_i64(row.dbid)?,
                    &row.peer_id[..],
                    &row.channel_id[..],
                    row.state,
                    row.record,
                    row.opened_height,
                    row.closed_height
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every stored channel, by dbid.
    pub fn channels(&self) -> Result<Vec<ChannelRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT dbid, peer_id, channel_id, state, record, opened_height, closed_height
             FROM channels ORDER BY dbid",
        )?;
        let rows = stmt.query_map([], |r| {
            let dbid: i64 = r.get(0)?;
            let peer: Vec<u8> = r.get(1)?;
            let cid: Vec<u8> = r.get(2)?;
            Ok((dbid, peer, cid, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (dbid, peer, cid, state, record, opened_height, closed_height) = row?;
            out.push(ChannelRow {
                dbid: u64::try_from(dbid)
                    .map_err(|_| StoreError::Corrupt("negative dbid".into()))?,
                peer_id: peer
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("peer_id length".into()))?,
                channel_id: cid
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("channel_id length".into()))?,
                state,
                record,
                opened_height,
                closed_height,
            });
        }
        Ok(out)
    }

    /// The highest channel dbid used, 0 if none.
    pub fn max_channel_dbid(&self) -> Result<u64, StoreError> {
        let v: Option<i64> = self
            .conn
            .query_row("SELECT MAX(dbid) FROM channels", [], |r| r.get(0))?;
        Ok(v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn channels_are_saved_replaced_and_listed() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path().join("t.sqlite3")).unwrap();
        assert_eq!(s.max_channel_dbid().unwrap(), 0);
        let mut row = ChannelRow {
            dbid: 3,
            peer_id: [2; 33],
            channel_id: [7; 32],
            state: "CHANNELD_AWAITING_LOCKIN".into(),
            record: "{}".into(),
            opened_height: 101,
            closed_height: None,
        };
        s.save_channel(&row).unwrap();
        row.state = "CHANNELD_NORMAL".into();
        row.record = "{\"x\":1}".into();
        s.save_channel(&row).unwrap();
        assert_eq!(s.channels().unwrap(), vec![row.clone()]);
        assert_eq!(s.max_channel_dbid().unwrap(), 3);
        // Another channel may not take the same channel id.
        let dup = ChannelRow { dbid: 4, ..row };
        assert!(s.save_channel(&dup).is_err());
    }
}
