//! `func.yaml`, schema 20180708: what `fn init` writes and `fn deploy`
//! reads. Only the keys cargo fdk uses are typed; the others (`build_image`,
//! `annotations`, `expects`, …) are accepted and left alone.
//!
//! The file is YAML, read with the `yaml-rust2` crate: any valid YAML that
//! `fn` accepts reads here too (flow `{}`/`[]` collections, block scalars,
//! anchors and aliases, `<<` merge keys, comments, `---`/`...` markers).
//! `fn` reads func.yaml with Go's `gopkg.in/yaml.v2`, which is YAML 1.1,
//! into typed fields; where YAML 1.1 and 1.2 differ this reads what `fn`
//! reads:
//!
//! * a text field (`name`, `version`, `runtime`, `build` items, `config`
//!   values, trigger fields) takes the scalar as written: `yes`/`no`/`on`/
//!   `off` are text, not booleans, `version: 1.10` is `1.10`, and only a
//!   plain `~`, `null` or nothing is empty;
//! * a number (`schema_version`, `memory`, `timeout`, `idle_timeout`) must
//!   be a plain scalar, as for yaml.v2's `int` fields: a quoted `"30"` is
//!   refused, as `fn` refuses it; YAML 1.1's forms are read as yaml.v2
//!   reads them (`_` separators, `0x`, `0o`, `0b`, a leading `0` for octal,
//!   `30.0`); a fraction (`30.5`, which yaml.v2 would silently truncate) is
//!   refused;
//! * only the first document is read, as yaml.v2's `Unmarshal` does;
//! * a key given twice is refused (yaml.v2 keeps the last one silently).
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
use tree::Value;

mod tree;

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
        let entries = match tree::parse(text)? {
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
                let found: Option<u64> = number(Some(v), "schema_version", "a whole number")?;
                if found != Some(u64::from(SCHEMA_VERSION)) {
                    let found = found.map_or_else(|| "(none)".to_owned(), |n| n.to_string());
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
        let q = quote;
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
    let line = format!("version: {}", quote(version));
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
    // The line-level edit assumes block style, one line per key; a file in
    // flow style, or whose `version` spans lines, would come out wrong, so
    // the result must read back with the new version.
    let reread = FuncFile::parse_with_default_name(&out, Some("unnamed"));
    if !reread.is_ok_and(|f| f.version == version) {
        return Err(Error::new(format!(
            "cannot set `version: {version}` in {FILE_NAME} line by line (its top-level \
             `version:` is not a one-line `version: VALUE` at the start of a line); \
             set it by hand, or deploy with --no-bump"
        )));
    }
    Ok(out)
}

/// `text` as a YAML scalar that reads back as `text` (in `fn` too): plain
/// when it is unambiguous, else double-quoted. Words that YAML 1.1 reads
/// as booleans or null, and numbers, are quoted so that a text field never
/// looks like another type to any reader.
fn quote(text: &str) -> String {
    let plain_char = |c: char| c.is_ascii_alphanumeric() || " ._/-+=,@()".contains(c);
    let ambiguous = matches!(
        text.to_ascii_lowercase().as_str(),
        "" | "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) || text.parse::<f64>().is_ok()
        || text.starts_with(['-', ' ', '@'])
        || text.ends_with(' ')
        || text.contains(": ")
        || text.contains(" #");
    if !ambiguous && text.chars().all(plain_char) {
        return text.to_owned();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
        Value::Scalar { text, .. } => Ok(text.clone()),
        other => Err(wrong_kind(key, "a single value", other)),
    }
}

fn optional_text(key: &str, value: &Value) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::Scalar { text, .. } if text.is_empty() => Ok(None),
        other => text_of(key, other).map(Some),
    }
}

/// A number field, read as yaml.v2 reads an `int` field: a plain scalar
/// that resolves to an integer, or to a float with no fraction.
fn number<T: TryFrom<i128>>(value: Option<&Value>, key: &str, unit: &str) -> Result<Option<T>> {
    let (text, plain) = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Scalar { text, plain }) => (text, *plain),
        Some(other) => return Err(wrong_kind(key, unit, other)),
    };
    if !plain {
        return Err(Error::new(format!(
            "`{key}` must be {unit}, found the quoted text `{text}` (`fn` reads a quoted \
             number as text and refuses it: remove the quotes)"
        )));
    }
    yaml11_integer(text)
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| Error::new(format!("`{key}` must be {unit}, found `{text}`")))
}

