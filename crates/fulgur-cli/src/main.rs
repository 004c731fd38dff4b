//! fulgur-cli: sends one command to fulgurd's JSON-RPC socket and prints the reply, behaving
//! like Core Lightning's `lightning-cli` (same options, parameter handling, output formats
//! and exit statuses: 0 success, 1 error reply, 2 cannot talk to the node, 3 usage error).

mod args;
mod format;
mod rawjson;
mod request;
mod rpc;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use args::{CliArgs, Format};
use rawjson::Node;

/// The command succeeded.
const EXIT_OK: u8 = 0;
/// The node returned an error, printed on standard output.
const EXIT_NODE_ERROR: u8 = 1;
/// The node could not be reached or replied nonsense.
const EXIT_TALKING: u8 = 2;
/// Bad command-line arguments or configuration.
const EXIT_USAGE: u8 = 3;

/// What ended the run, with its exit status and message for standard error.
struct Failure {
    status: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl ToString) -> Failure {
        Failure {
            status: EXIT_USAGE,
            message: message.to_string(),
        }
    }

    fn talking(message: impl ToString) -> Failure {
        Failure {
            status: EXIT_TALKING,
            message: message.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let mut argv = std::env::args();
    let program = argv
        .next()
        .and_then(|p| {
            Path::new(&p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "fulgur-cli".to_string());
    let args: Vec<String> = argv.collect();
    match run(&program, &args) {
        Ok(status) => ExitCode::from(status),
        Err(failure) => {
            eprintln!("{program}: {}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}

fn run(program: &str, argv: &[String]) -> Result<u8, Failure> {
    let args = args::parse_args(argv).map_err(Failure::usage)?;
    if args.help {
        print!("{}", args::usage(program));
        return Ok(EXIT_OK);
    }
    if args.version {
        println!("{}", fulgur_config::VERSION);
        return Ok(EXIT_OK);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let home = std::env::var_os("HOME").map_or_else(|| cwd.clone(), PathBuf::from);
    let location = fulgur_config::locate(&args.location, &home, &cwd).map_err(Failure::usage)?;

    let (method, params) = match args.positional.split_first() {
        Some((method, params)) => (method.clone(), params.to_vec()),
        None => {
            println!("{}", args::usage(program));
            println!("Querying fulgurd for available RPC commands (\"{program} help\"):\n");
            ("help".to_string(), Vec::new())
        }
    };
    let pid = std::process::id();
    let id = request::request_id(&method, pid);
    let params_json = request::build_params(args.input, &params).map_err(Failure::usage)?;
    let request = request::build_request(
        &method,
        &id,
        &params_json,
        args.filter.as_deref(),
        args.commando.as_ref(),
    )
    .map_err(Failure::usage)?;

    let mut connection = rpc::Connection::connect(&location.rpc_file).map_err(Failure::talking)?;
    if args.notifications.is_some() && args.commando.is_none() {
        connection
            .send(&request::notifications_request(pid))
            .map_err(Failure::talking)?;
        connection.next_message().map_err(Failure::talking)?;
    }
    connection.send(&request).map_err(Failure::talking)?;
    let reply = connection
        .read_reply(args.notifications)
        .map_err(Failure::talking)?;
    print_reply(&reply, &id, &method, &params, &args, program)
}

/// Checks the reply and prints its result or error; returns the exit status.
fn print_reply(
    reply: &str,
    id: &str,
    method: &str,
    params: &[String],
    args: &CliArgs,
    program: &str,
) -> Result<u8, Failure> {
    let node = rawjson::parse(reply)
        .map_err(|_| Failure::talking(format!("malformed response '{reply}'")))?;
    if !matches!(node.kind, rawjson::Kind::Object(_)) {
        return Err(Failure::talking(format!("non-object response '{reply}'")));
    }
    let result = node.get("result");
    let error = node.get("error").filter(|e| !e.is_null());
    if result.is_none() && error.is_none() {
        return Err(Failure::talking(format!(
            "either 'result' or 'error' must be returned in response '{reply}'"
        )));
    }
    let reply_id = node
        .get("id")
        .ok_or_else(|| Failure::talking(format!("missing 'id' in response '{reply}'")))?;
    if reply_id.as_string().as_deref() != Some(id) {
        return Err(Failure::talking(format!(
            "incorrect 'id' ({}) in response: {reply}",
            reply_id.text
        )));
    }
    if let Some(error) = error {
        if args.format == Format::Raw {
            println!("{}", error.text);
        } else {
            println!("{}", format::json(error));
        }
        return Ok(EXIT_NODE_ERROR);
    }
    let Some(result) = result else {
        return Ok(EXIT_OK);
    };
    print!(
        "{}",
        render_result(result.clone(), method, params, args.format, program)
    );
    Ok(EXIT_OK)
}

/// The text printed for a successful result.
fn render_result(
    result: Node<'_>,
    method: &str,
    params: &[String],
    format: Format,
    program: &str,
) -> String {
    let is_help = method == "help";
    match format {
        Format::Raw => format!("{}\n", result.text),
        Format::Json => format!("{}\n", format::json(&result)),
        Format::Flat => format::flat(&result),
        Format::Human => format::human(&format::take_format_hint(result).0),
        Format::Default if is_help && params.is_empty() => format::help_list(&result, program)
            .unwrap_or_else(|| format!("{}\n", format::json(&result))),
        Format::Default => {
            if is_help {
                if let Some(text) = format::help_verbose(&result) {
                    return text;
                }
            }
            let (result, simple) = format::take_format_hint(result);
            if simple {
                format::human(&result)
            } else {
                format!("{}\n", format::json(&result))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on bad input.

    use super::*;

    fn render(result: &str, method: &str, params: &[&str], format: Format) -> String {
        let node = rawjson::parse(result).unwrap();
        let params: Vec<String> = params.iter().map(|s| s.to_string()).collect();
        render_result(node, method, &params, format, "fulgur-cli")
    }

    #[test]
    fn default_format_choices() {
        assert_eq!(
            render(r#"{"a":1}"#, "getinfo", &[], Format::Default),
            "{\n   \"a\": 1\n}\n"
        );
        let hinted = r#"{"help":[{"command":"stop"}],"format-hint":"simple"}"#;
        assert_eq!(render(hinted, "help", &["stop"], Format::Default), "stop\n");
        assert_eq!(render(hinted, "x", &[], Format::Human), "stop\n");
        assert!(render(hinted, "x", &[], Format::Json).contains("format-hint"));
        let verbose = r#"{"help":[{"command":"stop","verbose":"Stops the node."}]}"#;
        assert_eq!(
            render(verbose, "help", &["stop"], Format::Default),
            "Stops the node.\n"
        );
        let list = r#"{"help":[{"command":"stop","category":"utility"}]}"#;
        assert!(render(list, "help", &[], Format::Default).starts_with("stop\n\n---\n"));
        assert_eq!(
            render(r#"{"a": 1 }"#, "x", &[], Format::Raw),
            "{\"a\": 1 }\n"
        );
        assert_eq!(
            render(r#"{"a":{"b":[true]}}"#, "x", &[], Format::Flat),
            "a.b[0]=true\n"
        );
    }
}
