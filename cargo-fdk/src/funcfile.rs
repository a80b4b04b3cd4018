//! `func.yaml`, schema 20180708: what `fn init` writes and `fn deploy`
//! reads. Only the keys cargo fdk uses are typed; the others (`build_image`,
//! `annotations`, `expects`, …) are accepted and left alone.
//!
//! Why no YAML crate: func.yaml is flat keys plus a few indented maps and
//! lists, the maintained serde YAML crates are heavy or in flux, and a small
//! reader can refuse what it does not understand with a line number instead
//! of guessing (see `cargo-fdk/README.md`).
//!
//! ```
//! use cargo_fdk::funcfile::FuncFile;
//!
//! let func = FuncFile::parse(
//!     "schema_version: 20180708\nname: hello\nversion: 0.0.1\nruntime: docker\n\
//!      triggers:\n- name: hello\n  type: http\n  source: /hello\n",
//! )?;
//! assert_eq!((func.name.as_str(), func.version.as_str()), ("hello", "0.0.1"));
//! assert_eq!(func.triggers[0].source, "/hello");
//! assert_eq!(FuncFile::parse(&func.to_yaml())?, func);
//! # Ok::<(), cargo_fdk::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::reference;
use crate::yaml::{self, Value};

/// The file name, in the function's directory.
pub const FILE_NAME: &str = "func.yaml";
/// The only schema this reads and writes.
pub const SCHEMA_VERSION: u32 = 20180708;
/// The version `fn` gives a function that has none.
pub const INITIAL_VERSION: &str = "0.0.1";

/// The parts of a `func.yaml` that cargo fdk reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncFile {
    /// The function's name: lowercase, also the image name.
    pub name: String,
    /// The function's version: also the image tag.
    pub version: String,
    /// `docker` for functions built from a Dockerfile (what `cargo fdk new` writes).
    pub runtime: Option<String>,
    /// Shell commands `fn build` runs on the host before building the image.
    pub build: Vec<String>,
    /// Memory in MiB.
    pub memory: Option<u64>,
    /// Call timeout in seconds.
    pub timeout: Option<u32>,
    /// Seconds a hot container may stay idle.
    pub idle_timeout: Option<u32>,
    /// Environment variables for the function.
    pub config: BTreeMap<String, String>,
    /// HTTP triggers.
    pub triggers: Vec<Trigger>,
}

/// One trigger: `{name, type, source}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The trigger's name.
    pub name: String,
    /// Its type; Fn has `http`.
    pub kind: String,
    /// The path under the app, e.g. `/hello`.
    pub source: String,
}

impl FuncFile {
    /// A new function's file: version 0.0.1, runtime `docker`, one HTTP
    /// trigger at `/<name>`.
    pub fn new(name: &str) -> FuncFile {
        FuncFile {
            name: name.to_owned(),
            version: INITIAL_VERSION.to_owned(),
            runtime: Some("docker".to_owned()),
            build: Vec::new(),
            memory: None,
            timeout: None,
            idle_timeout: None,
            config: BTreeMap::new(),
            triggers: vec![Trigger {
                name: name.to_owned(),
                kind: "http".to_owned(),
                source: format!("/{name}"),
            }],
        }
    }

