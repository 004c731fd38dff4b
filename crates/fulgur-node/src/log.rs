//! Logging in Core Lightning's line format, `[PREFIX]TIMESTAMP LEVEL [NODEID-]SUBSYSTEM: msg`,
//! fed by `tracing` events: the event's target is the subsystem, a `peer_id` field puts the
//! peer's full node id before it, and `warn`/`error` are CLN's `UNUSUAL`/`**BROKEN**`. Lines go
//! to every `--log-file` (`-` is stdout); files are reopened on request (SIGHUP).

use fulgur_config::{Config, LogFilter, LogLevel, LogTarget};
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// The fixed-width label CLN prints for a level.
pub fn label(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Io => "IO     ",
        LogLevel::Trace => "TRACE  ",
        LogLevel::Debug => "DEBUG  ",
        LogLevel::Info => "INFO   ",
        LogLevel::Unusual => "UNUSUAL",
        LogLevel::Broken => "**BROKEN**",
    }
}

fn level_of_event(level: &Level, io: bool) -> LogLevel {
    match *level {
        Level::TRACE if io => LogLevel::Io,
        Level::TRACE => LogLevel::Trace,
        Level::DEBUG => LogLevel::Debug,
        Level::INFO => LogLevel::Info,
        Level::WARN => LogLevel::Unusual,
        Level::ERROR => LogLevel::Broken,
    }
}

/// Which lines each sink takes: a default level, and levels for lines whose subsystem or node
/// id contains a filter string (`--log-level=debug:jsonrpc`), optionally for one file only.
#[derive(Debug, Clone)]
pub struct Levels {
    /// The level for lines no filter matches.
    pub default: LogLevel,
    /// Filters; the last one given that matches wins.
    pub filters: Vec<LogFilter>,
}

impl Levels {
    fn level_for(&self, sink_name: &str, subsystem: &str, node_id: &str) -> LogLevel {
        self.filters
            .iter()
            .rev()
            .filter(|f| f.log_file.as_deref().is_none_or(|name| name == sink_name))
            .find(|f| {
                subsystem.contains(f.filter.as_str())
                    || (!node_id.is_empty() && node_id.contains(f.filter.as_str()))
            })
            .map(|f| f.level)
            .unwrap_or(self.default)
    }

    fn lowest(&self) -> LogLevel {
        self.filters
            .iter()
            .map(|f| f.level)
            .fold(self.default, Ord::min)
    }
}

enum Sink {
    Stdout,
    File {
        name: String,
        path: PathBuf,
        file: File,
    },
}

impl Sink {
    fn name(&self) -> &str {
        match self {
            Sink::Stdout => "-",
            Sink::File { name, .. } => name,
        }
    }
}

/// Where lines go, and how they look.
pub struct Logger {
    sinks: Mutex<Vec<Sink>>,
    levels: Levels,
    prefix: String,
    timestamps: bool,
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Logger {
    /// The logger `--log-file`, `--log-level`, `--log-prefix` and `--log-timestamps` describe.
    pub fn new(config: &Config) -> io::Result<Arc<Logger>> {
        let levels = Levels {
            default: config.log_level,
            filters: config.log_filters.clone(),
        };
        Self::with(
            &config.log_files,
            levels,
            config.log_prefix.clone(),
            config.log_timestamps,
        )
    }

    /// A logger writing to `targets` (none means stdout).
    pub fn with(
        targets: &[LogTarget],
        levels: Levels,
        prefix: String,
        timestamps: bool,
    ) -> io::Result<Arc<Logger>> {
        let mut sinks = Vec::new();
        for t in targets {
            match t {
                LogTarget::Stdout => sinks.push(Sink::Stdout),
                LogTarget::File(path) => {
                    let file = open_append(path).map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!("cannot open log file {}: {e}", path.display()),
                        )
                    })?;
                    let name = path.display().to_string();
                    sinks.push(Sink::File {
                        name,
                        path: path.clone(),
                        file,
                    });
                }
            }
        }
        if sinks.is_empty() {
            sinks.push(Sink::Stdout);
        }
        Ok(Arc::new(Logger {
            sinks: Mutex::new(sinks),
            levels,
            prefix,
            timestamps,
        }))
    }

    /// Reopens every log file (after log rotation moved it away).
    pub fn reopen(&self) {
        let mut sinks = self.sinks.lock().unwrap_or_else(|e| e.into_inner());
        for s in sinks.iter_mut() {
            if let Sink::File { path, file, .. } = s {
                match open_append(path) {
                    Ok(f) => *file = f,
                    Err(e) => eprintln!("cannot reopen log file {}: {e}", path.display()),
                }
            }
        }
    }

    /// Formats one line the way CLN does.
    pub fn format_line(
        &self,
        now: SystemTime,
        level: LogLevel,
        node_id: &str,
        subsystem: &str,
        msg: &str,
    ) -> String {
        let mut line = String::with_capacity(64 + msg.len());
        line.push_str(&self.prefix);
        if self.timestamps {
            line.push_str(&iso8601_millis(now));
            line.push(' ');
        }
        line.push_str(label(level));
        line.push(' ');
        if !node_id.is_empty() {
            line.push_str(node_id);
            line.push('-');
        }
        line.push_str(subsystem);
        line.push_str(": ");
        line.push_str(msg);
        line.push('\n');
        line
    }

    /// Writes a line if the filter lets it through.
    pub fn log(&self, level: LogLevel, node_id: &str, subsystem: &str, msg: &str) {
        let mut line = None;
        let mut sinks = self.sinks.lock().unwrap_or_else(|e| e.into_inner());
        for s in sinks.iter_mut() {
            if level < self.levels.level_for(s.name(), subsystem, node_id) {
                continue;
            }
            let line = line.get_or_insert_with(|| {
                self.format_line(SystemTime::now(), level, node_id, subsystem, msg)
            });
            let _ = match s {
                Sink::Stdout => io::stdout().lock().write_all(line.as_bytes()),
                Sink::File { file, .. } => file.write_all(line.as_bytes()),
            };
        }
    }
}

