//! Errors that stop start-up: unknown or misplaced options, malformed values, unreadable or
//! looping config files. Messages follow Core Lightning's wording, in lower case.

use std::fmt;
use std::path::PathBuf;

/// Where a bad option was given, as shown in front of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// On the command line; `text` is `--name`, `--name=value` or `-x`.
    Cmdline {
        /// The option as given, with its leading dashes.
        text: String,
    },
    /// In a config file.
    File {
        /// The config file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// The line's text.
        text: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Cmdline { text } => f.write_str(text),
            Origin::File { path, line, text } => {
                write!(f, "config file {} line {}: {}", path.display(), line, text)
            }
        }
    }
}

/// What is wrong with one option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// No option has this name.
    #[error("unknown option")]
    UnknownOption,
    /// The option needs a value and none was given.
    #[error("requires an argument")]
    MissingValue,
    /// A flag was given a value.
    #[error("doesn't allow an argument")]
    UnexpectedValue,
    /// A developer option without `--developer`.
    #[error("requires --developer")]
    RequiresDeveloper,
    /// An option only the command line may give (`conf`).
    #[error("not permitted in configuration files")]
    NotInConfigFiles,
    /// `lightning-dir` in the default config files.
    #[error("not permitted in implicit configuration files")]
    NotInImplicitConfigFiles,
    /// A network choice in the per-network config file.
    #[error("not permitted in network-specific configuration files")]
    NotInNetworkConfigFile,
    /// An integer option whose value is not an integer.
    #[error("'{0}' is not a number")]
    NotANumber(String),
    /// An integer outside the option's range.
    #[error("'{0}' is out of range")]
    OutOfRange(String),
    /// A boolean option whose value is not true/false/yes/no.
    #[error("invalid argument '{0}'")]
    InvalidArgument(String),
    /// An amount that does not parse.
    #[error("unable to parse millisatoshi '{0}'")]
    BadAmount(String),
    /// An amount that must be whole satoshi.
    #[error("'{0}' is not a whole number of sats")]
    NotWholeSats(String),
    /// An unknown network name.
    #[error("unknown network name '{0}'")]
    UnknownNetwork(String),
    /// An unknown log level.
    #[error("unknown log level {0}")]
    UnknownLogLevel(String),
    /// A log-level filter naming a log file that is not configured.
    #[error("unknown log file {0}")]
    UnknownLogFile(String),
    /// A colour that is not six hex digits.
    #[error("rgb '{0}' is not six hex digits")]
    BadRgb(String),
    /// A file mode that is not four octal digits starting with 0.
    #[error("'{0}' is not a file mode")]
    BadFileMode(String),
    /// An alias longer than 32 bytes.
    #[error("alias '{0}' is over 32 characters")]
    AliasTooLong(String),
    /// More than six feerates.
    #[error("too many values")]
    TooManyFeerates,
    /// A subdaemon override without `:`.
    #[error("argument must contain ':'")]
    SubdaemonWithoutColon,
    /// A subdaemon override naming an unknown subdaemon.
    #[error("\"{0}\" is not a subdaemon")]
    UnknownSubdaemon(String),
    /// A node id that is not 33 bytes of hex.
    #[error("unparsable nodeid")]
    BadNodeId,
}

/// An error that stops fulgurd (or fulgur-cli) from starting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// One option is unknown, misplaced or has a bad value.
    #[error("{origin}: {problem}")]
    BadOption {
        /// Where it was given.
        origin: Origin,
        /// What is wrong with it.
        problem: Problem,
    },
    /// A config file that must exist (`--conf`, `include`) could not be read, or an existing
    /// one could not be read.
    #[error("opening and reading {}: {source}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// `include` nested too deeply or including itself.
    #[error("include loop with {} and {included}", file.display())]
    IncludeLoop {
        /// The file holding the `include` line.
        file: PathBuf,
        /// The file it tried to include.
        included: String,
    },
    /// A command-line argument that is not an option.
    #[error("no arguments accepted: '{0}'")]
    UnexpectedArgument(String),
}

impl ConfigError {
    pub(crate) fn bad(origin: &Origin, problem: Problem) -> ConfigError {
        ConfigError::BadOption {
            origin: origin.clone(),
            problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let cmd = Origin::Cmdline {
            text: "--foo=bar".into(),
        };
        let err = ConfigError::bad(&cmd, Problem::UnknownOption);
        assert_eq!(err.to_string(), "--foo=bar: unknown option");
        let file = Origin::File {
            path: "/x/config".into(),
            line: 3,
            text: "foo".into(),
        };
        let err = ConfigError::bad(&file, Problem::UnknownOption);
        assert_eq!(
            err.to_string(),
            "config file /x/config line 3: foo: unknown option"
        );
        let err = ConfigError::IncludeLoop {
            file: "/x/a".into(),
            included: "b".into(),
        };
        assert_eq!(err.to_string(), "include loop with /x/a and b");
        let err = ConfigError::UnexpectedArgument("x".into());
        assert_eq!(err.to_string(), "no arguments accepted: 'x'");
    }
}
