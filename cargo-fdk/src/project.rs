//! The function's crate as cargo sees it (`cargo metadata`): its package,
//! the binary that becomes `/function/func`, the target directory, and the
//! `fn-fdk` version it resolved.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::error::{Error, Result};

/// The FDK's package name on crates.io and in this repository.
pub const FDK_PACKAGE: &str = "fn-fdk";

/// A function crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The directory holding `Cargo.toml` (and `func.yaml`).
    pub dir: PathBuf,
    /// The package's `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The package name.
    pub package: String,
    /// The binary target that is the function.
    pub bin: String,
    /// Cargo's target directory (`CARGO_TARGET_DIR` or the workspace's `target/`).
    pub target_directory: PathBuf,
    /// The `fn-fdk` version the package depends on, if it does.
    pub fdk_version: Option<String>,
}

/// The `cargo` to run: `$CARGO` (set when cargo runs a subcommand) or `cargo`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

impl Project {
    /// Reads the package at `manifest_path` and picks its binary: `bin` if
    /// given, else the only one, else the one named `preferred` (the
    /// function's name) or named like the package.
    pub fn load(
        manifest_path: &Path,
        bin: Option<&str>,
        preferred: Option<&str>,
    ) -> Result<Project> {
        if !manifest_path.is_file() {
            return Err(Error::new(format!(
                "no Cargo.toml at {} (run cargo fdk in the function's directory, or pass --manifest-path)",
                manifest_path.display()
            )));
        }
        let manifest_path = manifest_path
            .canonicalize()
            .map_err(|err| Error::io("read", manifest_path, &err))?;
        let dir = manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let output = cargo()
            .args(["metadata", "--format-version", "1", "--manifest-path"])
            .arg(&manifest_path)
            .current_dir(&dir)
            .output()
            .map_err(|err| Error::new(format!("cannot run cargo: {err}")))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr
                .lines()
                .find(|l| l.starts_with("error"))
                .or_else(|| stderr.lines().next())
                .unwrap_or("no message");
            return Err(Error::new(format!(
                "cargo metadata failed: {}",
                first.trim()
            )));
        }
        let metadata: Value = serde_json::from_slice(&output.stdout)
            .map_err(|err| Error::new(format!("cannot read cargo metadata's output: {err}")))?;
        Self::from_metadata(&metadata, &manifest_path, bin, preferred)
    }

    /// Builds the project from `cargo metadata --format-version 1` output.
    pub fn from_metadata(
        metadata: &Value,
        manifest_path: &Path,
        bin: Option<&str>,
        preferred: Option<&str>,
    ) -> Result<Project> {
        let packages = metadata["packages"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let package = packages
            .iter()
            .find(|p| p["manifest_path"].as_str().map(Path::new) == Some(manifest_path))
            .ok_or_else(|| {
                Error::new(format!(
                    "{} is a workspace manifest, not a package; run cargo fdk in the function's own directory",
                    manifest_path.display()
                ))
            })?;
        let name = package["name"].as_str().unwrap_or_default().to_owned();
        let bins: Vec<&str> = package["targets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bin"))
            })
            .filter_map(|t| t["name"].as_str())
            .collect();
        let chosen = match bin {
            Some(bin) if bins.contains(&bin) => bin.to_owned(),
            Some(bin) if bins.is_empty() => return Err(no_bin(&name, Some(bin))),
            Some(bin) => {
                return Err(Error::new(format!(
                    "the package `{name}` has no binary `{bin}` (its binaries: {})",
                    bins.join(", ")
                )));
            }
            None => match bins.as_slice() {
                [] => return Err(no_bin(&name, None)),
                [only] => (*only).to_owned(),
                several => several
                    .iter()
                    .find(|b| Some(**b) == preferred)
                    .or_else(|| several.iter().find(|b| **b == name))
                    .map(|b| (*b).to_owned())
                    .ok_or_else(|| {
                        Error::new(format!(
                            "the package `{name}` has several binaries ({}); choose the function with --bin",
                            several.join(", ")
                        ))
                    })?,
            },
        };
        let id = package["id"].as_str().unwrap_or_default();
        let fdk_version = fdk_version(metadata, id);
        Ok(Project {
            dir: manifest_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            manifest_path: manifest_path.to_path_buf(),
            package: name,
            bin: chosen,
            target_directory: metadata["target_directory"]
                .as_str()
                .map(PathBuf::from)
                .ok_or_else(|| Error::new("cargo metadata gave no target_directory"))?,
            fdk_version,
        })
    }
}

