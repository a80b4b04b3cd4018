//! `cargo fdk new`: a function crate that builds and passes its own test
//! out of the box, with Fn's `func.yaml` and, for the stock `fn build` where
//! a Docker daemon exists, a `FROM scratch` Dockerfile.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::funcfile::{self, FuncFile};

/// Where the generated crate gets the FDK from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdkSource {
    /// A local checkout's `fdk/` directory.
    Path(PathBuf),
    /// A version from the registry.
    Version(String),
}

impl FdkSource {
    /// This repository's `fdk/` when cargo-fdk was built from it and it is
    /// still there; else the registry version matching cargo-fdk's own.
    pub fn default_for_this_build() -> FdkSource {
        let repo_fdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("fdk");
        match repo_fdk.join("Cargo.toml").canonicalize() {
            Ok(manifest) if is_fdk_manifest(&manifest) => {
                FdkSource::Path(manifest.parent().map(Path::to_path_buf).unwrap_or(repo_fdk))
            }
            _ => FdkSource::Version(env!("CARGO_PKG_VERSION").to_owned()),
        }
    }

    /// The dependency's inline table, without `features`.
    fn toml(&self) -> String {
        match self {
            FdkSource::Path(path) => {
                format!(
                    "package = \"fn-fdk\", path = {}",
                    toml_string(&path.to_string_lossy())
                )
            }
            FdkSource::Version(version) => {
                format!("package = \"fn-fdk\", version = {}", toml_string(version))
            }
        }
    }
}

fn is_fdk_manifest(manifest: &Path) -> bool {
    std::fs::read_to_string(manifest).is_ok_and(|text| text.contains("name = \"fn-fdk\""))
}

/// What `cargo fdk new` makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFunction {
    /// The directory to create (must not exist, or be empty).
    pub dir: PathBuf,
    /// The function, package and binary name.
    pub name: String,
    /// Where the FDK comes from.
    pub fdk: FdkSource,
}

/// Rust's keywords and the names cargo refuses for a package.
const RESERVED: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "gen",
    "macro",
    "override",
    "priv",
    "try",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "alloc",
    "core",
    "proc_macro",
    "proc-macro",
    "std",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
    "fdk",
    "fn-fdk",
    "fn_fdk",
    "tokio",
];

/// A name that is a valid function (image) name and a valid package name.
pub fn check_new_name(name: &str) -> Result<()> {
    funcfile::check_name(name)?;
    if name.contains('.') || name.contains("__") {
        return Err(Error::new(format!(
            "`{name}` cannot be a package name: use letters, digits, `-` and `_`"
        )));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(Error::new(format!(
            "`{name}` cannot be a package name: it must start with a letter"
        )));
    }
    if RESERVED.contains(&name) {
        return Err(Error::new(format!(
            "`{name}` cannot be the function's name: it is a Rust keyword or a name cargo or the FDK uses"
        )));
    }
    if name.len() > 64 {
        return Err(Error::new(format!("`{name}` is longer than 64 characters")));
    }
    Ok(())
}

