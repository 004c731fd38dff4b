//! fulgurd's command line: `--name=value`, `--name value` (for options that take a value),
//! bare `--flag`, `-h`/`--help` and `-V`/`--version`. Positional arguments are refused.

use crate::error::{ConfigError, Origin, Problem};
use crate::gather::RawSetting;
use crate::table;

/// The command line split into settings and the two options that exit early.
#[derive(Debug, Default)]
pub(crate) struct Cmdline {
    /// The options, in the order given.
    pub settings: Vec<RawSetting>,
    /// `-h`/`--help` was given.
    pub help: bool,
    /// `-V`/`--version` was given.
    pub version: bool,
}

/// Splits `args` (without the program name) into settings.
pub(crate) fn parse_cmdline(args: &[String]) -> Result<Cmdline, ConfigError> {
    let mut out = Cmdline::default();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if arg == "--" {
            if let Some(extra) = args.get(i) {
                return Err(ConfigError::UnexpectedArgument(extra.clone()));
            }
            break;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, mut value) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (body, None),
            };
            let origin = Origin::Cmdline { text: arg.clone() };
            match name {
                "help" | "version" => {
                    if value.is_some() {
                        return Err(ConfigError::bad(&origin, Problem::UnexpectedValue));
                    }
                    if name == "help" {
                        out.help = true;
                    } else {
                        out.version = true;
                    }
                    continue;
                }
                _ => {}
            }
            if value.is_none() {
                // Known options say whether they take the next argument; for unknown ones,
                // guess as Core Lightning does so the error shows what was meant.
                let wants_value = match table::find(name) {
                    Some(spec) => spec.kind.takes_value(),
                    None => args.get(i).is_some_and(|next| !next.starts_with('-')),
                };
                if wants_value {
                    if let Some(next) = args.get(i) {
                        value = Some(next.clone());
                        i += 1;
                    }
                }
            }
            let text = match &value {
                Some(v) => format!("--{name}={v}"),
                None => format!("--{name}"),
            };
            out.settings.push(RawSetting {
                name: name.to_string(),
                value,
                origin: Origin::Cmdline { text },
                file_kind: None,
            });
        } else if arg.len() > 1 && arg.starts_with('-') {
            match arg.as_str() {
                "-h" => out.help = true,
                "-V" => out.version = true,
                _ => {
                    let origin = Origin::Cmdline { text: arg.clone() };
                    return Err(ConfigError::bad(&origin, Problem::UnknownOption));
                }
            }
        } else {
            return Err(ConfigError::UnexpectedArgument(arg.clone()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on bad input.

    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn pairs(cmdline: &Cmdline) -> Vec<(String, Option<String>)> {
        cmdline
            .settings
            .iter()
            .map(|s| (s.name.clone(), s.value.clone()))
            .collect()
    }

    #[test]
    fn forms() {
        let parsed = parse_cmdline(&args(&[
            "--alias=bob",
            "--rgb",
            "00ff00",
            "--daemon",
            "--log-file",
            "-",
            "--network=regtest",
        ]))
        .unwrap();
        assert_eq!(
            pairs(&parsed),
            vec![
                ("alias".into(), Some("bob".into())),
                ("rgb".into(), Some("00ff00".into())),
                ("daemon".into(), None),
                ("log-file".into(), Some("-".into())),
                ("network".into(), Some("regtest".into())),
            ]
        );
        assert!(!parsed.help && !parsed.version);
    }

    #[test]
    fn help_version_and_errors() {
        assert!(parse_cmdline(&args(&["-h"])).unwrap().help);
        assert!(parse_cmdline(&args(&["--help"])).unwrap().help);
        assert!(parse_cmdline(&args(&["-V"])).unwrap().version);
        assert!(parse_cmdline(&args(&["--version"])).unwrap().version);
        let err = parse_cmdline(&args(&["-x"])).unwrap_err();
        assert_eq!(err.to_string(), "-x: unknown option");
        let err = parse_cmdline(&args(&["stray"])).unwrap_err();
        assert_eq!(err.to_string(), "no arguments accepted: 'stray'");
        let err = parse_cmdline(&args(&["--help=1"])).unwrap_err();
        assert_eq!(err.to_string(), "--help=1: doesn't allow an argument");
        // A missing value is reported when the option is validated.
        let parsed = parse_cmdline(&args(&["--alias"])).unwrap();
        assert_eq!(pairs(&parsed), vec![("alias".into(), None)]);
        // Unknown options take the next argument if it does not look like an option.
        let parsed = parse_cmdline(&args(&["--foo", "bar", "--baz", "--qux"])).unwrap();
        assert_eq!(
            pairs(&parsed),
            vec![
                ("foo".into(), Some("bar".into())),
                ("baz".into(), None),
                ("qux".into(), None)
            ]
        );
        assert_eq!(parsed.settings[0].origin.to_string(), "--foo=bar");
    }
}