    /// Reads `dir/func.yaml`. A function without a `name` takes the
    /// directory's name, as `fn` does.
    pub fn load(dir: &Path) -> Result<FuncFile> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::new(format!(
                    "no {FILE_NAME} in {} (is this a function's directory? `cargo fdk new NAME` makes one)",
                    display_dir(dir)
                )));
            }
            Err(err) => return Err(Error::io("read", &path, &err)),
        };
        let default_name = dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()));
        Self::parse_with_default_name(&text, default_name.as_deref())
            .map_err(|err| Error::new(format!("{}: {err}", path.display())))
    }

    /// Parses the text of a func.yaml that has a `name`.
    pub fn parse(text: &str) -> Result<FuncFile> {
        Self::parse_with_default_name(text, None)
    }

    fn parse_with_default_name(text: &str, default_name: Option<&str>) -> Result<FuncFile> {
        let entries = match yaml::parse(text)? {
            Value::Map(entries) => entries,
            Value::Null => return Err(Error::new("the file is empty")),
            other => {
                return Err(Error::new(format!(
                    "expected `key: value` lines, found {}",
                    other.kind()
                )));
            }
        };
        let get = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        match get("schema_version") {
            None => {
                return Err(Error::new(format!(
                    "no schema_version; cargo fdk reads schema_version {SCHEMA_VERSION} (`fn migrate` upgrades older files)"
                )));
            }
            Some(v) => {
                let found = text_of("schema_version", v)?;
                if found != SCHEMA_VERSION.to_string() {
                    return Err(Error::new(format!(
                        "schema_version {found} is not supported; cargo fdk reads {SCHEMA_VERSION}"
                    )));
                }
            }
        }
        let name = match get("name")
            .map(|v| optional_text("name", v))
            .transpose()?
            .flatten()
        {
            Some(name) => name,
            None => default_name
                .map(str::to_owned)
                .ok_or_else(|| Error::new("no `name`"))?,
        };
        check_name(&name)?;
        let version = get("version")
            .map(|v| optional_text("version", v))
            .transpose()?
            .flatten()
            .unwrap_or_else(|| INITIAL_VERSION.to_owned());
        let build = match get("build") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::List(items)) => items
                .iter()
                .map(|item| text_of("build", item))
                .collect::<Result<_>>()?,
            Some(other) => return Err(wrong_kind("build", "a list of commands", other)),
        };
        let config = match get("config") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Map(entries)) => entries
                .iter()
                .map(|(k, v)| {
                    let value = optional_text(&format!("config.{k}"), v)?.unwrap_or_default();
                    Ok((k.clone(), value))
                })
                .collect::<Result<_>>()?,
            Some(other) => return Err(wrong_kind("config", "a map of names to values", other)),
        };
        let triggers = match get("triggers") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::List(items)) => items.iter().map(trigger).collect::<Result<_>>()?,
            Some(other) => return Err(wrong_kind("triggers", "a list", other)),
        };
        Ok(FuncFile {
            name,
            version,
            runtime: get("runtime")
                .map(|v| optional_text("runtime", v))
                .transpose()?
                .flatten(),
            build,
            memory: number(get("memory"), "memory", "a whole number of MiB")?,
            timeout: number(get("timeout"), "timeout", "whole seconds")?,
            idle_timeout: number(get("idle_timeout"), "idle_timeout", "whole seconds")?,
            config,
            triggers,
        })
    }

    /// The file's text, keys in the order `fn` writes them.
    pub fn to_yaml(&self) -> String {
        let q = yaml::quote;
        let mut out = format!("schema_version: {SCHEMA_VERSION}\n");
        out += &format!("name: {}\nversion: {}\n", q(&self.name), q(&self.version));
        if let Some(runtime) = &self.runtime {
            out += &format!("runtime: {}\n", q(runtime));
        }
        if !self.build.is_empty() {
            out += "build:\n";
            for command in &self.build {
                out += &format!("- {}\n", q(command));
            }
        }
        if let Some(memory) = self.memory {
            out += &format!("memory: {memory}\n");
        }
        if let Some(timeout) = self.timeout {
            out += &format!("timeout: {timeout}\n");
        }
        if let Some(idle) = self.idle_timeout {
            out += &format!("idle_timeout: {idle}\n");
        }
        if !self.config.is_empty() {
            out += "config:\n";
            for (key, value) in &self.config {
                out += &format!("  {}: {}\n", q(key), q(value));
            }
        }
        if !self.triggers.is_empty() {
            out += "triggers:\n";
            for t in &self.triggers {
                out += &format!(
                    "- name: {}\n  type: {}\n  source: {}\n",
                    q(&t.name),
                    q(&t.kind),
                    q(&t.source)
                );
            }
        }
        out
    }
}

/// The next patch version, as `fn deploy` bumps it: `0.0.1` → `0.0.2`. A
/// pre-release or build suffix is dropped (`1.2.3-rc.1` → `1.2.4`).
///
/// ```
/// assert_eq!(cargo_fdk::funcfile::next_patch("0.0.9")?, "0.0.10");
/// assert!(cargo_fdk::funcfile::next_patch("latest").is_err());
/// # Ok::<(), cargo_fdk::Error>(())
/// ```
pub fn next_patch(version: &str) -> Result<String> {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let numbers: Vec<u64> = core
        .split('.')
        .map(|part| {
            // Semver forbids leading zeros; `fn` refuses them too.
            if part.is_empty() || (part.len() > 1 && part.starts_with('0')) {
                None
            } else {
                part.parse().ok()
            }
        })
        .collect::<Option<_>>()
        .filter(|n: &Vec<u64>| n.len() == 3)
        .ok_or_else(|| {
            Error::new(format!(
                "version `{version}` is not MAJOR.MINOR.PATCH, so it cannot be bumped \
                 (set a semantic version in {FILE_NAME}, or deploy with --no-bump)"
            ))
        })?;
    let patch = numbers[2].checked_add(1).ok_or_else(|| {
        Error::new(format!(
            "version `{version}`: the patch number is at its limit"
        ))
    })?;
    Ok(format!("{}.{}.{patch}", numbers[0], numbers[1]))
}

