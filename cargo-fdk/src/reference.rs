//! Image references (`[registry/]name:tag`), checked against the grammar of
//! the distribution project's `reference` package, which Docker, containerd,
//! skopeo and the Fn server all use.
//!
//! ```
//! use cargo_fdk::reference::Reference;
//!
//! let r = Reference::parse("localhost:5000/team/hello:0.0.1")?;
//! assert_eq!(r.domain(), Some("localhost:5000"));
//! assert_eq!(r.path(), "team/hello");
//! assert_eq!(r.tag(), "0.0.1");
//! assert_eq!(r.to_string(), "localhost:5000/team/hello:0.0.1");
//!
//! let short = Reference::parse("hello:0.0.1")?;
//! assert_eq!(short.normalized(), "docker.io/library/hello:0.0.1");
//! assert!(Reference::parse("Hello:0.0.1").is_err()); // names are lowercase
//! # Ok::<(), cargo_fdk::Error>(())
//! ```

use std::fmt;

use crate::error::{Error, Result};

/// The longest name (registry and path) a registry accepts.
pub const MAX_NAME_LEN: usize = 255;
/// The longest tag.
pub const MAX_TAG_LEN: usize = 128;

/// A tagged image reference: `[domain/]path:tag`. No digest: an image's
/// digest is computed from its content, never chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    domain: Option<String>,
    path: String,
    tag: String,
}

impl Reference {
    /// Parses and checks `name:tag`, with an optional registry in front.
    pub fn parse(text: &str) -> Result<Reference> {
        let bad = |why: &str| Error::new(format!("`{text}` is not a valid image reference: {why}"));
        if text.contains('@') {
            return Err(bad(
                "a digest (`@sha256:…`) cannot be given; it is computed from the image",
            ));
        }
        let last_slash = text.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match text[last_slash..].rfind(':') {
            Some(i) => (&text[..last_slash + i], &text[last_slash + i + 1..]),
            None => return Err(bad("no tag (write it as name:tag)")),
        };
        check_tag(tag).map_err(|why| bad(&why))?;
        let (domain, path) = split_domain(name);
        if let Some(domain) = domain {
            check_domain(domain).map_err(|why| bad(&why))?;
        }
        check_path(path).map_err(|why| bad(&why))?;
        if name.len() > MAX_NAME_LEN {
            return Err(bad(&format!(
                "the name is longer than {MAX_NAME_LEN} characters"
            )));
        }
        Ok(Reference {
            domain: domain.map(str::to_owned),
            path: path.to_owned(),
            tag: tag.to_owned(),
        })
    }

    /// Builds `[registry/]name:tag` from parts (e.g. `FN_REGISTRY`, a
    /// function name and its version) and checks it.
    pub fn from_parts(registry: Option<&str>, name: &str, tag: &str) -> Result<Reference> {
        let registry = registry
            .map(|r| r.trim_end_matches('/'))
            .filter(|r| !r.is_empty());
        match registry {
            Some(registry) => Reference::parse(&format!("{registry}/{name}:{tag}")),
            None => Reference::parse(&format!("{name}:{tag}")),
        }
    }

    /// The registry (`host[:port]`), if the reference names one.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// The repository path, e.g. `team/hello`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag, e.g. `0.0.1`.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The name without the tag: `[domain/]path`.
    pub fn name(&self) -> String {
        match &self.domain {
            Some(domain) => format!("{domain}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// The fully qualified form containerd stores: `docker.io/library/` is
    /// added to a bare name, `docker.io/` to a path with no registry.
    pub fn normalized(&self) -> String {
        match &self.domain {
            Some(_) => self.to_string(),
            None if self.path.contains('/') => format!("docker.io/{self}"),
            None => format!("docker.io/library/{self}"),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name(), self.tag)
    }
}

/// The first component is a registry when it looks like a host: it has a
/// `.` or a `:`, or is `localhost` (Docker's rule).
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// `[\w][\w.-]{0,127}`.
fn check_tag(tag: &str) -> std::result::Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    match chars.next() {
        None => return Err("the tag is empty".into()),
        Some(c) if !word(c) => {
            return Err(format!(
                "the tag `{tag}` must start with a letter, digit or `_`"
            ));
        }
        _ => {}
    }
    if let Some(c) = chars.find(|&c| !(word(c) || c == '.' || c == '-')) {
        return Err(format!(
            "the tag `{tag}` has `{c}`; tags are letters, digits, `_`, `.` and `-`"
        ));
    }
    if tag.len() > MAX_TAG_LEN {
        return Err(format!("the tag is longer than {MAX_TAG_LEN} characters"));
    }
    Ok(())
}

/// `host[:port]`, host a dotted name of `[a-zA-Z0-9-]` labels or `[IPv6]`.
fn check_domain(domain: &str) -> std::result::Result<(), String> {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return Err(format!("the registry `{domain}` has an unclosed `[`"));
        };
        if v6.is_empty()
            || !v6
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(format!(
                "the registry `{domain}` is not a valid IPv6 address"
            ));
        }
        match after {
            "" => (None, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return Err(format!("the registry `{domain}` is not host[:port]")),
            },
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host {
        for label in host.split('.') {
            let ok = !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !ok {
                return Err(format!(
                    "the registry host `{host}` is not a valid host name"
                ));
            }
        }
    }
    if let Some(port) = port
        && (port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("the registry port `{port}` is not a number"));
    }
    Ok(())
}

