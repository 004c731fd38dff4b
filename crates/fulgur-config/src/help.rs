//! `--help` text: every option, sorted, one per line with its help and default for the
//! network in effect; and the version string.

use crate::store::Store;
use crate::table::{OptionSpec, OPTIONS};

/// The version `--version` prints.
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// The `--help` text. Developer options are listed only in developer mode, hidden ones never.
pub(crate) fn help_text(store: &Store) -> String {
    let mut lines: Vec<(String, String)> = Vec::new();
    let visible = |spec: &&OptionSpec| !spec.hidden || (spec.developer_only && store.developer);
    for spec in OPTIONS.iter().filter(visible) {
        let left = if spec.kind.takes_value() {
            format!("--{}={}", spec.name, spec.arg_placeholder())
        } else {
            format!("--{}", spec.name)
        };
        let mut right = spec.help.to_string();
        if let Some(default) = store.default_text(spec).filter(|d| !d.is_empty()) {
            right.push_str(&format!(" (default: {default})"));
        }
        lines.push((left, right));
    }
    lines.push((
        "-h|--help".to_string(),
        "Print this message and exit".to_string(),
    ));
    lines.push((
        "-V|--version".to_string(),
        "Print the version and exit".to_string(),
    ));
    lines.sort_by(|a, b| sort_key(&a.0).cmp(sort_key(&b.0)));
    let width = lines.iter().map(|(left, _)| left.len()).max().unwrap_or(0) + 2;
    let mut text = format!(
        "Usage: fulgurd [OPTIONS]\n\
         A Lightning Network node compatible with Core Lightning \
         (defaults shown for network: {}).\n",
        store.network.name()
    );
    for (left, right) in lines {
        text.push_str(&format!("{left:<width$}{right}\n"));
    }
    text
}

/// The option name a help line starts with: `help` for `-h|--help`, `name` for
/// `--name=<arg>`.
pub(crate) fn sort_key(line: &str) -> &str {
    let first = line.split_whitespace().next().unwrap_or(line);
    let last_form = first.rsplit('|').next().unwrap_or(first);
    let name = last_form.trim_start_matches('-');
    name.split('=').next().unwrap_or(name)
}