/// `text` (a whole func.yaml) with its top-level `version` set to
/// `version`. Only that line changes, so comments and the other keys stay
/// as the user wrote them; a file without `version` gets one after `name`
/// (or at the end).
///
/// ```
/// let text = "schema_version: 20180708\nname: hi # mine\nversion: 0.0.1\n";
/// let out = cargo_fdk::funcfile::with_version(text, "0.0.2")?;
/// assert_eq!(out, "schema_version: 20180708\nname: hi # mine\nversion: 0.0.2\n");
/// # Ok::<(), cargo_fdk::Error>(())
/// ```
pub fn with_version(text: &str, version: &str) -> Result<String> {
    // Parse first: a file that does not read is not rewritten.
    FuncFile::parse_with_default_name(text, Some("unnamed"))?;
    let line = format!("version: {}", yaml::quote(version));
    let is_key = |l: &str, key: &str| {
        l.strip_prefix(key)
            .is_some_and(|rest| rest.starts_with(':'))
    };
    let has_version = text.lines().any(|l| is_key(l, "version"));
    // Where the line goes: in place of `version`, else after `name`.
    let anchor = if has_version { "version" } else { "name" };
    let mut out = String::with_capacity(text.len() + line.len() + 1);
    let mut done = false;
    for l in text.split_inclusive('\n') {
        if done || !is_key(l, anchor) {
            out.push_str(l);
            continue;
        }
        done = true;
        if has_version {
            out.push_str(&line);
            out.push_str(if l.ends_with("\r\n") { "\r\n" } else { "\n" });
        } else {
            out.push_str(l);
            if !l.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    if !done {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// A function name: lowercase letters, digits and `.`, `_`, `-` between
/// them, so that it can be an image name.
pub fn check_name(name: &str) -> Result<()> {
    reference::check_component(name).map_err(|why| {
        Error::new(format!(
            "the function name `{name}` cannot be an image name: {why}"
        ))
    })
}

fn display_dir(dir: &Path) -> String {
    if dir.as_os_str().is_empty() || dir == Path::new(".") {
        "the current directory".to_owned()
    } else {
        dir.display().to_string()
    }
}

fn wrong_kind(key: &str, expected: &str, found: &Value) -> Error {
    Error::new(format!(
        "`{key}` must be {expected}, found {}",
        found.kind()
    ))
}

fn text_of(key: &str, value: &Value) -> Result<String> {
    match value {
        Value::Scalar(text) => Ok(text.clone()),
        other => Err(wrong_kind(key, "a single value", other)),
    }
}

fn optional_text(key: &str, value: &Value) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::Scalar(text) if text.is_empty() => Ok(None),
        other => text_of(key, other).map(Some),
    }
}

fn number<T: std::str::FromStr>(value: Option<&Value>, key: &str, unit: &str) -> Result<Option<T>> {
    let Some(text) = value.map(|v| optional_text(key, v)).transpose()?.flatten() else {
        return Ok(None);
    };
    text.parse()
        .map(Some)
        .map_err(|_| Error::new(format!("`{key}` must be {unit}, found `{text}`")))
}

fn trigger(item: &Value) -> Result<Trigger> {
    let Value::Map(entries) = item else {
        return Err(wrong_kind(
            "triggers",
            "a list of `name`/`type`/`source` maps",
            item,
        ));
    };
    let field = |key: &str| -> Result<String> {
        let value = entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        value
            .map(|v| optional_text(&format!("triggers.{key}"), v))
            .transpose()?
            .flatten()
            .ok_or_else(|| Error::new(format!("a trigger has no `{key}`")))
    };
    Ok(Trigger {
        name: field("name")?,
        kind: field("type")?,
        source: field("source")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_typed_keys_and_ignores_the_others() {
        let text = "schema_version: 20180708\nname: orders\nversion: 1.2.3\nruntime: docker\n\
                    build_image: x\nannotations:\n  a.b/c: d\nmemory: 256\ntimeout: 30\n\
                    idle_timeout: 120\nconfig:\n  DB_URL: \"postgres://db:5432/x\"\n  EMPTY:\n\
                    build:\n- cargo fdk build --out .fn/func\n\
                    triggers:\n- name: orders\n  type: http\n  source: /orders\n";
        let func = FuncFile::parse(text).unwrap();
        assert_eq!(func.name, "orders");
        assert_eq!(func.version, "1.2.3");
        assert_eq!(func.runtime.as_deref(), Some("docker"));
        assert_eq!(
            (func.memory, func.timeout, func.idle_timeout),
            (Some(256), Some(30), Some(120))
        );
        assert_eq!(func.config["DB_URL"], "postgres://db:5432/x");
        assert_eq!(func.config["EMPTY"], "");
        assert_eq!(func.build, ["cargo fdk build --out .fn/func"]);
        assert_eq!(
            func.triggers,
            [Trigger {
                name: "orders".into(),
                kind: "http".into(),
                source: "/orders".into()
            }]
        );
    }

    #[test]
    fn writes_what_it_reads() {
        let mut func = FuncFile::new("hello");
        func.memory = Some(128);
        func.timeout = Some(30);
        func.build = vec!["cargo fdk build --out .fn/func".into()];
        func.config.insert("GREETING".into(), "Hi: there".into());
        func.version = "1.0".into();
        let text = func.to_yaml();
        assert!(
            text.starts_with("schema_version: 20180708\nname: hello\nversion: \"1.0\"\n"),
            "{text}"
        );
        assert!(
            text.contains("triggers:\n- name: hello\n  type: http\n  source: /hello\n"),
            "{text}"
        );
        assert_eq!(FuncFile::parse(&text).unwrap(), func);
    }

    #[test]
    fn defaults_like_fn() {
        let func =
            FuncFile::parse_with_default_name("schema_version: 20180708\n", Some("dir-name"))
                .unwrap();
        assert_eq!(
            (func.name.as_str(), func.version.as_str()),
            ("dir-name", "0.0.1")
        );
        assert!(func.triggers.is_empty() && func.runtime.is_none());
    }

    #[test]
    fn clear_errors() {
        for (text, want) in [
            ("", "empty"),
            ("- a\n", "expected `key: value` lines"),
            ("name: x\n", "no schema_version"),
            (
                "schema_version: 1\nname: x\n",
                "schema_version 1 is not supported",
            ),
            ("schema_version: 20180708\n", "no `name`"),
            (
                "schema_version: 20180708\nname: Hello\n",
                "cannot be an image name",
            ),
            (
                "schema_version: 20180708\nname: x\nmemory: lots\n",
                "`memory` must be a whole number of MiB",
            ),
            (
                "schema_version: 20180708\nname: x\nconfig:\n- a\n",
                "`config` must be a map",
            ),
            (
                "schema_version: 20180708\nname: x\ntriggers:\n- name: t\n",
                "a trigger has no `type`",
            ),
            (
                "schema_version: 20180708\nname: x\nconfig: {}\n",
                "line 3: a flow collection",
            ),
        ] {
            let err = FuncFile::parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn load_names_the_missing_file() {
        let tmp = crate::testutil::TempDir::new("funcfile");
        let dir = tmp.path().to_path_buf();
        let err = FuncFile::load(&dir).unwrap_err().to_string();
        assert!(err.starts_with("no func.yaml in "), "{err}");
        std::fs::write(
            dir.join(FILE_NAME),
            "schema_version: 20180708\nversion: 2.0.0\n",
        )
        .unwrap();
        let func = FuncFile::load(&dir).unwrap();
        assert!(
            func.name.starts_with("cargo-fdk-unit-funcfile-"),
            "{}",
            func.name
        );
        std::fs::write(dir.join(FILE_NAME), "schema_version: 20180708\nname: [x]\n").unwrap();
        let err = FuncFile::load(&dir).unwrap_err().to_string();
        assert!(
            err.contains("func.yaml: line 2: a flow collection"),
            "{err}"
        );
    }

    #[test]
    fn version_bump_changes_one_line() {
        let text = "# mine\nschema_version: 20180708\nname: hi\nversion: '1.2.3'  # c\nconfig:\n  version: x\n";
        let out = with_version(text, &next_patch("1.2.3").unwrap()).unwrap();
        assert_eq!(
            out,
            "# mine\nschema_version: 20180708\nname: hi\nversion: 1.2.4\nconfig:\n  version: x\n"
        );
        assert_eq!(FuncFile::parse(&out).unwrap().version, "1.2.4");
        // No version: one after `name`, even when `name` is the last line.
        let out = with_version("schema_version: 20180708\nname: hi", "0.0.2").unwrap();
        assert_eq!(out, "schema_version: 20180708\nname: hi\nversion: 0.0.2\n");
        let out = with_version("schema_version: 20180708\n", "0.0.2").unwrap();
        assert_eq!(out, "schema_version: 20180708\nversion: 0.0.2\n");
        assert!(with_version("schema_version: 1\n", "0.0.2").is_err());
        assert_eq!(next_patch("1.2.3-rc.1+b").unwrap(), "1.2.4");
        for bad in ["1.2", "01.2.3", "1.2.x", "", "1.2.3.4"] {
            let err = next_patch(bad).unwrap_err().to_string();
            assert!(err.contains("--no-bump"), "{bad}: {err}");
        }
    }
}
