//! The listening socket and the readiness signal (HS-SOCK-*).
//!
//! The server watches the socket directory for `lsnr.sock` to appear and
//! dials it at once, so the public name must appear only when the socket is
//! listening and writable: bind a private name in the same directory,
//! listen, chmod 0666, and only then create `lsnr.sock` as a *relative*
//! symlink to it (the server refuses absolute or `../` targets).

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

use crate::error::Error;
use crate::protocol::{MAX_SOCKET_PATH, PRIVATE_SOCKET_PREFIX, SOCKET_MODE};

/// The listener and the two files it owns; both are removed on drop.
#[derive(Debug)]
pub(crate) struct Socket {
    pub(crate) listener: UnixListener,
    pub(crate) files: SocketFiles,
}

/// The public symlink and the private socket file.
#[derive(Debug)]
pub(crate) struct SocketFiles {
    public: PathBuf,
    private: PathBuf,
}

impl Drop for SocketFiles {
    fn drop(&mut self) {
        // The symlink first: the server must never dial a name that is gone.
        let _ = fs::remove_file(&self.public);
        let _ = fs::remove_file(&self.private);
    }
}

impl Socket {
    /// Binds, publishes and returns the socket for `public` (the path of
    /// `FN_LISTENER`). Must run inside a tokio runtime.
    pub(crate) fn bind(public: &Path) -> Result<Self, Error> {
        let dir = public.parent().unwrap_or(Path::new("."));
        let Some(name) = public.file_name() else {
            return Err(Error::socket(
                format!("FN_LISTENER path {} has no file name", public.display()),
                io::Error::from(io::ErrorKind::InvalidInput),
            ));
        };
        let private_name = private_name(name);
        let private = dir.join(&private_name);

        // Stale files from an earlier process in the same directory
        // (HS-SOCK-1). Not found is the normal case.
        remove_if_present(public)?;
        remove_if_present(&private)?;

        // From here on the files are ours; remove them on every exit path.
        let files = SocketFiles {
            public: public.to_owned(),
            private: private.clone(),
        };
        let listener = bind(dir, &private_name, &private).map_err(|e| {
            Error::socket(
                format!("failed to bind the socket {}", private.display()),
                e,
            )
        })?;
        fs::set_permissions(&private, fs::Permissions::from_mode(SOCKET_MODE)).map_err(|e| {
            Error::socket(
                format!("failed to chmod the socket {}", private.display()),
                e,
            )
        })?;
        std::os::unix::fs::symlink(&private_name, public).map_err(|e| {
            Error::socket(
                format!("failed to create the symlink {}", public.display()),
                e,
            )
        })?;
        Ok(Self { listener, files })
    }
}

/// The longest `/proc/self/fd/<fd>/` a directory-relative bind prefixes:
/// 14 bytes, up to 10 digits and the slash.
const PROC_FD_PREFIX_MAX: usize = 25;

/// The private name for the public file name `name`: `phony<name>`, unless
/// that could not be bound even relative to the directory (a public name of
/// more than 77 bytes, say `/tmp/` and 102 bytes); then `phony` and the
/// public name's last bytes, as many as fit. The name stays a function of
/// the public one, so a restarted process finds its stale predecessor.
fn private_name(name: &std::ffi::OsStr) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStrExt;
    let bytes = name.as_bytes();
    let room = MAX_SOCKET_PATH - PROC_FD_PREFIX_MAX - PRIVATE_SOCKET_PREFIX.len();
    let mut tail = &bytes[bytes.len().saturating_sub(room)..];
    if tail.len() + PRIVATE_SOCKET_PREFIX.len() == bytes.len()
        && bytes.starts_with(PRIVATE_SOCKET_PREFIX.as_bytes())
    {
        // `phony<tail>` would be the public name itself: one byte less.
        tail = &tail[1..];
    }
    let mut private = std::ffi::OsString::from(PRIVATE_SOCKET_PREFIX);
    private.push(std::ffi::OsStr::from_bytes(tail));
    private
}

