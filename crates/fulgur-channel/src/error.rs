//! Errors of the channel machine. Each protocol error carries its consequence (BOLT 1
//! "The `error` and `warning` Messages", BOLT 2's "send a `warning` and close the
//! connection, or send an `error` and fail the channel").

/// What the node does about a protocol error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consequence {
    /// Nothing changed; ignore the message.
    Ignore,
    /// Send a `warning` and disconnect; the channel's state is unchanged.
    Warn,
    /// Send an `error` and fail the channel (broadcast our commitment if one is signed).
    Fail,
}

/// A channel protocol error: the peer (or a caller) did something the protocol forbids.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ChannelError {
    /// What the node must do.
    pub consequence: Consequence,
    /// What went wrong, for the `warning`/`error` text and the log.
    pub message: String,
}

impl ChannelError {
    /// An error to warn about and disconnect.
    pub fn warn(message: impl Into<String>) -> ChannelError {
        ChannelError {
            consequence: Consequence::Warn,
            message: message.into(),
        }
    }

    /// An error that fails the channel.
    pub fn fail(message: impl Into<String>) -> ChannelError {
        ChannelError {
            consequence: Consequence::Fail,
            message: message.into(),
        }
    }

    /// A message to ignore.
    pub fn ignore(message: impl Into<String>) -> ChannelError {
        ChannelError {
            consequence: Consequence::Ignore,
            message: message.into(),
        }
    }
}

/// Why a local request (add an HTLC, start a close, ...) was refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The channel is not in a state that allows it.
    #[error("channel is {0}, not ready for this")]
    WrongState(&'static str),
    /// An HTLC does not fit the channel's limits or balance.
    #[error("{0}")]
    HtlcRefused(String),
    /// A bad argument.
    #[error("{0}")]
    Invalid(String),
}
