//! Channels: one row per channel with the channel machine's JSON record. A record is
//! replaced in one transaction; the node waits for the commit before it lets the messages,
//! signatures or transactions of that step leave (persist before send).

use rusqlite::{params, OptionalExtension};

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

/// One HTLC as `listhtlcs` lists it, written with its channel's step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtlcRow {
    /// The channel's dbid.
    pub channel_dbid: u64,
    /// Whether we offered it (`out`) rather than the peer (`in`).
    pub offered: bool,
    /// The id its offerer gave it.
    pub htlc_id: u64,
    /// Its amount.
    pub amount_msat: u64,
    /// Its expiry height.
    pub cltv_expiry: u32,
    /// Its payment hash.
    pub payment_hash: [u8; 32],
    /// Its state's CLN name.
    pub state: String,
}

/// A stored HTLC with its indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHtlc {
    /// 1-based order of creation.
    pub created_index: u64,
    /// 1-based order of its latest change, if it changed since it was created.
    pub updated_index: Option<u64>,
    /// The HTLC.
    pub htlc: HtlcRow,
}

/// Which HTLCs [`Store::htlcs`] lists, and in what order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HtlcQuery {
    /// Only this channel's.
    pub channel_dbid: Option<u64>,
    /// Order by `updated_index` (only HTLCs that changed) instead of `created_index`.
    pub by_updated: bool,
    /// The first index to list.
    pub start: Option<u64>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// Inserts or replaces a channel's row inside `tx`.
