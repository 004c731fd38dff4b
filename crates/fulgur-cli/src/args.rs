//! fulgur-cli's command line, parsed like `lightning-cli`'s: options may appear anywhere
//! before `--` (long `--name[=value]`, short `-k`, grouped `-kH`, `-N debug` or `-Ndebug`),
//! the first other argument is the method and the rest its parameters.

use fulgur_config::LogLevel;

/// How the reply is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Chosen from the command and the reply's `format-hint`.
    Default,
    /// Indented JSON (`-J`).
    Json,
    /// Human-readable (`-H`).
    Human,
    /// Flattened `key.sub[0]=value` lines (`-F`).
    Flat,
    /// The JSON exactly as received (`-R`).
    Raw,
}

/// How parameters are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Keywords if the first parameter contains `=`, else positional.
    Default,
    /// `key=value` arguments, sent as an object (`-k`).
    Keywords,
    /// Positional arguments, sent as an array (`-o`).
    Ordered,
}

/// `--commando=PEERID[:RUNE]`: send the command to a peer through `commando`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commando {
    /// The peer's node id.
    pub peer_id: String,
    /// The rune authorising the command.
    pub rune: Option<String>,
}

/// Everything the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliArgs {
    /// Output format.
    pub format: Format,
    /// Parameter style.
    pub input: Input,
    /// `-N LEVEL`: ask for notifications and print those at or above `LEVEL`; `None` when not
    /// asked for (or `none`).
    pub notifications: Option<LogLevel>,
    /// `-l JSON`: reply filter.
    pub filter: Option<String>,
    /// `-c PEERID[:RUNE]`.
    pub commando: Option<Commando>,
    /// Options that locate the node, for `fulgur_config::locate`.
    pub location: Vec<(String, Option<String>)>,
    /// `-h`/`--help`.
    pub help: bool,
    /// `-V`/`--version`.
    pub version: bool,
    /// The method followed by its parameters.
    pub positional: Vec<String>,
}

/// A command-line mistake (exit status 3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{arg}: {problem}")]
pub struct UsageError {
    /// The argument at fault.
    pub arg: String,
    /// What is wrong.
    pub problem: &'static str,
}

/// What an option does when given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Help,
    Version,
    Format(Format),
    Input(Input),
    Notifications,
    Filter,
    Commando,
    /// A location option (`conf`, `network`, `regtest`, ...), kept for `locate`.
    Location,
}

struct OptDef {
    long: &'static str,
    short: Option<char>,
    takes_value: bool,
    action: Action,
    help: &'static str,
}

const fn opt(
    long: &'static str,
    short: Option<char>,
    takes_value: bool,
    action: Action,
    help: &'static str,
) -> OptDef {
    OptDef {
        long,
        short,
        takes_value,
        action,
        help,
    }
}

