//! Our coins: listing them, and reserving them so no two operations spend the same ones.
//!
//! Reservation semantics are CLN's (`reserveinputs`, `unreserveinputs`, `listfunds`):
//! - an output is reserved at height `h` when `reserved_til > h`; a reservation "until `H`"
//!   therefore ends when the chain reaches `H`;
//! - reserving sets `reserved_til = max(reserved_til, h) + blocks` (an existing reservation is
//!   extended; an expired or absent one starts from `h`);
//! - unreserving by `blocks` clears `reserved_til` if `reserved_til <= h + blocks`, otherwise
//!   lowers it by `blocks`.

use std::collections::{HashMap, HashSet};

use bitcoin::{Amount, OutPoint, ScriptBuf, Txid};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::error::{ReserveError, SelectError, StoreError};
use crate::store::{outnum, txid_blob, txid_from, u32_from_db, Store};
use crate::types::AddrTypeDb;
use crate::types::{
    AddrType, AvailableOutput, OutputFilter, OutputInfo, OutputState, ReservationChange, Selection,
    COINBASE_MATURITY,
};

const OUTPUT_COLUMNS: &str = "txid, outnum, amount_sat, scriptpubkey, keyindex, addrtype, \
     is_change, is_coinbase, confirmation_height, spend_txid, spend_height, reserved_til";

/// An `outputs` row as stored.
struct OutputRow {
    txid: [u8; 32],
    outnum: u32,
    amount_sat: u64,
    scriptpubkey: Vec<u8>,
    keyindex: u32,
    addrtype: i64,
    is_change: bool,
    is_coinbase: bool,
    confirmation_height: Option<u32>,
    spend_txid: Option<[u8; 32]>,
    spend_height: Option<u32>,
    reserved_til: Option<i64>,
}

fn output_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutputRow> {
    Ok(OutputRow {
        txid: r.get(0)?,
        outnum: r.get(1)?,
        amount_sat: r.get(2)?,
        scriptpubkey: r.get(3)?,
        keyindex: r.get(4)?,
        addrtype: r.get(5)?,
        is_change: r.get(6)?,
        is_coinbase: r.get(7)?,
        confirmation_height: r.get(8)?,
        spend_txid: r.get(9)?,
        spend_height: r.get(10)?,
        reserved_til: r.get(11)?,
    })
}

impl OutputRow {
    fn outpoint(&self) -> OutPoint {
        OutPoint {
            txid: txid_from(self.txid),
            vout: self.outnum,
        }
    }

    fn addrtype(&self) -> Result<AddrType, StoreError> {
        AddrType::from_db(self.addrtype)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown addrtype {}", self.addrtype)))
    }

    fn reserved_til(&self) -> Result<Option<u32>, StoreError> {
        self.reserved_til
            .map(|v| u32_from_db(v, "reserved_til"))
            .transpose()
    }

    fn into_info(self, current_height: u32) -> Result<OutputInfo, StoreError> {
        let state = match (self.spend_height, self.confirmation_height) {
            (Some(_), _) => OutputState::Spent,
            (None, Some(c)) if self.is_coinbase && is_immature(c, current_height) => {
                OutputState::Immature
            }
            (None, Some(_)) => OutputState::Confirmed,
            (None, None) => OutputState::Unconfirmed,
        };
        let reserved_to_block = match self.reserved_til()? {
            Some(til) if state != OutputState::Spent && til > current_height => Some(til),
            _ => None,
        };
        Ok(OutputInfo {
            outpoint: self.outpoint(),
            amount: Amount::from_sat(self.amount_sat),
            addrtype: self.addrtype()?,
            script_pubkey: ScriptBuf::from_bytes(self.scriptpubkey),
            keyindex: self.keyindex,
            is_change: self.is_change,
            is_coinbase: self.is_coinbase,
            confirmation_height: self.confirmation_height,
            spend_txid: self.spend_txid.map(txid_from),
            spend_height: self.spend_height,
            state,
            reserved: reserved_to_block.is_some(),
            reserved_to_block,
        })
    }

    fn into_available(self) -> Result<AvailableOutput, StoreError> {
        Ok(AvailableOutput {
            outpoint: self.outpoint(),
            amount: Amount::from_sat(self.amount_sat),
            addrtype: self.addrtype()?,
            script_pubkey: ScriptBuf::from_bytes(self.scriptpubkey),
            keyindex: self.keyindex,
            is_change: self.is_change,
            confirmation_height: self.confirmation_height,
        })
    }
}

fn is_immature(confirmation_height: u32, current_height: u32) -> bool {
    u64::from(confirmation_height) + u64::from(COINBASE_MATURITY) > u64::from(current_height)
}

