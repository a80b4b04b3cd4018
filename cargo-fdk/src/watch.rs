//! `cargo fdk run --watch`: rebuild on a change and swap the function,
//! keeping the endpoint up.
//!
//! The watcher polls (every [`POLL`]) a fingerprint of what it watches: the
//! crate's files (every file under the crate's directory but `Cargo.lock`,
//! `target/`, `.git/`, `.fn/` and other hidden directories), or, with
//! `--binary`, that one file. A save made while a build runs is seen at the
//! next poll after it, against the state that build started from. Polling needs no inotify crate and sees every editor's way of
//! saving (write in place, rename over, delete and recreate). A change is
//! acted on once the fingerprint holds still for one more poll, so a save
//! that touches several files is one rebuild. A build that fails is shown
//! and the last good build keeps serving; so does a build whose function
//! does not start (the server side reports that).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::commands::{self, BuildOptions};
use crate::funcfile::FuncFile;

/// How often the fingerprint is taken.
pub const POLL: Duration = Duration::from_millis(300);
/// The most files a crate's fingerprint reads: past it, the rest is not
/// watched (and a line says so once).
pub const MAX_FILES: usize = 20_000;

/// What to watch.
#[derive(Debug, Clone)]
pub enum Source {
    /// A crate: rebuild it (`cargo fdk build`) on a change.
    Crate(BuildOptions),
    /// A binary given with `--binary`: restart it when it changes.
    Binary(PathBuf),
}

/// A new build to serve: the binary, and func.yaml as read with it.
#[derive(Debug, Clone)]
pub struct NewBuild {
    /// The binary to start.
    pub binary: PathBuf,
    /// func.yaml, re-read (its config and memory apply to the new start).
    pub func: Option<FuncFile>,
}

/// Starts the watcher thread; `swap` is called with each good build.
pub fn spawn(
    source: Source,
    swap: impl Fn(NewBuild) + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("fdk-run-watch".into())
        .spawn(move || watch(&source, &swap))
}

fn watch(source: &Source, swap: &dyn Fn(NewBuild)) {
    let root = match source {
        Source::Crate(build) => build.function_dir(),
        Source::Binary(binary) => binary.clone(),
    };
    let mut warned = false;
    let mut seen = fingerprint(source, &root, &mut warned);
    loop {
        std::thread::sleep(POLL);
        let now = fingerprint(source, &root, &mut warned);
        if now == seen {
            continue;
        }
        // Settle: act once two polls agree.
        let mut settled = now;
        loop {
            std::thread::sleep(POLL);
            let again = fingerprint(source, &root, &mut warned);
            if again == settled {
                break;
            }
            settled = again;
        }
        seen = settled;
        match source {
            Source::Binary(binary) => {
                println!("watch: {} changed; restarting", binary.display());
                swap(NewBuild {
                    binary: binary.clone(),
                    func: None,
                });
            }
            Source::Crate(build) => {
                println!("watch: a change in {}; rebuilding", root.display());
                match commands::build(build) {
                    Ok((function, built)) => swap(NewBuild {
                        binary: built.path,
                        func: Some(function.func),
                    }),
                    Err(err) => println!(
                        "watch: the build failed, the last good build keeps serving: {err}"
                    ),
                }
            }
        }
    }
}

/// Sizes and modification times of what is watched, in a fixed order.
fn fingerprint(source: &Source, root: &Path, warned: &mut bool) -> Vec<(PathBuf, u64, SystemTime)> {
    let mut out = Vec::new();
    match source {
        Source::Binary(binary) => {
            if let Ok(meta) = std::fs::metadata(binary) {
                out.push((
                    binary.clone(),
                    meta.len(),
                    meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                ));
            }
        }
        Source::Crate(_) => {
            let mut dirs = vec![root.to_path_buf()];
            while let Some(dir) = dirs.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    if out.len() >= MAX_FILES {
                        if !*warned {
                            println!(
                                "watch: more than {MAX_FILES} files under {}; the rest is not watched",
                                root.display()
                            );
                            *warned = true;
                        }
                        out.sort();
                        return out;
                    }
                    let path = entry.path();
                    let name = entry.file_name();
                    let Ok(kind) = entry.file_type() else {
                        continue;
                    };
                    if kind.is_dir() {
                        let skip = name == "target" || name.as_encoded_bytes().starts_with(b".");
                        if !skip {
                            dirs.push(path);
                        }
                    } else if name == "Cargo.lock" {
                        // Cargo writes it during the build; a change of
                        // dependencies shows in Cargo.toml. (Not taken
                        // after the build instead: a save made while the
                        // build ran would be lost.)
                    } else if let Ok(meta) = entry.metadata() {
                        out.push((
                            path,
                            meta.len(),
                            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        ));
                    }
                }
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_see_edits_and_skip_build_output() {
        let dir = crate::testutil::TempDir::new("watch-fingerprint");
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("target/release")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("src/main.rs"), "fn main() {}").unwrap();
        let source = Source::Crate(BuildOptions {
            manifest_path: Some(root.join("Cargo.toml")),
            ..BuildOptions::default()
        });
        let mut warned = false;
        let before = fingerprint(&source, &root, &mut warned);
        assert_eq!(before.len(), 1);
        std::fs::write(root.join("target/release/x"), "built").unwrap();
        std::fs::write(root.join(".git/index"), "x").unwrap();
        std::fs::write(root.join("Cargo.lock"), "# written by cargo").unwrap();
        assert_eq!(fingerprint(&source, &root, &mut warned), before);
        std::fs::write(root.join("src/main.rs"), "fn main() { }").unwrap();
        assert_ne!(fingerprint(&source, &root, &mut warned), before);
        std::fs::write(root.join("src/lib.rs"), "").unwrap();
        assert_eq!(fingerprint(&source, &root, &mut warned).len(), 2);
    }
}