/// A plain scalar's integer value as yaml.v2 (YAML 1.1) resolves it: `_`
/// separators dropped, then Go's `ParseInt(s, 0, 64)` (a sign, `0x`, `0o`,
/// `0b`, a leading `0` for octal) or `ParseUint`, else a decimal float
/// (`30.0`, `3e1`) when it has no fraction.
fn yaml11_integer(text: &str) -> Option<i128> {
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, digits) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    let integer = (!body.is_empty() && !body.starts_with(['+', '-']))
        .then(|| u64::from_str_radix(body, radix).ok())
        .flatten()
        .map(|n| {
            if negative {
                -i128::from(n)
            } else {
                i128::from(n)
            }
        });
    if integer.is_some() {
        return integer;
    }
    // yaml.v2's float form: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
    let mantissa_end = digits.find(['e', 'E']).unwrap_or(digits.len());
    let (mantissa, exponent) = digits.split_at(mantissa_end);
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => {
            whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.bytes().all(|b| b.is_ascii_digit())
                && !(whole.is_empty() && fraction.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_empty() || {
        let e = exponent[1..]
            .strip_prefix(['+', '-'])
            .unwrap_or(&exponent[1..]);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    };
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    let float: f64 = plain.parse().ok()?;
    // Whole and within what any field here can hold.
    (float.fract() == 0.0 && float.abs() < 1e19).then_some(float as i128)
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
                "schema_version: \"20180708\"\nname: x\n",
                "found the quoted text `20180708`",
            ),
            (
                "schema_version: 20180708\nname: x\ntimeout: 30.5\n",
                "`timeout` must be whole seconds, found `30.5`",
            ),
            (
                "schema_version: 20180708\nname: x\nmemory: -1\n",
                "`memory` must be a whole number of MiB, found `-1`",
            ),
            (
                "schema_version: 20180708\nname: x\nname: y\n",
                "line 3, column 1: `name` is given twice",
            ),
            (
                "schema_version: 20180708\nname: x\nconfig: {a: 1\n",
                "line 4",
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
            err.contains("func.yaml: `name` must be a single value, found a list"),
            "{err}"
        );
        std::fs::write(dir.join(FILE_NAME), "schema_version: 20180708\nname: 'x\n").unwrap();
        let err = FuncFile::load(&dir).unwrap_err().to_string();
        assert!(err.contains("func.yaml: line 2, column 7: "), "{err}");
    }

    /// Hand-written or tool-written YAML that `fn` reads: flow
    /// collections, block scalars, anchors, comments, document markers.
    #[test]
    fn reads_any_yaml_that_fn_reads() {
        let base = "schema_version: 20180708\nname: x\n";
        let parse = |rest: &str| FuncFile::parse(&format!("{base}{rest}")).unwrap();
        assert!(parse("config: {}\n").config.is_empty());
        assert!(
            parse("config: {}\ntriggers: []\nbuild: []\n")
                .triggers
                .is_empty()
        );
        let func = parse("config: {A: 1, B: \"two\", C: ~}\n");
        assert_eq!(
            func.config,
            BTreeMap::from([
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "two".to_owned()),
                ("C".to_owned(), String::new()),
            ])
        );
        assert_eq!(parse("build: [a, b]\n").build, ["a", "b"]);
        let func = parse("triggers: [{name: t, type: http, source: /t}]\n");
        assert_eq!(func.triggers[0].source, "/t");
        // Block scalars: literal keeps the newlines, folded joins lines.
        let func = parse("build:\n- |\n  echo one\n  echo two\n- >-\n  cargo fdk\n  build\n");
        assert_eq!(func.build, ["echo one\necho two\n", "cargo fdk build"]);
        // Anchors, aliases and merge keys.
        let func = parse(
            "config: &c\n  A: a\nannotations: *c\n\
             triggers:\n- &t {name: t, type: http, source: /t}\n- <<: *t\n  source: /u\n",
        );
        assert_eq!(func.config["A"], "a");
        assert_eq!(
            func.triggers[1],
            Trigger {
                name: "t".into(),
                kind: "http".into(),
                source: "/u".into()
            }
        );
        // Comments anywhere, and document markers.
        let func = FuncFile::parse(
            "%YAML 1.2\n--- # the function\nschema_version: 20180708 # fixed\n\
             name: x # mine\nversion: 0.0.3\n...\n",
        )
        .unwrap();
        assert_eq!((func.name.as_str(), func.version.as_str()), ("x", "0.0.3"));
        assert_eq!(
            FuncFile::parse(&format!("---\n{base}---\nname: ignored\n"))
                .unwrap()
                .name,
            "x"
        );
    }

    /// Where YAML 1.1 (yaml.v2, what `fn` uses) and 1.2 differ, the text
    /// fields read as `fn` reads them: the scalar as written.
    #[test]
    fn scalars_read_as_fn_reads_them() {
        let func = FuncFile::parse(
            "schema_version: 0x133EEE4\nname: yes\nversion: 1.10\nruntime: off\n\
             memory: 0o200\ntimeout: 1_0\nidle_timeout: 30.0\n\
             config:\n  ON: no\n  OCT: 010\n  Q: 'yes'\n",
        )
        .unwrap();
        assert_eq!(func.name, "yes");
        assert_eq!(func.version, "1.10");
        assert_eq!(func.runtime.as_deref(), Some("off"));
        assert_eq!(
            (func.memory, func.timeout, func.idle_timeout),
            (Some(128), Some(10), Some(30))
        );
        assert_eq!(func.config["ON"], "no");
        assert_eq!(func.config["OCT"], "010");
        assert_eq!(func.config["Q"], "yes");
        for (text, want) in [
            ("30", 30),
            ("+30", 30),
            ("-30", -30),
            ("0x1e", 30),
            ("0b11110", 30),
            ("036", 30),
            ("036.0", 36),
            ("3e1", 30),
            ("08", 8),
        ] {
            assert_eq!(yaml11_integer(text), Some(want), "{text}");
        }
        for text in ["", "0x", "1.5", ".inf", "thirty", "--3", "1e400", "0x-1"] {
            assert_eq!(yaml11_integer(text), None, "{text}");
        }
    }

    /// What `to_yaml` writes reads back as the same text, for the values
    /// that YAML would otherwise read as something else.
    #[test]
    fn quoted_text_reads_back() {
        let mut func = FuncFile::new("q");
        for (i, value) in [
            "yes",
            "No",
            "~",
            "null",
            "1.0",
            "0x10",
            "-a",
            " a",
            "a ",
            "a: b",
            "a #b",
            "\"q\"",
            "back\\slash",
            "line\nbreak",
            "tab\there",
            "\u{1}",
            "[x]",
            "{y}",
            "*z",
            "&w",
            "!v",
            "%u",
            "'t'",
            "|",
            ">",
            "",
            "ünï",
        ]
        .into_iter()
        .enumerate()
        {
            func.config.insert(format!("K{i}"), value.to_owned());
        }
        func.version = "2.0".into();
        assert_eq!(FuncFile::parse(&func.to_yaml()).unwrap(), func);
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
        // After a document marker, with a comment: still one line.
        let out = with_version(
            "---\nschema_version: 20180708\nname: hi\nversion: 0.0.1 # v\n",
            "0.0.2",
        );
        assert_eq!(
            out.unwrap(),
            "---\nschema_version: 20180708\nname: hi\nversion: 0.0.2\n"
        );
        // Flow style, or a version over two lines: refused, not mangled.
        for text in [
            "{schema_version: 20180708, name: hi, version: 0.0.1}\n",
            "schema_version: 20180708\nname: hi\nversion: >-\n  0.0.1\n",
        ] {
            let err = with_version(text, "0.0.2").unwrap_err().to_string();
            assert!(err.contains("line by line"), "{text:?}: {err}");
        }
        assert_eq!(next_patch("1.2.3-rc.1+b").unwrap(), "1.2.4");
        for bad in ["1.2", "01.2.3", "1.2.x", "", "1.2.3.4"] {
            let err = next_patch(bad).unwrap_err().to_string();
            assert!(err.contains("--no-bump"), "{bad}: {err}");
        }
    }
}