/// `path-component ['/' path-component]*`.
fn check_path(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() {
        return Err("the name is empty".into());
    }
    path.split('/').try_for_each(check_component)
}

/// `[a-z0-9]+ (separator [a-z0-9]+)*` with separator `_`, `__`, `.` or `-+`.
pub(crate) fn check_component(component: &str) -> std::result::Result<(), String> {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes = component.as_bytes();
    if bytes.is_empty() {
        return Err("a name component is empty (`//`, or a `/` at an end)".into());
    }
    if bytes.iter().any(u8::is_ascii_uppercase) {
        return Err(format!(
            "`{component}` has capital letters; names are lowercase"
        ));
    }
    if let Some(&c) = bytes
        .iter()
        .find(|&&c| !(alnum(c) || matches!(c, b'_' | b'.' | b'-')))
    {
        return Err(format!(
            "`{component}` has `{}`; names are a-z, 0-9 and the separators `.`, `_`, `__`, `-`",
            c as char
        ));
    }
    let (first, last) = (bytes[0], bytes[bytes.len() - 1]);
    if !alnum(first) || !alnum(last) {
        return Err(format!(
            "`{component}` must start and end with a letter or digit"
        ));
    }
    // Between two alphanumeric runs: `.`, `_`, `__`, or any number of `-`.
    for run in component.split(|c: char| c.is_ascii_alphanumeric()) {
        let ok = matches!(run, "" | "." | "_" | "__") || run.bytes().all(|c| c == b'-');
        if !ok {
            return Err(format!(
                "`{component}` has the separator `{run}`; use `.`, `_`, `__` or `-`"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_shapes() {
        for (text, domain, path, tag) in [
            ("hello:0.0.1", None, "hello", "0.0.1"),
            ("team/hello:v1", None, "team/hello", "v1"),
            ("localhost/hello:1", Some("localhost"), "hello", "1"),
            (
                "localhost:5000/a/b/c:latest",
                Some("localhost:5000"),
                "a/b/c",
                "latest",
            ),
            (
                "iad.ocir.io/ns/repo/fn:0.0.2",
                Some("iad.ocir.io"),
                "ns/repo/fn",
                "0.0.2",
            ),
            ("[::1]:5000/hello:x", Some("[::1]:5000"), "hello", "x"),
            ("a__b.c-d---e_f:_T.a-g", None, "a__b.c-d---e_f", "_T.a-g"),
        ] {
            let r = Reference::parse(text).unwrap();
            assert_eq!(
                (r.domain(), r.path(), r.tag()),
                (domain, path, tag),
                "{text}"
            );
            assert_eq!(r.to_string(), text);
        }
    }

    #[test]
    fn refuses_what_a_registry_refuses() {
        for (text, why) in [
            ("hello", "no tag"),
            ("hello:", "the tag is empty"),
            ("hello:0.0.1+build", "has `+`"),
            ("hello:.x", "must start with"),
            ("Hello:1", "capital letters"),
            ("he..llo:1", "separator `..`"),
            ("he___llo:1", "separator `___`"),
            ("-hello:1", "must start and end"),
            ("team//hello:1", "empty"),
            ("hello@sha256:abcd", "digest"),
            ("reg.io:port/hello:1", "port `port`"),
            ("bad_host.io/hello:1", "not a valid host name"),
            ("he llo:1", "has ` `"),
        ] {
            let err = Reference::parse(text).unwrap_err();
            assert!(err.message().contains(why), "{text}: {err}");
            assert!(
                err.message()
                    .starts_with(&format!("`{text}` is not a valid image reference"))
            );
        }
        let long = format!("{}:1", "a".repeat(256));
        assert!(Reference::parse(&long).is_err());
        let long_tag = format!("a:{}", "t".repeat(129));
        assert!(Reference::parse(&long_tag).is_err());
        assert!(Reference::parse(&format!("a:{}", "t".repeat(128))).is_ok());
    }

    #[test]
    fn a_port_without_a_registry_is_a_tag() {
        // `hello:5000/x` has its last `:` before the last `/`: no tag at all.
        assert!(Reference::parse("hello:5000/x").is_err());
    }

    #[test]
    fn normalizes_like_containerd() {
        let n = |t: &str| Reference::parse(t).unwrap().normalized();
        assert_eq!(n("hello:1"), "docker.io/library/hello:1");
        assert_eq!(n("team/hello:1"), "docker.io/team/hello:1");
        assert_eq!(n("localhost:5000/hello:1"), "localhost:5000/hello:1");
    }

    #[test]
    fn from_parts_joins_a_registry() {
        let r = Reference::from_parts(Some("localhost:5000/team/"), "hello", "0.0.1").unwrap();
        assert_eq!(r.to_string(), "localhost:5000/team/hello:0.0.1");
        let r = Reference::from_parts(Some(""), "hello", "0.0.1").unwrap();
        assert_eq!(r.to_string(), "hello:0.0.1");
        assert!(Reference::from_parts(None, "hello", "0.0.1+x").is_err());
    }
}