static OPTIONS: &[OptDef] = &[
    opt(
        "conf",
        None,
        true,
        Action::Location,
        "Read this config file instead of the defaults",
    ),
    opt(
        "lightning-dir",
        None,
        true,
        Action::Location,
        "Base directory of the node",
    ),
    opt(
        "network",
        None,
        true,
        Action::Location,
        "Network: bitcoin, testnet, testnet4, signet, regtest",
    ),
    opt(
        "mainnet",
        None,
        false,
        Action::Location,
        "Same as --network=bitcoin",
    ),
    opt(
        "testnet",
        None,
        false,
        Action::Location,
        "Same as --network=testnet",
    ),
    opt(
        "testnet4",
        None,
        false,
        Action::Location,
        "Same as --network=testnet4",
    ),
    opt(
        "signet",
        None,
        false,
        Action::Location,
        "Same as --network=signet",
    ),
    opt(
        "regtest",
        None,
        false,
        Action::Location,
        "Same as --network=regtest",
    ),
    opt(
        "rpc-file",
        None,
        true,
        Action::Location,
        "JSON-RPC socket (relative to the network directory)",
    ),
    opt(
        "help",
        Some('h'),
        false,
        Action::Help,
        "Show this message; `help` lists the node's commands",
    ),
    opt(
        "version",
        Some('V'),
        false,
        Action::Version,
        "Print the version and exit",
    ),
    opt(
        "human-readable",
        Some('H'),
        false,
        Action::Format(Format::Human),
        "Human-readable output",
    ),
    opt(
        "flat",
        Some('F'),
        false,
        Action::Format(Format::Flat),
        "Flat output (key.sub[0]=value)",
    ),
    opt(
        "json",
        Some('J'),
        false,
        Action::Format(Format::Json),
        "JSON output (default unless 'help')",
    ),
    opt(
        "raw",
        Some('R'),
        false,
        Action::Format(Format::Raw),
        "Raw, unformatted JSON output",
    ),
    opt(
        "keywords",
        Some('k'),
        false,
        Action::Input(Input::Keywords),
        "Parameters are key=value",
    ),
    opt(
        "order",
        Some('o'),
        false,
        Action::Input(Input::Ordered),
        "Parameters are positional",
    ),
    opt(
        "notifications",
        Some('N'),
        true,
        Action::Notifications,
        "Show notifications of this level or above (or none)",
    ),
    opt(
        "filter",
        Some('l'),
        true,
        Action::Filter,
        "JSON filter for the reply",
    ),
    opt(
        "commando",
        Some('c'),
        true,
        Action::Commando,
        "Send through commando to PEERID[:RUNE]",
    ),
];

/// The usage text for `--help`.
pub fn usage(program: &str) -> String {
    let mut lines: Vec<(String, &str)> = OPTIONS
        .iter()
        .map(|o| {
            let mut left = match o.short {
                Some(c) => format!("-{c}|--{}", o.long),
                None => format!("--{}", o.long),
            };
            if o.takes_value {
                left.push_str("=<arg>");
            }
            (left, o.help)
        })
        .collect();
    let long_name = |left: &str| left.rsplit("--").next().unwrap_or(left).to_string();
    lines.sort_by_key(|(left, _)| long_name(left));
    let width = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0) + 2;
    let mut text = format!("Usage: {program} [OPTIONS] <command> [<params>...]\n");
    for (left, help) in lines {
        text.push_str(&format!("{left:<width$}{help}\n"));
    }
    text
}

/// Parses `args` (without the program name).
pub fn parse_args(args: &[String]) -> Result<CliArgs, UsageError> {
    let mut out = CliArgs {
        format: Format::Default,
        input: Input::Default,
        notifications: None,
        filter: None,
        commando: None,
        location: Vec::new(),
        help: false,
        version: false,
        positional: Vec::new(),
    };
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if arg == "--" {
            out.positional.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (body, None),
            };
            let def = OPTIONS
                .iter()
                .find(|o| o.long == name)
                .ok_or_else(|| bad(arg, "unrecognized option"))?;
            let value = match (def.takes_value, inline) {
                (false, Some(_)) => return Err(bad(arg, "doesn't allow an argument")),
                (false, None) => None,
                (true, Some(value)) => Some(value),
                (true, None) => {
                    let next = args
                        .get(i)
                        .ok_or_else(|| bad(arg, "requires an argument"))?;
                    i += 1;
                    Some(next.clone())
                }
            };
            apply(&mut out, def, value, arg)?;
        } else if arg.starts_with('-') {
            let chars: Vec<char> = arg.chars().skip(1).collect();
            if chars.is_empty() {
                return Err(bad(arg, "unrecognized option"));
            }
            let mut k = 0;
            while let Some(&c) = chars.get(k) {
                k += 1;
                let def = OPTIONS
                    .iter()
                    .find(|o| o.short == Some(c))
                    .ok_or_else(|| bad(arg, "unrecognized option"))?;
                let value = if def.takes_value {
                    let rest: String = chars[k..].iter().collect();
                    k = chars.len();
                    if rest.is_empty() {
                        let next = args
                            .get(i)
                            .ok_or_else(|| bad(arg, "requires an argument"))?;
                        i += 1;
                        Some(next.clone())
                    } else {
                        Some(rest)
                    }
                } else {
                    None
                };
                apply(&mut out, def, value, arg)?;
            }
        } else {
            out.positional.push(arg.clone());
        }
    }
    Ok(out)
}

