//! Where a setting came from, spelled as Core Lightning's `listconfigs` spells it:
//! `default`, `cmdline`, or `<file>:<line>`.

use std::fmt;
use std::path::PathBuf;

/// The origin of an option's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Not set anywhere: the built-in default.
    Default,
    /// Given on the command line.
    Cmdline,
    /// Read from a config file (absolute path) at a 1-based line.
    File {
        /// The config file, as an absolute path.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Cmdline => f.write_str("cmdline"),
            Source::File { path, line } => write!(f, "{}:{}", path.display(), line),
        }
    }
}

/// Which kind of config file a line was read from; decides which options it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The file named by `--conf`.
    Explicit,
    /// `<lightning-dir>/config`.
    General,
    /// `<lightning-dir>/<network>/config`.
    Network,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cln_spelling() {
        assert_eq!(Source::Default.to_string(), "default");
        assert_eq!(Source::Cmdline.to_string(), "cmdline");
        let file = Source::File {
            path: PathBuf::from("/tmp/x/config"),
            line: 3,
        };
        assert_eq!(file.to_string(), "/tmp/x/config:3");
    }
}
