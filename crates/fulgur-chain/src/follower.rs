//! The chain follower: a sans-IO state machine that keeps a stored chain in step with a
//! backend's best chain, one block at a time, through reorgs of any depth.
//!
//! The caller owns all I/O. It feeds [`Input`]s to [`Follower::handle`] and carries out the
//! [`Action`]s that come back, in order:
//!
//! - [`Action::FetchBlock`]: ask the backend for the block at a height (`getrawblockbyheight`)
//!   and answer with [`Input::BlockAtHeight`]; if the call fails, log it and send
//!   [`Input::Tick`] later, which asks again.
//! - [`Action::LoadStoredHash`]: look up the hash the store has at a height (only needed for
//!   reorgs deeper than the in-memory window) and answer with [`Input::StoredHash`].
//! - [`Action::ConnectBlock`]: store the block as the new tip.
//! - [`Action::DisconnectAbove`]: drop every stored block above the height.
//! - [`Action::Synced`]: the backend has no block beyond the tip; send [`Input::Tick`] when it
//!   is time to poll again.
//! - [`Action::Watch`]: something a watch saw (after the block's connect or disconnect).
//!
//! How it follows: with the tip at height `h`, it fetches `h + 1`. A block whose
//! `prev_blockhash` is the tip's hash is connected. One that does not link starts a walk back:
//! the new chain's hash at `h` (the block's `prev_blockhash`) is compared with the stored hash
//! at `h` (from the window of the last [`FollowerConfig::window`] hashes, or asked of the
//! caller); while they differ, the new chain's block at the height is fetched to learn its
//! parent, one height lower. The first height where they agree is the fork point: everything
//! above it is disconnected, the new-chain blocks fetched during the walk are connected (as
//! many as were kept, see [`FollowerConfig::branch_cache`]) and following resumes.
//!
//! Invariants: a block is connected only at the height just above the tip and only if it links
//! to the tip (or nothing is connected yet), so no block is connected twice without a
//! disconnect in between; answers that do not match the outstanding request are ignored; a
//! block whose header does not hash to the hash sent along is refused with an error and the
//! state left as it was.
//!
//! Restarting is starting again from what the store has ([`Start::Tip`]); the follower keeps
//! nothing else that matters.

use std::collections::{BTreeMap, VecDeque};

use bitcoin::{Block, BlockHash, OutPoint, ScriptBuf, Txid};

use crate::backend::FetchedBlock;
use crate::watches::{WatchEvent, Watches};

/// Where following starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The stored tip: the next block fetched is at `height + 1` and must link to `hash`.
    Tip {
        /// The stored tip's height.
        height: u32,
        /// The stored tip's hash.
        hash: BlockHash,
    },
    /// Nothing is stored: the first block connected is the one at this height, whatever its
    /// parent. Heights below are never looked up in the store.
    Height(u32),
}

/// Tuning of a [`Follower`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowerConfig {
    /// How many of the latest block hashes are kept in memory (at least 1). Reorgs deeper than
    /// this ask the caller for stored hashes.
    pub window: usize,
    /// How many new-branch blocks fetched during a reorg walk are kept, to be connected without
    /// fetching them again (the ones nearest the fork point are kept). 0 keeps none.
    pub branch_cache: usize,
}

impl Default for FollowerConfig {
    fn default() -> Self {
        FollowerConfig {
            window: 144,
            branch_cache: 16,
        }
    }
}

/// What the caller tells the follower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The answer to [`Action::FetchBlock`]: the backend's block at `height`, or `None` if it
    /// has none there.
    BlockAtHeight {
        /// The height asked for.
        height: u32,
        /// The block and its hash, or `None`.
        block: Option<FetchedBlock>,
    },
    /// The answer to [`Action::LoadStoredHash`]: the stored hash at `height`, or `None` if the
    /// store has no block there.
    StoredHash {
        /// The height asked for.
        height: u32,
        /// The stored hash, or `None`.
        hash: Option<BlockHash>,
    },
    /// The backend's best height (and hash, if known), e.g. from `getchaininfo`. Lets the
    /// follower notice a chain that got shorter or swapped its tip, which fetching above the
    /// tip cannot show. Only send it when the backend is not in initial block download.
    BackendTip {
        /// The backend's block count.
        height: u32,
        /// The backend's best block hash, if known.
        hash: Option<BlockHash>,
    },
    /// Time passed: poll again after [`Action::Synced`], or repeat the outstanding request.
    Tick,
}

