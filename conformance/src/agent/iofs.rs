//! Directories for the function's socket, like the agent's iofs directories:
//! each start gets a fresh, empty directory with mode 0777, inside one private
//! work directory that is removed when the run ends.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The longest socket path a `sockaddr_un` holds (the docs' limit after `unix:`).
pub const MAX_SOCKET_PATH: usize = 107;

/// A private directory under the system temp directory, removed on drop.
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
    next: u32,
}

impl WorkDir {
    /// Creates `fdk-conformance-<pid>-<nanos>` under [`std::env::temp_dir`].
    pub fn create() -> io::Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "fdk-conformance-{}-{nanos:08x}",
            std::process::id()
        ));
        fs::create_dir(&path)?;
        Ok(Self { path, next: 0 })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates a fresh, empty directory with mode 0777 (whatever the umask),
    /// as the agent does for each container.
    pub fn fresh_iofs(&mut self) -> io::Result<PathBuf> {
        self.next += 1;
        let dir = self.path.join(format!("iofs{}", self.next));
        fs::create_dir(&dir)?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777))?;
        Ok(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_dirs_are_0777_and_removed_with_the_work_dir() {
        let mut work = WorkDir::create().unwrap();
        let a = work.fresh_iofs().unwrap();
        let b = work.fresh_iofs().unwrap();
        assert_ne!(a, b);
        let mode = fs::metadata(&a).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o777);
        let root = work.path().to_owned();
        drop(work);
        assert!(!root.exists());
    }
}