fn bad(arg: &str, problem: &'static str) -> UsageError {
    UsageError {
        arg: arg.to_string(),
        problem,
    }
}

fn apply(
    out: &mut CliArgs,
    def: &OptDef,
    value: Option<String>,
    arg: &str,
) -> Result<(), UsageError> {
    match def.action {
        Action::Help => out.help = true,
        Action::Version => out.version = true,
        Action::Format(format) => out.format = format,
        Action::Input(input) => out.input = input,
        Action::Notifications => {
            let level = value.unwrap_or_default();
            out.notifications = if level == "none" {
                None
            } else {
                Some(level.parse().map_err(|_| bad(arg, "invalid level"))?)
            };
        }
        Action::Filter => out.filter = value,
        Action::Commando => {
            let text = value.unwrap_or_default();
            let (peer_id, rune) = match text.split_once(':') {
                Some((id, rune)) => (id.to_string(), Some(rune.to_string())),
                None => (text, None),
            };
            if peer_id.len() != 66 {
                return Err(bad(arg, "invalid peer id"));
            }
            out.commando = Some(Commando { peer_id, rune });
        }
        Action::Location => out.location.push((def.long.to_string(), value)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on bad input.

    use super::*;

    fn parse(list: &[&str]) -> Result<CliArgs, String> {
        let args: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        parse_args(&args).map_err(|e| e.to_string())
    }

    #[test]
    fn options_anywhere() {
        let args = parse(&["getinfo", "-H", "--regtest", "x=1", "--lightning-dir", "/d"]).unwrap();
        assert_eq!(args.positional, vec!["getinfo", "x=1"]);
        assert_eq!(args.format, Format::Human);
        assert_eq!(
            args.location,
            vec![
                ("regtest".to_string(), None),
                ("lightning-dir".to_string(), Some("/d".into()))
            ]
        );
    }

    #[test]
    fn short_groups_and_values() {
        let args = parse(&["-kF", "-Ndebug", "-l", "{\"id\":true}", "m"]).unwrap();
        assert_eq!(args.input, Input::Keywords);
        assert_eq!(args.format, Format::Flat);
        assert_eq!(args.notifications, Some(LogLevel::Debug));
        assert_eq!(args.filter.as_deref(), Some("{\"id\":true}"));
        assert_eq!(parse(&["-N", "none"]).unwrap().notifications, None);
        assert_eq!(parse(&["-o", "--json"]).unwrap().input, Input::Ordered);
    }

    #[test]
    fn double_dash_ends_options() {
        let args = parse(&["--", "m", "-5", "--x"]).unwrap();
        assert_eq!(args.positional, vec!["m", "-5", "--x"]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse(&["--bogus"]).unwrap_err(),
            "--bogus: unrecognized option"
        );
        assert_eq!(parse(&["-z"]).unwrap_err(), "-z: unrecognized option");
        assert_eq!(parse(&["-"]).unwrap_err(), "-: unrecognized option");
        assert_eq!(
            parse(&["--json=1"]).unwrap_err(),
            "--json=1: doesn't allow an argument"
        );
        assert_eq!(
            parse(&["--filter"]).unwrap_err(),
            "--filter: requires an argument"
        );
        assert_eq!(parse(&["-N", "loud"]).unwrap_err(), "-N: invalid level");
        assert_eq!(parse(&["-c", "02ab"]).unwrap_err(), "-c: invalid peer id");
        let id = "02".to_string() + &"ab".repeat(32);
        let args = parse(&["-c", &format!("{id}:rune")]).unwrap();
        assert_eq!(
            args.commando,
            Some(Commando {
                peer_id: id,
                rune: Some("rune".into())
            })
        );
    }

    #[test]
    fn usage_lists_options() {
        let text = usage("fulgur-cli");
        assert!(text.starts_with("Usage: fulgur-cli [OPTIONS] <command> [<params>...]\n"));
        assert!(text.contains("-k|--keywords"));
        assert!(text.contains("--lightning-dir=<arg>"));
    }
}