/// What the follower asks the caller to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fetch the backend's block at `height` and answer with [`Input::BlockAtHeight`].
    FetchBlock {
        /// The height.
        height: u32,
    },
    /// Look up the stored hash at `height` and answer with [`Input::StoredHash`].
    LoadStoredHash {
        /// The height.
        height: u32,
    },
    /// Store `block` as the new tip at `height`.
    ConnectBlock {
        /// Its height (the previous tip's plus one).
        height: u32,
        /// Its hash.
        hash: BlockHash,
        /// The block.
        block: Block,
    },
    /// Drop every stored block above `height`; the block at `height` is the new tip.
    DisconnectAbove {
        /// The fork point.
        height: u32,
    },
    /// The backend has nothing beyond the tip at `height`.
    Synced {
        /// The tip's height.
        height: u32,
    },
    /// A watch event, for the block connected or disconnected just before.
    Watch(WatchEvent),
}

/// An input the follower refused; its state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FollowerError {
    /// The block's header does not hash to the hash sent along with it.
    #[error("the block at height {height} hashes to {actual}, not {claimed}")]
    HashMismatch {
        /// The height asked for.
        height: u32,
        /// The hash sent along.
        claimed: BlockHash,
        /// The header's hash.
        actual: BlockHash,
    },
    /// The backend's chain does not share our block at height 0 (or the lowest stored one):
    /// it follows another chain.
    #[error(
        "the backend's block {theirs} at height {height} is not ours ({ours}): another chain?"
    )]
    NoCommonBlock {
        /// The height.
        height: u32,
        /// Our hash there.
        ours: BlockHash,
        /// The backend's.
        theirs: BlockHash,
    },
    /// The backend has no block at height 0.
    #[error("the backend has no block at height 0")]
    NoGenesis,
}

/// The last block hashes, at consecutive heights.
#[derive(Debug, Clone)]
struct Recent {
    cap: usize,
    first: u32,
    hashes: VecDeque<BlockHash>,
}

impl Recent {
    fn new(cap: usize) -> Recent {
        Recent {
            cap: cap.max(1),
            first: 0,
            hashes: VecDeque::new(),
        }
    }

    fn get(&self, height: u32) -> Option<BlockHash> {
        let offset = height.checked_sub(self.first)?;
        self.hashes.get(offset as usize).copied()
    }

    fn reset(&mut self, height: u32, hash: BlockHash) {
        self.hashes.clear();
        self.first = height;
        self.hashes.push_back(hash);
    }

    /// Appends the hash at `height`, which must be just above the last one.
    fn push(&mut self, height: u32, hash: BlockHash) {
        if self.hashes.is_empty() || Some(height) != self.end() {
            self.reset(height, hash);
            return;
        }
        self.hashes.push_back(hash);
        while self.hashes.len() > self.cap {
            self.hashes.pop_front();
            self.first += 1;
        }
    }

    /// Prepends the hash at `height`, which must be just below the first one.
    fn push_front(&mut self, height: u32, hash: BlockHash) -> bool {
        if self.hashes.is_empty() || height.checked_add(1) != Some(self.first) {
            return false;
        }
        if self.hashes.len() >= self.cap {
            return false;
        }
        self.hashes.push_front(hash);
        self.first = height;
        true
    }

    /// The height after the last hash.
    fn end(&self) -> Option<u32> {
        self.first
            .checked_add(u32::try_from(self.hashes.len()).ok()?)
    }

    fn truncate_above(&mut self, height: u32) {
        match height.checked_sub(self.first) {
            None => self.hashes.clear(),
            Some(offset) => self.hashes.truncate(offset as usize + 1),
        }
    }
}

/// What a reorg walk waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The stored hash at `height`, to compare with the new chain's `new_hash` there (whose
    /// parent is `parent`, if known).
    Stored {
        height: u32,
        new_hash: BlockHash,
        parent: Option<BlockHash>,
    },
    /// The new chain's block at `height`.
    Block { height: u32 },
}

#[derive(Debug, Clone)]
enum State {
    /// Caught up; waiting for a tick.
    Idle,
    /// Waiting for the block at `height` (the tip's plus one).
    Following { height: u32 },
    /// Looking for the fork point.
    Walking {
        step: Step,
        /// New-chain blocks fetched so far, by height.
        branch: BTreeMap<u32, FetchedBlock>,
    },
}

/// What is known of the stored hash at a height.
enum Stored {
    Known(Option<BlockHash>),
    Ask,
}