/// Binds `dir/name`. A listener path of up to 107 bytes is allowed
/// (HS-ENV-2), but the private name is 5 bytes longer than the public one,
/// too long for `sockaddr_un`; then the bind goes through the directory's
/// file descriptor, `/proc/self/fd/<n>/<name>`, which is short (HS-SOCK-2).
fn bind(dir: &Path, name: &std::ffi::OsStr, full: &Path) -> io::Result<UnixListener> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    if full.as_os_str().as_bytes().len() <= MAX_SOCKET_PATH {
        return UnixListener::bind(full);
    }
    let dir_fd = fs::File::open(dir)?;
    let short = Path::new("/proc/self/fd")
        .join(dir_fd.as_raw_fd().to_string())
        .join(name);
    UnixListener::bind(short)
}

fn remove_if_present(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::socket(
            format!("failed to remove the stale socket file {}", path.display()),
            e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fdk-socket-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn publishes_a_relative_symlink_to_a_0666_socket_and_cleans_up() {
        let dir = temp_dir("publish");
        let public = dir.join("lsnr.sock");
        // Stale files of both names, as a crashed predecessor leaves them.
        fs::write(&public, b"stale").unwrap();
        fs::write(dir.join("phonylsnr.sock"), b"stale").unwrap();

        let socket = Socket::bind(&public).unwrap();
        let link = fs::symlink_metadata(&public).unwrap();
        assert!(link.file_type().is_symlink());
        assert_eq!(
            fs::read_link(&public).unwrap(),
            PathBuf::from("phonylsnr.sock")
        );
        let target = fs::metadata(&public).unwrap();
        assert!(target.file_type().is_socket());
        assert_eq!(target.permissions().mode() & 0o777, 0o666);

        drop(socket);
        assert!(fs::symlink_metadata(&public).is_err());
        assert!(fs::symlink_metadata(dir.join("phonylsnr.sock")).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_107_byte_listener_path_in_a_short_directory_works() {
        // `/tmp/` and a 102-byte name: `phony<name>` does not fit even
        // behind `/proc/self/fd/<n>/`, so the private name is shortened.
        let dir = PathBuf::from(format!("/tmp/fs{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let base = dir.to_str().unwrap().len() + 1;
        let public = dir.join("l".repeat(107 - base));
        let socket = Socket::bind(&public).unwrap();
        assert!(fs::metadata(&public).unwrap().file_type().is_socket());
        let target = fs::read_link(&public).unwrap();
        assert!(target.to_str().unwrap().starts_with("phony"), "{target:?}");
        assert!(target.components().count() == 1, "{target:?}");
        let client = std::os::unix::net::UnixStream::connect(&public).unwrap();
        let (_conn, _) = socket.listener.accept().await.unwrap();
        drop(client);
        drop(socket);
        assert!(fs::read_dir(&dir).unwrap().next().is_none());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_private_name_is_never_the_public_one() {
        use std::ffi::OsStr;
        assert_eq!(private_name(OsStr::new("lsnr.sock")), "phonylsnr.sock");
        let long = "x".repeat(100);
        let private = private_name(OsStr::new(&long));
        assert_eq!(private.len(), MAX_SOCKET_PATH - PROC_FD_PREFIX_MAX);
        assert_eq!(private, OsStr::new(&format!("phony{}", &long[23..])));
        // An 82-byte name that starts with the prefix: its 77-byte tail
        // after `phony` would rebuild the public name itself.
        let tricky = format!("phony{}", "y".repeat(77));
        assert_ne!(private_name(OsStr::new(&tricky)), OsStr::new(&tricky));
    }

    #[tokio::test]
    async fn a_107_byte_listener_path_works_although_the_private_name_is_longer() {
        let dir = temp_dir("long");
        let base = dir.to_str().unwrap().len() + 1;
        let name = format!("{}.sock", "l".repeat(107 - base - 5));
        let public = dir.join(&name);
        assert_eq!(public.to_str().unwrap().len(), 107);
        let socket = Socket::bind(&public).unwrap();
        assert!(fs::metadata(&public).unwrap().file_type().is_socket());
        // The server dials the public name: it must reach the listener.
        let client = std::os::unix::net::UnixStream::connect(&public).unwrap();
        let (_conn, _) = socket.listener.accept().await.unwrap();
        drop(client);
        drop(socket);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_missing_directory_is_a_socket_error() {
        let err = Socket::bind(Path::new("/nonexistent-fdk-dir/lsnr.sock")).unwrap_err();
        assert!(err.is_socket(), "{err:?}");
    }
}