impl NewFunction {
    /// The files, relative to the crate's directory, and their text.
    pub fn files(&self) -> Vec<(&'static str, String)> {
        let name = &self.name;
        let fdk = self.fdk.toml();
        let cargo_toml = format!(
            r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

# The function: `cargo fdk image` puts this binary at /function/func.
[[bin]]
name = "{name}"
path = "src/main.rs"

[dependencies]
fdk = {{ {fdk} }}

[dev-dependencies]
fdk = {{ {fdk}, features = ["testing"] }}
tokio = {{ version = "1", features = ["rt", "macros"] }}

# Small, fast-starting binaries. Keep panic = "unwind": the FDK answers a
# handler's panic with a 502 and goes on serving.
[profile.release]
codegen-units = 1
lto = "fat"
panic = "unwind"
strip = "symbols"

# A workspace of its own; delete `[workspace]` to make the crate a member of
# an enclosing workspace instead.
[workspace]
"#
        );
        let main_rs = format!(
            r#"//! The `{name}` function: answers `Hello <name>` with the request body as
//! the name, or `Hello World` when the body is empty.

/// Greets the caller by the name in the body.
#[fdk::handler]
fn hello(body: String) -> String {{
    let name = body.trim();
    format!("Hello {{}}", if name.is_empty() {{ "World" }} else {{ name }})
}}

#[cfg(test)]
mod tests {{
    use super::*;
    use fdk::testing::TestCall;

    async fn handler(body: String) -> String {{
        hello(body)
    }}

    #[tokio::test]
    async fn greets_by_name() {{
        let res = TestCall::invoke().body("Jimmy").send(handler).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.text(), "Hello Jimmy");
    }}

    #[tokio::test]
    async fn greets_the_world_when_the_body_is_empty() {{
        let res = TestCall::invoke().send(handler).await;
        assert_eq!(res.text(), "Hello World");
    }}
}}
"#
        );
        let mut func = FuncFile::new(name);
        func.build = vec!["cargo fdk build --out .fn/func".to_owned()];
        func.memory = Some(128);
        func.timeout = Some(30);
        let dockerfile = r#"# For the stock `fn build` / `fn deploy` where a Docker daemon exists (cargo fdk
# image needs neither). func.yaml's `build:` step, which fn runs on the host
# first, puts the static binary at .fn/func; nothing is pulled.
FROM scratch
COPY .fn/func /function/func
WORKDIR /function
ENTRYPOINT ["/function/func"]
"#;
        vec![
            ("Cargo.toml", cargo_toml),
            ("src/main.rs", main_rs),
            (funcfile::FILE_NAME, func.to_yaml()),
            ("Dockerfile", dockerfile.to_owned()),
            (
                ".dockerignore",
                "# Only the binary goes to the Docker build context.\n*\n!.fn/func\n".to_owned(),
            ),
            (".gitignore", "/target\n/.fn\n".to_owned()),
        ]
    }

    /// Writes the crate. Refuses a directory that exists and is not empty.
    pub fn create(&self) -> Result<Vec<PathBuf>> {
        check_new_name(&self.name)?;
        if let Ok(mut entries) = std::fs::read_dir(&self.dir)
            && entries.next().is_some()
        {
            return Err(Error::new(format!(
                "{} already exists and is not empty",
                self.dir.display()
            )));
        }
        let mut written = Vec::new();
        for (relative, text) in self.files() {
            let path = self.dir.join(relative);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|err| Error::io("create", parent, &err))?;
            }
            std::fs::write(&path, text).map_err(|err| Error::io("write", &path, &err))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn names() {
        for ok in ["hello", "my-func", "f_2", "a1"] {
            check_new_name(ok).unwrap();
        }
        for (bad, why) in [
            ("Hello", "capital"),
            ("1st", "start with a letter"),
            ("my.func", "package name"),
            ("test", "keyword"),
            ("fdk", "keyword"),
            ("a b", "has ` `"),
            ("-x", "start and end"),
        ] {
            let err = check_new_name(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn writes_a_crate_with_func_yaml_and_a_scratch_dockerfile() {
        let tmp = TempDir::new("scaffold");
        let new = NewFunction {
            dir: tmp.path().join("orders"),
            name: "orders".into(),
            fdk: FdkSource::Path(PathBuf::from("/src/fdk \"x\"")),
        };
        let written = new.create().unwrap();
        assert_eq!(written.len(), 6);
        let read = |p: &str| std::fs::read_to_string(new.dir.join(p)).unwrap();
        let cargo = read("Cargo.toml");
        assert!(cargo.contains("name = \"orders\""));
        assert!(
            cargo.contains(r#"fdk = { package = "fn-fdk", path = "/src/fdk \"x\"" }"#),
            "{cargo}"
        );
        assert!(cargo.contains(r#"features = ["testing"]"#));
        assert!(cargo.contains("panic = \"unwind\""));
        let func = FuncFile::parse(&read("func.yaml")).unwrap();
        assert_eq!(
            (func.name.as_str(), func.version.as_str()),
            ("orders", "0.0.1")
        );
        assert_eq!(func.runtime.as_deref(), Some("docker"));
        assert_eq!((func.memory, func.timeout), (Some(128), Some(30)));
        assert_eq!(func.triggers[0].source, "/orders");
        assert_eq!(func.build, ["cargo fdk build --out .fn/func"]);
        let dockerfile = read("Dockerfile");
        assert!(dockerfile.contains("FROM scratch\nCOPY .fn/func /function/func\n"));
        assert!(dockerfile.contains("ENTRYPOINT [\"/function/func\"]"));
        assert!(read(".dockerignore").contains("*\n!.fn/func\n"));
        assert!(read("src/main.rs").contains("#[fdk::handler]"));

        // Not over an existing crate.
        let err = new.create().unwrap_err().to_string();
        assert!(err.ends_with("already exists and is not empty"), "{err}");
    }

    #[test]
    fn a_registry_version_instead_of_a_path() {
        let new = NewFunction {
            dir: PathBuf::from("x"),
            name: "x".into(),
            fdk: FdkSource::Version("0.1.0".into()),
        };
        let cargo = &new.files()[0].1;
        assert!(
            cargo.contains(r#"fdk = { package = "fn-fdk", version = "0.1.0" }"#),
            "{cargo}"
        );
    }

    #[test]
    fn this_build_finds_the_repository_fdk() {
        // cargo-fdk is built from this repository, whose fdk/ is beside it.
        match FdkSource::default_for_this_build() {
            FdkSource::Path(path) => assert!(path.join("src/lib.rs").is_file(), "{path:?}"),
            other => panic!("expected the repository's fdk/, got {other:?}"),
        }
    }
}