/// The chain follower. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Follower {
    config: FollowerConfig,
    /// The tip: `None` until the first block is connected after [`Start::Height`].
    tip: Option<(u32, BlockHash)>,
    /// The height of the first block to connect when `tip` is `None`.
    start_height: u32,
    /// Heights below this have nothing stored ([`Start::Height`]).
    floor: Option<u32>,
    recent: Recent,
    state: State,
    watches: Watches,
}

impl Follower {
    /// A follower starting at `start`. Nothing happens until the first [`Input::Tick`].
    pub fn new(start: Start, config: FollowerConfig) -> Follower {
        let mut recent = Recent::new(config.window);
        let (tip, start_height, floor) = match start {
            Start::Tip { height, hash } => {
                recent.reset(height, hash);
                (Some((height, hash)), height.saturating_add(1), None)
            }
            Start::Height(height) => (None, height, Some(height)),
        };
        Follower {
            config,
            tip,
            start_height,
            floor,
            recent,
            state: State::Idle,
            watches: Watches::new(),
        }
    }

    /// Gives the hashes the store has just below the tip (any order; the ones that extend the
    /// window downward without a gap are kept), so shallow reorgs after a restart need no
    /// [`Action::LoadStoredHash`].
    pub fn preload_hashes(&mut self, hashes: &[(u32, BlockHash)]) {
        let mut sorted = hashes.to_vec();
        sorted.sort_unstable_by_key(|h| std::cmp::Reverse(h.0));
        for (height, hash) in sorted {
            if self.recent.get(height).is_none() {
                self.recent.push_front(height, hash);
            }
        }
    }

    /// The connected tip: height and hash (`None` before the first block after
    /// [`Start::Height`]).
    pub fn tip(&self) -> Option<(u32, BlockHash)> {
        self.tip
    }

    /// The height of the next block to connect.
    pub fn next_height(&self) -> u32 {
        match self.tip {
            Some((height, _)) => height.saturating_add(1),
            None => self.start_height,
        }
    }

    /// Whether the last fetch found nothing beyond the tip (and nothing is outstanding).
    pub fn is_synced(&self) -> bool {
        matches!(self.state, State::Idle)
    }

    /// Whether a reorg walk is under way.
    pub fn is_reorging(&self) -> bool {
        matches!(self.state, State::Walking { .. })
    }

    /// The watches.
    pub fn watches(&self) -> &Watches {
        &self.watches
    }

    /// The watches, to add or remove some.
    pub fn watches_mut(&mut self) -> &mut Watches {
        &mut self.watches
    }

    /// See [`Watches::watch_outpoint`].
    pub fn watch_outpoint(&mut self, outpoint: OutPoint) -> bool {
        self.watches.watch_outpoint(outpoint)
    }

    /// See [`Watches::watch_script`].
    pub fn watch_script(&mut self, script: ScriptBuf) -> bool {
        self.watches.watch_script(script)
    }

    /// See [`Watches::watch_depth`].
    pub fn watch_depth(&mut self, txid: Txid, depth: u32) {
        self.watches.watch_depth(txid, depth)
    }

    /// Takes one input; returns the actions to carry out, in order. On error the input is
    /// dropped and the state is unchanged (a later [`Input::Tick`] repeats the request).
    pub fn handle(&mut self, input: Input) -> Result<Vec<Action>, FollowerError> {
        let mut out = Vec::new();
        let state = std::mem::replace(&mut self.state, State::Idle);
        match input {
            Input::Tick => self.tick(state, &mut out),
            Input::BlockAtHeight { height, block } => {
                self.block_at_height(state, height, block, &mut out)?
            }
            Input::StoredHash { height, hash } => {
                self.stored_hash(state, height, hash, &mut out)?
            }
            Input::BackendTip { height, hash } => {
                self.backend_tip(state, height, hash, &mut out)?
            }
        }
        Ok(out)
    }

    fn tick(&mut self, state: State, out: &mut Vec<Action>) {
        match &state {
            State::Idle => {
                let height = self.next_height();
                self.state = State::Following { height };
                out.push(Action::FetchBlock { height });
                return;
            }
            State::Following { height } => out.push(Action::FetchBlock { height: *height }),
            State::Walking { step, .. } => out.push(match *step {
                Step::Block { height } => Action::FetchBlock { height },
                Step::Stored { height, .. } => Action::LoadStoredHash { height },
            }),
        }
        self.state = state;
    }