fn no_bin(package: &str, bin: Option<&str>) -> Error {
    let asked = bin
        .map(|b| format!(" (asked for `{b}`)"))
        .unwrap_or_default();
    Error::new(format!(
        "the package `{package}` has no binary target{asked}: a function is an executable \
         (add src/main.rs, or a [[bin]] section in Cargo.toml)"
    ))
}

/// The version of `fn-fdk` among the package's direct dependencies.
fn fdk_version(metadata: &Value, package_id: &str) -> Option<String> {
    let nodes = metadata["resolve"]["nodes"].as_array()?;
    let node = nodes.iter().find(|n| n["id"] == package_id)?;
    let dep_ids: Vec<&str> = node["deps"]
        .as_array()?
        .iter()
        .filter_map(|d| d["pkg"].as_str())
        .collect();
    metadata["packages"]
        .as_array()?
        .iter()
        .find(|p| {
            p["name"] == FDK_PACKAGE && p["id"].as_str().is_some_and(|id| dep_ids.contains(&id))
        })
        .and_then(|p| p["version"].as_str())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata(targets: Value) -> Value {
        json!({
            "packages": [
                {"name": "fn", "id": "path+file:///f#0.1.0", "version": "0.1.0",
                 "manifest_path": "/f/Cargo.toml", "targets": targets},
                {"name": "fn-fdk", "id": "path+file:///fdk#fn-fdk@0.3.0", "version": "0.3.0",
                 "manifest_path": "/fdk/Cargo.toml", "targets": []}
            ],
            "resolve": {"nodes": [
                {"id": "path+file:///f#0.1.0", "deps": [{"name": "fdk", "pkg": "path+file:///fdk#fn-fdk@0.3.0"}]}
            ]},
            "target_directory": "/f/target"
        })
    }

    fn bin(name: &str) -> Value {
        json!({"name": name, "kind": ["bin"]})
    }

    fn load(targets: Value, bin: Option<&str>, preferred: Option<&str>) -> Result<Project> {
        Project::from_metadata(
            &metadata(targets),
            Path::new("/f/Cargo.toml"),
            bin,
            preferred,
        )
    }

    #[test]
    fn finds_the_package_its_binary_and_the_fdk() {
        let p = load(
            json!([bin("fn"), {"name": "fn", "kind": ["lib"]}]),
            None,
            None,
        )
        .unwrap();
        assert_eq!((p.package.as_str(), p.bin.as_str()), ("fn", "fn"));
        assert_eq!(p.fdk_version.as_deref(), Some("0.3.0"));
        assert_eq!(p.target_directory, Path::new("/f/target"));
        assert_eq!(p.dir, Path::new("/f"));
    }

    #[test]
    fn chooses_among_several_binaries() {
        let targets = json!([bin("tool"), bin("hello")]);
        assert_eq!(
            load(targets.clone(), None, Some("hello")).unwrap().bin,
            "hello"
        );
        assert_eq!(
            load(targets.clone(), Some("tool"), Some("hello"))
                .unwrap()
                .bin,
            "tool"
        );
        let err = load(targets.clone(), None, None).unwrap_err().to_string();
        assert!(
            err.contains("several binaries (tool, hello); choose the function with --bin"),
            "{err}"
        );
        let err = load(targets, Some("nope"), None).unwrap_err().to_string();
        assert!(
            err.contains("has no binary `nope` (its binaries: tool, hello)"),
            "{err}"
        );
        assert_eq!(
            load(json!([bin("x"), bin("fn")]), None, None).unwrap().bin,
            "fn"
        );
    }

    #[test]
    fn no_binary_is_one_clear_line() {
        let err = load(json!([{"name": "fn", "kind": ["lib"]}]), None, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("the package `fn` has no binary target: a function is an executable"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn a_workspace_manifest_is_not_a_function() {
        let err = Project::from_metadata(
            &metadata(json!([])),
            Path::new("/ws/Cargo.toml"),
            None,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("is a workspace manifest"), "{err}");
    }
}
