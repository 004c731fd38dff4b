//! Log settings: levels (`io` ... `broken`), `log-level=LEVEL:FILTER[:FILE]` filters, and log
//! destinations (`-` for standard output).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::Problem;

/// A log level, from the most to the least verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Raw input and output, including wire traffic.
    Io,
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Unusual events worth a look.
    Unusual,
    /// Something is broken.
    Broken,
}

impl LogLevel {
    /// Every level, most verbose first.
    pub const ALL: [LogLevel; 6] = [
        LogLevel::Io,
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Unusual,
        LogLevel::Broken,
    ];

    /// The name used in options and logs.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Io => "io",
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Unusual => "unusual",
            LogLevel::Broken => "broken",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LogLevel {
    type Err = Problem;

    /// Case-insensitive; `error` and `warn` are accepted for `broken` and `unusual`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        if let Some(level) = LogLevel::ALL.into_iter().find(|l| l.name() == lower) {
            return Ok(level);
        }
        match lower.as_str() {
            "error" => Ok(LogLevel::Broken),
            "warn" => Ok(LogLevel::Unusual),
            _ => Err(Problem::UnknownLogLevel(s.to_string())),
        }
    }
}

/// A `log-level=LEVEL:FILTER[:FILE]` setting: log sources whose name contains `filter` print
/// at `level`, in every log file or only in `log_file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    /// The level for matching sources.
    pub level: LogLevel,
    /// A substring of the log source's name (subsystem, node id, ...).
    pub filter: String,
    /// Restrict the filter to this `log-file` (as given to `log-file`).
    pub log_file: Option<String>,
}

/// What one `log-level` value does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogLevelSetting {
    /// A plain level: the default for everything.
    Default(LogLevel),
    /// A filtered level.
    Filter(LogFilter),
}

/// Parses `LEVEL`, `LEVEL:FILTER` or `LEVEL:FILTER:FILE`.
pub(crate) fn parse_log_level(s: &str) -> Result<LogLevelSetting, Problem> {
    let Some((level, rest)) = s.split_once(':') else {
        return Ok(LogLevelSetting::Default(s.parse()?));
    };
    let level: LogLevel = level.parse()?;
    let (filter, log_file) = match rest.split_once(':') {
        Some((filter, file)) => (filter.to_string(), Some(file.to_string())),
        None => (rest.to_string(), None),
    };
    Ok(LogLevelSetting::Filter(LogFilter {
        level,
        filter,
        log_file,
    }))
}

/// Where log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// Standard output (`-`).
    Stdout,
    /// This file (absolute; relative names are resolved against the network directory).
    File(PathBuf),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        for level in LogLevel::ALL {
            assert_eq!(level.name().parse::<LogLevel>(), Ok(level));
        }
        assert_eq!("DEBUG".parse::<LogLevel>(), Ok(LogLevel::Debug));
        assert_eq!("warn".parse::<LogLevel>(), Ok(LogLevel::Unusual));
        assert_eq!(
            "loud".parse::<LogLevel>().map_err(|e| e.to_string()),
            Err("unknown log level loud".to_string())
        );
    }

    #[test]
    fn filters() {
        assert_eq!(
            parse_log_level("debug"),
            Ok(LogLevelSetting::Default(LogLevel::Debug))
        );
        assert_eq!(
            parse_log_level("io:plugin"),
            Ok(LogLevelSetting::Filter(LogFilter {
                level: LogLevel::Io,
                filter: "plugin".into(),
                log_file: None
            }))
        );
        assert_eq!(
            parse_log_level("trace:02ab:/tmp/x.log"),
            Ok(LogLevelSetting::Filter(LogFilter {
                level: LogLevel::Trace,
                filter: "02ab".into(),
                log_file: Some("/tmp/x.log".into())
            }))
        );
        assert!(parse_log_level("nope:plugin").is_err());
    }
}