    fn block_at_height(
        &mut self,
        state: State,
        height: u32,
        block: Option<FetchedBlock>,
        out: &mut Vec<Action>,
    ) -> Result<(), FollowerError> {
        match state {
            State::Following { height: wanted } if wanted == height => {
                let Some(fetched) = block else {
                    self.state = State::Idle;
                    out.push(Action::Synced {
                        height: self.tip.map_or(height.saturating_sub(1), |t| t.0),
                    });
                    return Ok(());
                };
                if let Err(e) = check_hash(height, &fetched) {
                    self.state = State::Following { height };
                    return Err(e);
                }
                match self.tip {
                    Some((tip_height, tip_hash))
                        if fetched.block.header.prev_blockhash != tip_hash =>
                    {
                        tracing::info!(
                            height,
                            new = %fetched.hash,
                            tip = %tip_hash,
                            "block does not build on our tip: looking for the fork point"
                        );
                        let prev = fetched.block.header.prev_blockhash;
                        let mut branch = BTreeMap::new();
                        self.cache(&mut branch, height, fetched);
                        self.compare(branch, tip_height, prev, None, None, out)
                    }
                    _ => {
                        self.connect(height, fetched, out);
                        self.follow(out);
                        Ok(())
                    }
                }
            }
            State::Walking {
                step: Step::Block { height: wanted },
                mut branch,
            } if wanted == height => match block {
                None => {
                    // The chain is shorter than `height` now: what we had there is gone.
                    if height == 0 {
                        self.state = State::Walking {
                            step: Step::Block { height },
                            branch,
                        };
                        return Err(FollowerError::NoGenesis);
                    }
                    branch.clear();
                    self.state = State::Walking {
                        step: Step::Block { height: height - 1 },
                        branch,
                    };
                    out.push(Action::FetchBlock { height: height - 1 });
                    Ok(())
                }
                Some(fetched) => {
                    if let Err(e) = check_hash(height, &fetched) {
                        self.state = State::Walking {
                            step: Step::Block { height },
                            branch,
                        };
                        return Err(e);
                    }
                    let (hash, parent) = (fetched.hash, fetched.block.header.prev_blockhash);
                    self.cache(&mut branch, height, fetched);
                    self.compare(branch, height, hash, Some(parent), None, out)
                }
            },
            other => {
                tracing::trace!(height, "ignoring a block nobody asked for");
                self.state = other;
                Ok(())
            }
        }
    }

    fn stored_hash(
        &mut self,
        state: State,
        height: u32,
        hash: Option<BlockHash>,
        out: &mut Vec<Action>,
    ) -> Result<(), FollowerError> {
        match state {
            State::Walking {
                step:
                    Step::Stored {
                        height: wanted,
                        new_hash,
                        parent,
                    },
                branch,
            } if wanted == height => {
                self.compare(branch, height, new_hash, parent, Some(hash), out)
            }
            other => {
                self.state = other;
                Ok(())
            }
        }
    }

    fn backend_tip(
        &mut self,
        state: State,
        height: u32,
        hash: Option<BlockHash>,
        out: &mut Vec<Action>,
    ) -> Result<(), FollowerError> {
        let Some((tip_height, tip_hash)) = self.tip else {
            self.state = state;
            return Ok(());
        };
        let idle = matches!(state, State::Idle);
        let walking = matches!(state, State::Walking { .. });
        if walking
            || height > tip_height
            || (height == tip_height && hash.is_none_or(|h| h == tip_hash))
        {
            if idle && height > tip_height {
                self.tick(state, out);
            } else {
                self.state = state;
            }
            return Ok(());
        }
        tracing::info!(
            backend_height = height,
            tip_height,
            "the backend's chain no longer holds our tip: looking for the fork point"
        );
        match hash {
            Some(hash) => self.compare(BTreeMap::new(), height, hash, None, None, out),
            None => {
                self.state = State::Walking {
                    step: Step::Block { height },
                    branch: BTreeMap::new(),
                };
                out.push(Action::FetchBlock { height });
                Ok(())
            }
        }
    }

    /// What is known of the stored hash at `height`.
    fn stored(&self, height: u32) -> Stored {
        if let Some(hash) = self.recent.get(height) {
            Stored::Known(Some(hash))
        } else if self.floor.is_some_and(|f| height < f) || self.tip.is_none_or(|(h, _)| height > h)
        {
            // Below where we started, or above our tip: nothing stored there.
            Stored::Known(None)
        } else {
            Stored::Ask
        }
    }