/// The outputs that may be spent at `current_height`, oldest first.
fn available(conn: &Connection, current_height: u32) -> Result<Vec<AvailableOutput>, StoreError> {
    let sql = format!(
        "SELECT {OUTPUT_COLUMNS} FROM outputs
         WHERE spend_txid IS NULL AND spend_height IS NULL
           AND (reserved_til IS NULL OR reserved_til <= ?1)
           AND (is_coinbase = 0
                OR (confirmation_height IS NOT NULL AND confirmation_height + ?2 <= ?1))
         ORDER BY rowid"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![current_height, COINBASE_MATURITY], output_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row?.into_available()?);
    }
    Ok(out)
}

/// Reads `(spend_txid, reserved_til)` of an output, or `None` if it is not ours.
type ReserveRow = (Option<[u8; 32]>, Option<i64>);

fn reserve_row(
    tx: &Transaction<'_>,
    outpoint: &OutPoint,
) -> Result<Option<ReserveRow>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT spend_txid, reserved_til FROM outputs WHERE txid = ?1 AND outnum = ?2",
    )?;
    Ok(stmt
        .query_row(params![txid_blob(&outpoint.txid), outnum(outpoint)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

fn set_reserved_til(
    tx: &Transaction<'_>,
    outpoint: &OutPoint,
    til: Option<u32>,
) -> Result<(), StoreError> {
    let mut stmt =
        tx.prepare_cached("UPDATE outputs SET reserved_til = ?1 WHERE txid = ?2 AND outnum = ?3")?;
    stmt.execute(params![til, txid_blob(&outpoint.txid), outnum(outpoint)])?;
    Ok(())
}

/// The change record for an output whose `reserved_til` went from `old` to `new`.
fn change(outpoint: OutPoint, old: Option<u32>, new: Option<u32>, h: u32) -> ReservationChange {
    let reserved_to_block = new.filter(|til| *til > h);
    ReservationChange {
        outpoint,
        was_reserved: old.is_some_and(|til| til > h),
        reserved: reserved_to_block.is_some(),
        reserved_to_block,
    }
}

impl Store {
    /// Our outputs with their state at `current_height`, in the order we learned of them.
    pub fn outputs(
        &self,
        filter: OutputFilter,
        current_height: u32,
    ) -> Result<Vec<OutputInfo>, StoreError> {
        let sql = match filter {
            OutputFilter::Unspent => format!(
                "SELECT {OUTPUT_COLUMNS} FROM outputs WHERE spend_height IS NULL ORDER BY rowid"
            ),
            OutputFilter::All => format!("SELECT {OUTPUT_COLUMNS} FROM outputs ORDER BY rowid"),
        };
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], output_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.into_info(current_height)?);
        }
        Ok(out)
    }

    /// One of our outputs with its state at `current_height`, or `None` if it is not ours.
    pub fn output(
        &self,
        outpoint: &OutPoint,
        current_height: u32,
    ) -> Result<Option<OutputInfo>, StoreError> {
        let sql = format!("SELECT {OUTPUT_COLUMNS} FROM outputs WHERE txid = ?1 AND outnum = ?2");
        let row = self
            .conn
            .query_row(
                &sql,
                params![txid_blob(&outpoint.txid), outnum(outpoint)],
                output_row,
            )
            .optional()?;
        row.map(|r| r.into_info(current_height)).transpose()
    }

    /// The outputs that may be spent at `current_height` (as offered to
    /// [`Store::select_and_reserve`]), oldest first. A snapshot: use `select_and_reserve` to
    /// pick some, or another operation may reserve them first.
    pub fn available_outputs(
        &self,
        current_height: u32,
    ) -> Result<Vec<AvailableOutput>, StoreError> {
        available(&self.conn, current_height)
    }

    /// Reserves `outpoints` at `current_height` for `blocks` blocks, all or nothing, in one
    /// transaction (`reserveinputs`).
    ///
    /// Each is reserved until `max(reserved_til, current_height) + blocks` (saturating). Fails,
    /// changing nothing, if one is not ours ([`ReserveError::Unknown`]), is spent, even by an
    /// unconfirmed transaction of ours ([`ReserveError::Spent`]), is listed twice, or — when
    /// `exclusive` — is already reserved beyond `current_height`
    /// ([`ReserveError::AlreadyReserved`]). With `exclusive = false` existing reservations are
    /// extended instead.
    pub fn reserve(
        &mut self,
        outpoints: &[OutPoint],
        current_height: u32,
        blocks: u32,
        exclusive: bool,
    ) -> Result<Vec<ReservationChange>, ReserveError> {
        let tx = self.write_tx()?;
        let mut seen = HashSet::with_capacity(outpoints.len());
        let mut changes = Vec::with_capacity(outpoints.len());
        for outpoint in outpoints {
            if !seen.insert(*outpoint) {
                return Err(ReserveError::Duplicate(*outpoint));
            }
            let Some((spend_txid, til)) = reserve_row(&tx, outpoint)? else {
                return Err(ReserveError::Unknown(*outpoint));
            };
            if spend_txid.is_some() {
                return Err(ReserveError::Spent(*outpoint));
            }
            let til = til.map(|v| u32_from_db(v, "reserved_til")).transpose()?;
            if let Some(until) = til.filter(|t| exclusive && *t > current_height) {
                return Err(ReserveError::AlreadyReserved {
                    outpoint: *outpoint,
                    until,
                });
            }
            let new = til.unwrap_or(0).max(current_height).saturating_add(blocks);
            set_reserved_til(&tx, outpoint, Some(new))?;
            changes.push(change(*outpoint, til, Some(new), current_height));
        }
        tx.commit()?;
        Ok(changes)
    }

    /// Shortens the reservations of `outpoints` by `blocks`, in one transaction
    /// (`unreserveinputs`): a reservation ending at or before `current_height + blocks` is
    /// removed. Outpoints that are not ours or not reserved are skipped (no entry in the result),
    /// as CLN does.
    pub fn unreserve(
        &mut self,
        outpoints: &[OutPoint],
        current_height: u32,
        blocks: u32,
    ) -> Result<Vec<ReservationChange>, StoreError> {
        let tx = self.write_tx()?;
        let mut changes = Vec::with_capacity(outpoints.len());
        for outpoint in outpoints {
            // Read each time: the same outpoint listed twice is shortened twice.
            let Some((_, Some(til))) = reserve_row(&tx, outpoint)? else {
                continue;
            };
            let til = u32_from_db(til, "reserved_til")?;
            let new = if u64::from(til) <= u64::from(current_height) + u64::from(blocks) {
                None
            } else {
                Some(til - blocks)
            };
            set_reserved_til(&tx, outpoint, new)?;
            changes.push(change(*outpoint, Some(til), new, current_height));
        }
        tx.commit()?;
        Ok(changes)
    }

    /// Chooses and reserves coins atomically: inside one `BEGIN IMMEDIATE` transaction, offers
    /// `select` the outputs available at `current_height` (oldest first; filter by
    /// confirmations yourself), then reserves the ones it returns until
    /// `current_height + reserve_blocks`. Concurrent selections, from this process or another,
    /// are serialized, so they never get the same coins.
    ///
    /// `select` runs while the database write lock is held: keep it to computation. If it fails,
    /// or returns an outpoint it was not offered ([`SelectError::NotAvailable`]) or the same one
    /// twice ([`SelectError::Duplicate`]), nothing is reserved.
    pub fn select_and_reserve<F, E>(
        &mut self,
        current_height: u32,
        reserve_blocks: u32,
        select: F,
    ) -> Result<Selection, SelectError<E>>
    where
        F: FnOnce(&[AvailableOutput]) -> Result<Vec<OutPoint>, E>,
    {
        let tx = self.write_tx()?;
        let offered = available(&tx, current_height)?;
        let chosen = select(&offered).map_err(SelectError::Select)?;
        let mut by_outpoint: HashMap<OutPoint, &AvailableOutput> =
            offered.iter().map(|o| (o.outpoint, o)).collect();
        let until = current_height.saturating_add(reserve_blocks);
        let mut outputs = Vec::with_capacity(chosen.len());
        let mut seen = HashSet::with_capacity(chosen.len());
        for outpoint in chosen {
            if !seen.insert(outpoint) {
                return Err(SelectError::Duplicate(outpoint));
            }
            let Some(o) = by_outpoint.remove(&outpoint) else {
                return Err(SelectError::NotAvailable(outpoint));
            };
            set_reserved_til(&tx, &outpoint, Some(until))?;
            outputs.push(o.clone());
        }
        drop(by_outpoint);
        tx.commit()?;
        Ok(Selection {
            outputs,
            reserved_to_block: until,
        })
    }

    /// The outputs of ours spent by `txid` (confirmed or not).
    pub fn outputs_spent_by(&self, txid: &Txid) -> Result<Vec<OutPoint>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT txid, outnum FROM outputs WHERE spend_txid = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([txid_blob(txid)], |r| {
            Ok(OutPoint {
                txid: txid_from(r.get(0)?),
                vout: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
