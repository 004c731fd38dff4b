//! Reading config files: `name=value` or `name` lines, blank lines and `#` comments skipped,
//! `include PATH` (relative to the including file) expanded in place.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Origin};
use crate::gather::RawSetting;
use crate::source::FileKind;

/// Deepest `include` nesting accepted.
const MAX_INCLUDE_DEPTH: usize = 100;

/// Reads the settings in `path` and the files it includes, in order.
///
/// A missing file yields no settings unless `must_exist`; included files must exist.
pub(crate) fn read_config_file(
    path: &Path,
    kind: FileKind,
    must_exist: bool,
) -> Result<Vec<RawSetting>, ConfigError> {
    let mut out = Vec::new();
    let mut stack = Vec::new();
    read_into(path, kind, must_exist, &mut stack, &mut out)?;
    Ok(out)
}

fn read_into(
    path: &Path,
    kind: FileKind,
    must_exist: bool,
    stack: &mut Vec<PathBuf>,
    out: &mut Vec<RawSetting>,
) -> Result<(), ConfigError> {
    let contents = match std::fs::read_to_string(path) {
        Ok(contents) => contents,
        Err(e) if e.kind() == ErrorKind::NotFound && !must_exist => return Ok(()),
        Err(source) => {
            return Err(ConfigError::ReadFile {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    stack.push(path.to_path_buf());
    for (index, line) in contents.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim_start();
        if line.trim_end().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(included) = line.strip_prefix("include ") {
            let included = included.trim();
            let dir = path.parent().unwrap_or_else(|| Path::new("/"));
            let target = dir.join(included);
            if stack.len() > MAX_INCLUDE_DEPTH || stack.contains(&target) {
                return Err(ConfigError::IncludeLoop {
                    file: path.to_path_buf(),
                    included: included.to_string(),
                });
            }
            read_into(&target, kind, true, stack, out)?;
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.to_string())),
            None => (line.trim_end(), None),
        };
        out.push(RawSetting {
            name: name.to_string(),
            value,
            origin: Origin::File {
                path: path.to_path_buf(),
                line: line_no,
                text: line.trim_end().to_string(),
            },
            file_kind: Some(kind),
        });
    }
    stack.pop();
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on setup errors.

    use super::*;
    use crate::source::Source;

    fn names(settings: &[RawSetting]) -> Vec<(String, Option<String>, String)> {
        settings
            .iter()
            .map(|s| (s.name.clone(), s.value.clone(), s.source().to_string()))
            .collect()
    }

    #[test]
    fn lines_comments_and_whitespace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "# comment\n\n   alias=hello  \n  daemon \n\t# indented comment\nlog-prefix=x \r\n",
        )
        .unwrap();
        let settings = read_config_file(&path, FileKind::General, false).unwrap();
        let p = path.display();
        assert_eq!(
            names(&settings),
            vec![
                ("alias".into(), Some("hello  ".into()), format!("{p}:3")),
                ("daemon".into(), None, format!("{p}:4")),
                ("log-prefix".into(), Some("x ".into()), format!("{p}:6")),
            ]
        );
        assert!(matches!(settings[0].source(), Source::File { line: 3, .. }));
    }

    #[test]
    fn missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope");
        assert!(read_config_file(&path, FileKind::General, false)
            .unwrap()
            .is_empty());
        let err = read_config_file(&path, FileKind::Explicit, true).unwrap_err();
        assert!(err
            .to_string()
            .starts_with(&format!("opening and reading {}: ", path.display())));
    }

    #[test]
    fn includes_are_relative_and_in_place() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let main = dir.path().join("config");
        let sub = dir.path().join("sub").join("extra");
        std::fs::write(&main, "alias=a\ninclude sub/extra\nrgb=010203\n").unwrap();
        std::fs::write(&sub, "cltv-delta=50\n").unwrap();
        let settings = read_config_file(&main, FileKind::General, false).unwrap();
        assert_eq!(
            names(&settings),
            vec![
                (
                    "alias".into(),
                    Some("a".into()),
                    format!("{}:1", main.display())
                ),
                (
                    "cltv-delta".into(),
                    Some("50".into()),
                    format!("{}:1", sub.display())
                ),
                (
                    "rgb".into(),
                    Some("010203".into()),
                    format!("{}:3", main.display())
                ),
            ]
        );
    }

    #[test]
    fn include_loops_and_missing_includes() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, "include b\n").unwrap();
        std::fs::write(dir.path().join("b"), "include a\n").unwrap();
        let err = read_config_file(&a, FileKind::General, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("include loop with {} and a", dir.path().join("b").display())
        );
        let c = dir.path().join("c");
        std::fs::write(&c, "include missing\n").unwrap();
        let err = read_config_file(&c, FileKind::General, false).unwrap_err();
        assert!(matches!(err, ConfigError::ReadFile { .. }), "{err}");
    }
}