    /// Walks back from `height`, where the new chain has `new_hash`, until the fork point.
    /// `parent` is the new chain's hash at `height - 1` when known (the block at `height` was
    /// just fetched); `stored` is the stored hash at `height` when the caller just gave it.
    fn compare(
        &mut self,
        branch: BTreeMap<u32, FetchedBlock>,
        mut height: u32,
        mut new_hash: BlockHash,
        mut parent: Option<BlockHash>,
        mut stored: Option<Option<BlockHash>>,
        out: &mut Vec<Action>,
    ) -> Result<(), FollowerError> {
        loop {
            let ours = match stored.take() {
                Some(known) => known,
                None => match self.stored(height) {
                    Stored::Known(known) => known,
                    Stored::Ask => {
                        self.state = State::Walking {
                            step: Step::Stored {
                                height,
                                new_hash,
                                parent,
                            },
                            branch,
                        };
                        out.push(Action::LoadStoredHash { height });
                        return Ok(());
                    }
                },
            };
            let ours = match ours {
                Some(ours) if ours != new_hash => ours,
                _ => {
                    self.fork(height, new_hash, branch, out);
                    return Ok(());
                }
            };
            if height == 0 {
                // Not even the genesis block is shared.
                self.state = State::Idle;
                return Err(FollowerError::NoCommonBlock {
                    height,
                    ours,
                    theirs: new_hash,
                });
            }
            let cached = branch
                .get(&height)
                .filter(|b| b.hash == new_hash)
                .map(|b| b.block.header.prev_blockhash);
            match parent.take().or(cached) {
                Some(p) => {
                    new_hash = p;
                    height -= 1;
                }
                None => {
                    self.state = State::Walking {
                        step: Step::Block { height },
                        branch,
                    };
                    out.push(Action::FetchBlock { height });
                    return Ok(());
                }
            }
        }
    }

    /// Makes `height` (with `hash`) the tip, disconnecting what was above, then connects the
    /// kept branch blocks and resumes following.
    fn fork(
        &mut self,
        height: u32,
        hash: BlockHash,
        mut branch: BTreeMap<u32, FetchedBlock>,
        out: &mut Vec<Action>,
    ) {
        let tip_height = self.tip.map_or(height, |t| t.0);
        if height < tip_height {
            tracing::info!(
                fork = height,
                depth = tip_height - height,
                "reorg: disconnecting blocks above the fork point"
            );
            out.push(Action::DisconnectAbove { height });
            let mut events = Vec::new();
            self.watches.disconnected_above(height, &mut events);
            out.extend(events.into_iter().map(Action::Watch));
        }
        self.tip = Some((height, hash));
        self.recent.truncate_above(height);
        if self.recent.get(height) != Some(hash) {
            self.recent.reset(height, hash);
        }
        let mut next = height.saturating_add(1);
        while let Some(fetched) = branch.remove(&next) {
            if Some(fetched.block.header.prev_blockhash) != self.tip.map(|t| t.1) {
                break;
            }
            self.connect(next, fetched, out);
            next = next.saturating_add(1);
        }
        self.follow(out);
    }

    /// Keeps a new-branch block, within [`FollowerConfig::branch_cache`].
    fn cache(&self, branch: &mut BTreeMap<u32, FetchedBlock>, height: u32, block: FetchedBlock) {
        // Blocks above this one were fetched for another branch if they do not link: the
        // connect loop in `fork` stops at the first that does not, so they are harmless.
        branch.insert(height, block);
        while branch.len() > self.config.branch_cache {
            branch.pop_last();
        }
    }

    fn connect(&mut self, height: u32, fetched: FetchedBlock, out: &mut Vec<Action>) {
        self.tip = Some((height, fetched.hash));
        self.recent.push(height, fetched.hash);
        let mut events = Vec::new();
        self.watches
            .block_connected(height, &fetched.block, &mut events);
        out.push(Action::ConnectBlock {
            height,
            hash: fetched.hash,
            block: fetched.block,
        });
        out.extend(events.into_iter().map(Action::Watch));
    }

    /// Asks for the block above the tip.
    fn follow(&mut self, out: &mut Vec<Action>) {
        let height = self.next_height();
        self.state = State::Following { height };
        out.push(Action::FetchBlock { height });
    }
}

fn check_hash(height: u32, fetched: &FetchedBlock) -> Result<(), FollowerError> {
    let actual = fetched.block.block_hash();
    if actual == fetched.hash {
        Ok(())
    } else {
        Err(FollowerError::HashMismatch {
            height,
            claimed: fetched.hash,
            actual,
        })
    }
}
