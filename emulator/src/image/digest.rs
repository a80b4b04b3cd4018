//! Blob digests. An image names its parts by digest (the index names the
//! manifest, the manifest the config and the layers, each with its size),
//! and a daemon that loads or pulls it checks every part against that name
//! before it uses it: a damaged or altered blob is refused, never run. So
//! is it here: every blob read is checked against its declared size before
//! it is read and against its digest before it is parsed or unpacked.
//!
//! A `docker save` archive names parts by path instead; there the config's
//! file name is its digest, and a layer whose path is not its digest is
//! checked against the config's `rootfs.diff_ids` (the digest of the layer
//! uncompressed), as `docker load` checks it.

use std::io::Read;

use sha2::{Digest as _, Sha256, Sha512};

use super::{ImageError, MAX_UNPACKED};

/// What a blob must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expected {
    /// `sha256:<hex>` or `sha512:<hex>`.
    pub(crate) digest: String,
    /// The size its descriptor declares, if one does.
    pub(crate) size: Option<u64>,
    /// Whether `digest` is of the bytes (a descriptor's digest) or of the
    /// uncompressed tar (a diff ID), and then whether the blob is gzip.
    pub(crate) of: Of,
}

/// What a digest is taken of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Of {
    /// The blob's bytes as stored.
    Bytes,
    /// The layer's tar, after gunzip when the blob is gzip (a diff ID).
    Uncompressed {
        /// The blob is gzip-compressed.
        gzip: bool,
    },
}

impl Expected {
    /// A descriptor's digest and size, the digest checked for form first.
    pub(crate) fn descriptor(digest: &str, size: Option<u64>) -> Result<Self, ImageError> {
        algorithm(digest)?;
        Ok(Self {
            digest: digest.to_owned(),
            size,
            of: Of::Bytes,
        })
    }

    /// A layer's diff ID (the digest of its uncompressed tar).
    pub(crate) fn diff_id(digest: &str, gzip: bool) -> Result<Self, ImageError> {
        algorithm(digest)?;
        Ok(Self {
            digest: digest.to_owned(),
            size: None,
            of: Of::Uncompressed { gzip },
        })
    }

    /// Refuses a blob that holds `stored` bytes when its descriptor
    /// declares another size (checked before anything is read).
    pub(crate) fn check_size(&self, what: &str, stored: u64) -> Result<(), ImageError> {
        match self.size {
            Some(declared) if declared != stored => Err(ImageError::new(format!(
                "{what} holds {stored} bytes, but the image declares {declared} for {}: \
                 the image is damaged or was altered",
                self.digest
            ))),
            _ => Ok(()),
        }
    }

    /// Refuses `bytes` unless they hash to the digest.
    pub(crate) fn check(&self, what: &str, bytes: &[u8]) -> Result<(), ImageError> {
        let alg = algorithm(&self.digest)?;
        let got = match self.of {
            Of::Bytes | Of::Uncompressed { gzip: false } => hash(alg, bytes),
            Of::Uncompressed { gzip: true } => {
                // Bounded as the unpacking is: a small gzip of zeros must not
                // keep the reader hashing for hours.
                let unpacked = flate2::read::MultiGzDecoder::new(bytes).take(MAX_UNPACKED + 1);
                let (got, read) = hash_reader(alg, unpacked)
                    .map_err(|e| ImageError::new(format!("{what} is not readable gzip: {e}")))?;
                if read > MAX_UNPACKED {
                    return Err(ImageError::new(format!(
                        "{what} unpacks to more than {MAX_UNPACKED} bytes"
                    )));
                }
                got
            }
        };
        if got == self.digest {
            return Ok(());
        }
        let whose = match self.of {
            Of::Bytes => "its bytes hash",
            Of::Uncompressed { .. } => "its uncompressed tar hashes",
        };
        Err(ImageError::new(format!(
            "{what} does not match its digest: the image names it {}, {whose} to {got}: \
             the image is damaged or was altered",
            self.digest
        )))
    }
}

/// The digest algorithms a daemon accepts.
#[derive(Debug, Clone, Copy)]
enum Algorithm {
    Sha256,
    Sha512,
}

/// Checks `alg:hex` for form: a known algorithm and lowercase hex of its
/// length.
fn algorithm(digest: &str) -> Result<Algorithm, ImageError> {
    let (alg, length) = match digest.split_once(':') {
        Some(("sha256", hex)) => (Algorithm::Sha256, (hex, 64)),
        Some(("sha512", hex)) => (Algorithm::Sha512, (hex, 128)),
        Some((other, _)) => {
            return Err(ImageError::new(format!(
                "`{digest}`: digest algorithm {other} is not sha256 or sha512"
            )));
        }
        None => return Err(ImageError::new(format!("`{digest}` is not a digest"))),
    };
    let (hex, want) = length;
    if hex.len() == want
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(alg)
    } else {
        Err(ImageError::new(format!("`{digest}` is not a digest")))
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    out
}

fn hash(alg: Algorithm, bytes: &[u8]) -> String {
    match alg {
        Algorithm::Sha256 => format!("sha256:{}", hex(&Sha256::digest(bytes))),
        Algorithm::Sha512 => format!("sha512:{}", hex(&Sha512::digest(bytes))),
    }
}

/// The digest of what `reader` gives, and how many bytes that was.
fn hash_reader(alg: Algorithm, mut reader: impl Read) -> std::io::Result<(String, u64)> {
    let mut read = 0u64;
    let mut sha256 = Sha256::new();
    let mut sha512 = Sha512::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = reader.read(&mut buf)?;
        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
            break;
        };
        read += chunk.len() as u64;
        match alg {
            Algorithm::Sha256 => sha256.update(chunk),
            Algorithm::Sha512 => sha512.update(chunk),
        }
    }
    let digest = match alg {
        Algorithm::Sha256 => format!("sha256:{}", hex(&sha256.finalize())),
        Algorithm::Sha512 => format!("sha512:{}", hex(&sha512.finalize())),
    };
    Ok((digest, read))
}

/// `sha256:<hex>` of `bytes` (for tests and for callers that make images).
pub fn sha256(bytes: &[u8]) -> String {
    hash(Algorithm::Sha256, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_checked_for_form_bytes_and_size() {
        let good = sha256(b"abc");
        assert_eq!(
            good,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let expected = Expected::descriptor(&good, Some(3)).unwrap();
        expected.check("blob", b"abc").unwrap();
        let err = expected.check("blob", b"abd").unwrap_err();
        assert!(err.0.contains("does not match its digest"), "{err}");
        let err = expected.check_size("blob", 4).unwrap_err();
        assert!(
            err.0.contains("holds 4 bytes, but the image declares 3"),
            "{err}"
        );
        for bad in ["sha256:ABC", "md5:00", "sha256", "sha256:../../etc/passwd"] {
            assert!(Expected::descriptor(bad, None).is_err(), "{bad}");
        }
        let sha512 = Expected::descriptor(&hash(Algorithm::Sha512, b"x"), None).unwrap();
        sha512.check("blob", b"x").unwrap();

        // A diff ID is of the tar inside the gzip.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"tar bytes").unwrap();
        let gzipped = gz.finish().unwrap();
        let diff_id = Expected::diff_id(&sha256(b"tar bytes"), true).unwrap();
        diff_id.check("layer", &gzipped).unwrap();
        let err = diff_id.check("layer", b"tar bytes").unwrap_err();
        assert!(err.0.contains("not readable gzip"), "{err}");
        Expected::diff_id(&sha256(b"tar bytes"), false)
            .unwrap()
            .check("layer", b"tar bytes")
            .unwrap();
    }
}
