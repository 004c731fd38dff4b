//! Printing a reply the ways `lightning-cli` does: indented JSON (three spaces per level,
//! values exactly as received), human-readable (`key=value` lines, single-member objects
//! elided), flat (`key.sub[0]=value` lines), and the sorted command list for `help`.

use crate::rawjson::{Kind, Node};

/// Indented JSON, as `lightning-cli` prints it (no trailing newline).
pub fn json(node: &Node<'_>) -> String {
    let mut out = String::new();
    write_json(&mut out, node, "");
    out
}

fn write_json(out: &mut String, node: &Node<'_>, indent: &str) {
    let inner = format!("{indent}   ");
    match &node.kind {
        Kind::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "[\n" } else { ",\n" });
                out.push_str(&inner);
                write_json(out, item, &inner);
            }
            out.push('\n');
            out.push_str(indent);
            out.push(']');
        }
        Kind::Object(members) => {
            if members.is_empty() {
                out.push_str("{}");
                return;
            }
            for (i, (key, value)) in members.iter().enumerate() {
                out.push_str(if i == 0 { "{\n" } else { ",\n" });
                out.push_str(&inner);
                out.push_str(key.text);
                out.push_str(": ");
                write_json(out, value, &inner);
            }
            out.push('\n');
            out.push_str(indent);
            out.push('}');
        }
        _ => out.push_str(node.text),
    }
}

/// Human-readable output: scalars one per line (strings decoded), objects as `key=value`
/// lines, objects with a single member replaced by that member's value.
pub fn human(node: &Node<'_>) -> String {
    let mut out = String::new();
    write_human(&mut out, node, '\n');
    out
}

fn write_human(out: &mut String, node: &Node<'_>, terminator: char) {
    match &node.kind {
        Kind::Array(items) => {
            for item in items {
                write_human(out, item, '\n');
            }
        }
        Kind::Object(members) => {
            if let [(_, only)] = members.as_slice() {
                write_human(out, only, '\n');
                return;
            }
            for (key, value) in members {
                write_human(out, key, '=');
                write_human(out, value, '\n');
            }
        }
        Kind::String => {
            out.push_str(&node.as_string().unwrap_or_else(|| node.inner().to_string()));
            out.push(terminator);
        }
        _ => {
            out.push_str(node.text);
            out.push(terminator);
        }
    }
}

/// Flat output: one `path=value` line per scalar, paths like `channels[0].state`; strings
/// are shown as received between their quotes.
pub fn flat(node: &Node<'_>) -> String {
    let mut out = String::new();
    write_flat(&mut out, "", node);
    out
}

fn write_flat(out: &mut String, prefix: &str, node: &Node<'_>) {
    match &node.kind {
        Kind::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                write_flat(out, &format!("{prefix}[{i}]"), item);
            }
        }
        Kind::Object(members) => {
            for (key, value) in members {
                let path = if prefix.is_empty() {
                    key.inner().to_string()
                } else {
                    format!("{prefix}.{}", key.inner())
                };
                write_flat(out, &path, value);
            }
        }
        _ => {
            out.push_str(prefix);
            out.push('=');
            out.push_str(node.inner());
            out.push('\n');
        }
    }
}

/// The `help` command list: sorted by category (`developer` last) then command, each usage
/// line followed by a blank line, then a pointer to `<program> help <command>`.
/// `None` if `result` has no `help` array.
pub fn help_list(result: &Node<'_>, program: &str) -> Option<String> {
    let Kind::Array(entries) = &result.get("help")?.kind else {
        return None;
    };
    let mut entries: Vec<&Node<'_>> = entries.iter().collect();
    let key = |entry: &Node<'_>| {
        let category = entry.get("category").map(|c| c.inner().to_string());
        let command = entry
            .get("command")
            .map(|c| c.inner().to_string())
            .unwrap_or_default();
        let developer = category.as_deref() == Some("developer");
        (developer, category.unwrap_or_default(), command)
    };
    entries.sort_by_key(|entry| key(entry));
    let mut out = String::new();
    for entry in entries {
        if let Some(command) = entry.get("command") {
            write_human(&mut out, command, '\n');
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "---\nrun `{program} help <command>` for more information on a specific command\n"
    ));
    Some(out)
}

