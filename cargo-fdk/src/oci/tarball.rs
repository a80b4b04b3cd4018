//! Tar entries with fixed headers: ustar, uid/gid 0, no user or group
//! names, one mtime for every entry. The same input always gives the same
//! bytes.

use tar::{EntryType, Header};

use crate::error::{Error, Result};

/// Writes a tar archive into memory, entry by entry, in the order given.
pub(crate) struct TarWriter {
    builder: tar::Builder<Vec<u8>>,
    mtime: u64,
}

impl TarWriter {
    /// Every entry gets `mtime` (seconds since 1970).
    pub(crate) fn new(mtime: u64) -> Self {
        TarWriter {
            builder: tar::Builder::new(Vec::new()),
            mtime,
        }
    }

    /// A directory entry; `path` ends in `/`.
    pub(crate) fn dir(&mut self, path: &str, mode: u32) -> Result<()> {
        let mut header = self.header(path, mode, 0)?;
        header.set_entry_type(EntryType::Directory);
        header.set_cksum();
        self.append(path, &header, &[][..])
    }

    /// A regular file.
    pub(crate) fn file(&mut self, path: &str, mode: u32, bytes: &[u8]) -> Result<()> {
        let mut header = self.header(path, mode, bytes.len() as u64)?;
        header.set_entry_type(EntryType::Regular);
        header.set_cksum();
        self.append(path, &header, bytes)
    }

    /// The archive, closed with its two zero blocks.
    pub(crate) fn finish(self) -> Result<Vec<u8>> {
        self.builder
            .into_inner()
            .map_err(|err| Error::new(format!("cannot finish a tar archive: {err}")))
    }

    fn header(&self, path: &str, mode: u32, size: u64) -> Result<Header> {
        let mut header = Header::new_ustar();
        header
            .set_path(path)
            .map_err(|err| Error::new(format!("cannot put `{path}` in a tar header: {err}")))?;
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(self.mtime);
        header.set_size(size);
        Ok(header)
    }

    fn append(&mut self, path: &str, header: &Header, bytes: &[u8]) -> Result<()> {
        self.builder
            .append(header, bytes)
            .map_err(|err| Error::new(format!("cannot add `{path}` to a tar archive: {err}")))
    }
}