/// `YYYY-mm-ddTHH:MM:SS.mmmZ` in UTC, computed without a calendar crate.
pub fn iso8601_millis(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (proleptic Gregorian), valid for all dates after 1970.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// A `tracing` layer that writes events through a [`Logger`].
pub struct ClnLayer {
    logger: Arc<Logger>,
    lowest: LogLevel,
}

impl ClnLayer {
    /// The layer for `logger`.
    pub fn new(logger: Arc<Logger>) -> Self {
        let lowest = logger.levels.lowest();
        ClnLayer { logger, lowest }
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    peer_id: String,
    io: bool,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "peer_id" => {
                let _ = write!(self.peer_id, "{value:?}");
            }
            name => {
                let _ = write!(self.message, " {name}={value:?}");
            }
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "peer_id" => self.peer_id.push_str(value),
            name => {
                let _ = write!(self.message, " {name}={value}");
            }
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "io" {
            self.io = value;
        } else {
            self.record_debug(field, &value);
        }
    }
}

impl<S: Subscriber> Layer<S> for ClnLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        let level = level_of_event(metadata.level(), false);
        // Library crates (module-path targets) only reach the log when something is wrong.
        if metadata.target().contains("::") {
            return level >= LogLevel::Unusual;
        }
        level >= self.lowest || *metadata.level() == Level::TRACE && self.lowest == LogLevel::Io
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let level = level_of_event(meta.level(), fields.io);
        let subsystem = meta.target().split("::").next().unwrap_or("lightningd");
        self.logger
            .log(level, &fields.peer_id, subsystem, &fields.message);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test inputs are fixed")]
    use super::*;
    use std::time::Duration;

    fn levels(default: LogLevel, filters: &[(&str, LogLevel, Option<&str>)]) -> Levels {
        let filters = filters
            .iter()
            .map(|(f, level, file)| LogFilter {
                level: *level,
                filter: f.to_string(),
                log_file: file.map(str::to_string),
            })
            .collect();
        Levels { default, filters }
    }

    #[test]
    fn cln_line_shape() {
        let l = Logger::with(&[], levels(LogLevel::Debug, &[]), String::new(), true).unwrap();
        let t = UNIX_EPOCH + Duration::from_millis(1_764_183_770_123);
        assert_eq!(
            l.format_line(t, LogLevel::Info, "", "lightningd", "Server started"),
            "2025-11-26T19:02:50.123Z INFO    lightningd: Server started\n"
        );
        let id = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619";
        assert_eq!(
            l.format_line(t, LogLevel::Broken, id, "connectd", "bad"),
            format!("2025-11-26T19:02:50.123Z **BROKEN** {id}-connectd: bad\n")
        );
        let l = Logger::with(&[], levels(LogLevel::Info, &[]), "node1 ".into(), false).unwrap();
        assert_eq!(
            l.format_line(t, LogLevel::Unusual, "", "jsonrpc", "x"),
            "node1 UNUSUAL jsonrpc: x\n"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601_millis(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn filters() {
        let l = levels(
            LogLevel::Info,
            &[
                ("jsonrpc", LogLevel::Debug, None),
                ("02ee", LogLevel::Io, None),
                ("x", LogLevel::Broken, Some("/f")),
            ],
        );
        assert_eq!(l.level_for("-", "jsonrpc", ""), LogLevel::Debug);
        assert_eq!(l.level_for("-", "lightningd", ""), LogLevel::Info);
        assert_eq!(l.level_for("-", "connectd", "02eec7"), LogLevel::Io);
        assert_eq!(l.level_for("-", "x", ""), LogLevel::Info);
        assert_eq!(l.level_for("/f", "x", ""), LogLevel::Broken);
        assert_eq!(l.lowest(), LogLevel::Io);
    }

    #[test]
    fn writes_and_reopens_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let l = Logger::with(
            &[LogTarget::File(path.clone())],
            levels(LogLevel::Info, &[]),
            String::new(),
            false,
        )
        .unwrap();
        l.log(LogLevel::Debug, "", "lightningd", "hidden");
        l.log(LogLevel::Info, "", "lightningd", "one");
        std::fs::rename(&path, dir.path().join("log.1")).unwrap();
        l.reopen();
        l.log(LogLevel::Info, "", "lightningd", "two");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("log.1")).unwrap(),
            "INFO    lightningd: one\n"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "INFO    lightningd: two\n"
        );
    }
}