/// For `help <command>`: the `verbose` text of the only entry, if the node sent one.
pub fn help_verbose(result: &Node<'_>) -> Option<String> {
    let Kind::Array(entries) = &result.get("help")?.kind else {
        return None;
    };
    let [entry] = entries.as_slice() else {
        return None;
    };
    let mut text = entry.get("verbose")?.as_string()?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Some(text)
}

/// `result` without its `format-hint` member, and whether the hint asked for human output.
pub fn take_format_hint<'a>(result: Node<'a>) -> (Node<'a>, bool) {
    match result.kind {
        Kind::Object(members) => {
            let simple = members
                .iter()
                .any(|(k, v)| k.inner() == "format-hint" && v.inner() == "simple");
            let members = members
                .into_iter()
                .filter(|(k, _)| k.inner() != "format-hint")
                .collect();
            (
                Node {
                    text: result.text,
                    kind: Kind::Object(members),
                },
                simple,
            )
        }
        kind => (
            Node {
                text: result.text,
                kind,
            },
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on bad input.

    use super::*;
    use crate::rawjson::parse;

    #[test]
    fn json_is_indented_by_three() {
        let node = parse(r#"{"a":[1,{"b":"c\n"}],"e":[],"f":{},"g":1.50}"#).unwrap();
        let expected = "{\n   \"a\": [\n      1,\n      {\n         \"b\": \"c\\n\"\n      }\n   ],\n   \"e\": [],\n   \"f\": {},\n   \"g\": 1.50\n}";
        assert_eq!(json(&node), expected);
        assert_eq!(json(&parse("[]").unwrap()), "[]");
    }

    #[test]
    fn human_output() {
        let node = parse(r#"{"id":"02ab","num":3,"ok":true,"text":"a\tb\nc \"q\""}"#).unwrap();
        assert_eq!(
            human(&node),
            "id=02ab\nnum=3\nok=true\ntext=a\tb\nc \"q\"\n"
        );
        // Single-member objects are elided, arrays give one line per element.
        let node = parse(r#"{"help":[{"command":"pay bolt11"},{"command":"stop"}]}"#).unwrap();
        assert_eq!(human(&node), "pay bolt11\nstop\n");
        assert_eq!(
            human(&parse(r#"{"x":{"a":1,"b":2}}"#).unwrap()),
            "a=1\nb=2\n"
        );
    }

    #[test]
    fn flat_output() {
        let node =
            parse(r#"{"help":[{"command":"check","x":"a\"b"}],"n":{"m":null},"e":[]}"#).unwrap();
        assert_eq!(
            flat(&node),
            "help[0].command=check\nhelp[0].x=a\\\"b\nn.m=null\n"
        );
        assert_eq!(flat(&parse("[1,2]").unwrap()), "[0]=1\n[1]=2\n");
    }

    #[test]
    fn help_list_is_sorted() {
        let node = parse(
            r#"{"help":[
                {"command":"zeta","category":"utility"},
                {"command":"dev-x","category":"developer"},
                {"command":"alpha","category":"utility"},
                {"command":"newaddr","category":"bitcoin"}]}"#,
        )
        .unwrap();
        let text = help_list(&node, "fulgur-cli").unwrap();
        assert_eq!(
            text,
            "newaddr\n\nalpha\n\nzeta\n\ndev-x\n\n---\nrun `fulgur-cli help <command>` for more information on a specific command\n"
        );
        assert!(help_list(&parse("{}").unwrap(), "x").is_none());
    }

    #[test]
    fn help_verbose_text() {
        let node = parse(r#"{"help":[{"command":"stop","verbose":"STOP\n\nStops."}]}"#).unwrap();
        assert_eq!(help_verbose(&node).as_deref(), Some("STOP\n\nStops.\n"));
        let node = parse(r#"{"help":[{"command":"stop"}]}"#).unwrap();
        assert_eq!(help_verbose(&node), None);
    }

    #[test]
    fn format_hint_is_removed() {
        let node = parse(r#"{"help":[],"format-hint":"simple"}"#).unwrap();
        let (node, simple) = take_format_hint(node);
        assert!(simple);
        assert!(node.get("format-hint").is_none());
        let (_, simple) = take_format_hint(parse(r#"{"a":1}"#).unwrap());
        assert!(!simple);
    }
}