fn upsert_channel(tx: &rusqlite::Transaction<'_>, row: &ChannelRow) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO channels (dbid, peer_id, channel_id, state, record, opened_height, closed_height)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (dbid) DO UPDATE SET
            state = excluded.state, record = excluded.record,
            closed_height = excluded.closed_height",
    )?;
    stmt.execute(params![
        to_i64(row.dbid)?,
        &row.peer_id[..],
        &row.channel_id[..],
        row.state,
        row.record,
        row.opened_height,
        row.closed_height
    ])?;
    Ok(())
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
        for row in rows {
            upsert_channel(&tx, row)?;
        }
        tx.commit()?;
        Ok(())
    }
    /// Stores a channel's step and its HTLCs' new states in one transaction: a new HTLC gets
    /// the next `created_index`, a changed one the next `updated_index`.
    pub fn save_channel_with_htlcs(
        &mut self,
        row: &ChannelRow,
        htlcs: &[HtlcRow],
    ) -> Result<(), StoreError> {
        let tx = self.write_tx()?;
        upsert_channel(&tx, row)?;
        for h in htlcs {
            let (dbid, direction, id) = (
                to_i64(h.channel_dbid)?,
                i64::from(!h.offered),
                to_i64(h.htlc_id)?,
            );
            let old: Option<String> = tx
                .prepare_cached(
                    "SELECT state FROM htlcs WHERE channel_dbid = ?1 AND direction = ?2 AND htlc_id = ?3",
                )?
                .query_row(params![dbid, direction, id], |r| r.get(0))
                .optional()?;
            let sql = match old {
                None => {
                    "INSERT INTO htlcs (channel_dbid, direction, htlc_id, amount_msat, cltv_expiry, payment_hash, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                }
                Some(s) if s == h.state => continue,
                // Every column: the row always says what the channel committed to.
                Some(_) => {
                    "UPDATE htlcs SET amount_msat = ?4, cltv_expiry = ?5, payment_hash = ?6,
                        state = ?7,
                        updated_index = (SELECT COALESCE(MAX(updated_index), 0) + 1 FROM htlcs)
                     WHERE channel_dbid = ?1 AND direction = ?2 AND htlc_id = ?3"
                }
            };
            tx.prepare_cached(sql)?.execute(params![
                dbid,
                direction,
                id,
                to_i64(h.amount_msat)?,
                h.cltv_expiry,
                &h.payment_hash[..],
                h.state
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The stored HTLCs `q` asks for.
    pub fn htlcs(&self, q: HtlcQuery) -> Result<Vec<StoredHtlc>, StoreError> {
        let order = if q.by_updated {
            "updated_index"
        } else {
            "created_index"
        };
        let sql = format!(
            "SELECT created_index, updated_index, channel_dbid, direction, htlc_id, amount_msat,
                    cltv_expiry, payment_hash, state
             FROM htlcs
             WHERE (?1 IS NULL OR channel_dbid = ?1) AND {order} >= ?2
             ORDER BY {order} LIMIT ?3"
        );
        let dbid = q.channel_dbid.map(to_i64).transpose()?;
        let start = to_i64(q.start.unwrap_or(0))?;
        let limit = q.limit.map_or(-1, i64::from);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![dbid, start, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, u32>(6)?,
                r.get::<_, Vec<u8>>(7)?,
                r.get::<_, String>(8)?,
            ))
        })?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("htlcs: bad {what}"));
        let mut out = Vec::new();
        for row in rows {
            let (created, updated, dbid, direction, id, amount, cltv, hash, state) = row?;
            out.push(StoredHtlc {
                created_index: u64::try_from(created).map_err(|_| corrupt("created_index"))?,
                updated_index: updated
                    .map(u64::try_from)
                    .transpose()
                    .map_err(|_| corrupt("updated_index"))?,
                htlc: HtlcRow {
                    channel_dbid: u64::try_from(dbid).map_err(|_| corrupt("channel_dbid"))?,
                    offered: direction == 0,
                    htlc_id: u64::try_from(id).map_err(|_| corrupt("htlc_id"))?,
                    amount_msat: u64::try_from(amount).map_err(|_| corrupt("amount_msat"))?,
                    cltv_expiry: cltv,
                    payment_hash: hash.try_into().map_err(|_| corrupt("payment_hash"))?,
                    state,
                },
            });
        }
        Ok(out)
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

    #[test]
    fn htlcs_are_created_updated_and_listed_by_either_index() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path().join("t.sqlite3")).unwrap();
        let row = ChannelRow {
            dbid: 1,
            peer_id: [2; 33],
            channel_id: [7; 32],
            state: "CHANNELD_NORMAL".into(),
            record: "{}".into(),
            opened_height: 101,
            closed_height: None,
        };
        let h = |id: u64, offered: bool, state: &str| HtlcRow {
            channel_dbid: 1,
            offered,
            htlc_id: id,
            amount_msat: 1000 + id,
            cltv_expiry: 500,
            payment_hash: [id as u8; 32],
            state: state.into(),
        };
        s.save_channel_with_htlcs(
            &row,
            &[h(0, true, "SENT_ADD_HTLC"), h(0, false, "RCVD_ADD_COMMIT")],
        )
        .unwrap();
        // The same state again changes nothing; a new one takes the next updated_index.
        s.save_channel_with_htlcs(&row, &[h(0, true, "SENT_ADD_HTLC")])
            .unwrap();
        s.save_channel_with_htlcs(
            &row,
            &[h(0, true, "SENT_ADD_COMMIT"), h(1, true, "SENT_ADD_HTLC")],
        )
        .unwrap();
        s.save_channel_with_htlcs(&row, &[h(0, false, "SENT_ADD_REVOCATION")])
            .unwrap();
        let all = s.htlcs(HtlcQuery::default()).unwrap();
        let summary: Vec<(u64, Option<u64>, bool, u64, &str)> = all
            .iter()
            .map(|x| {
                (
                    x.created_index,
                    x.updated_index,
                    x.htlc.offered,
                    x.htlc.htlc_id,
                    x.htlc.state.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (1, Some(1), true, 0, "SENT_ADD_COMMIT"),
                (2, Some(2), false, 0, "SENT_ADD_REVOCATION"),
                (3, None, true, 1, "SENT_ADD_HTLC"),
            ]
        );
        assert_eq!(all[1].htlc, h(0, false, "SENT_ADD_REVOCATION"));
        let updated = s
            .htlcs(HtlcQuery {
                by_updated: true,
                start: Some(2),
                ..HtlcQuery::default()
            })
            .unwrap();
        assert_eq!(updated.len(), 1);
        assert_eq!(updated[0].created_index, 2);
        let limited = s
            .htlcs(HtlcQuery {
                start: Some(2),
                limit: Some(1),
                ..HtlcQuery::default()
            })
            .unwrap();
        assert_eq!(limited.len(), 1);
        assert_eq!(limited[0].created_index, 2);
        assert!(s
            .htlcs(HtlcQuery {
                channel_dbid: Some(9),
                ..HtlcQuery::default()
            })
            .unwrap()
            .is_empty());
        // A change rewrites every column.
        let mut moved = h(1, true, "SENT_ADD_COMMIT");
        moved.amount_msat = 7;
        s.save_channel_with_htlcs(&row, &[moved.clone()]).unwrap();
        let again = s.htlcs(HtlcQuery::default()).unwrap();
        assert_eq!(again[2].htlc, moved);
        assert_eq!(again[2].updated_index, Some(3));
        // The channel row went in with them.
        assert_eq!(s.channels().unwrap()[0].state, "CHANNELD_NORMAL");
    }
}
