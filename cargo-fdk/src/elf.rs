//! Reads just enough of an ELF file to tell whether it runs in an empty
//! image: no program interpreter (`PT_INTERP`) and no shared libraries
//! (`DT_NEEDED`). Also the machine, for the image's architecture.

use crate::error::{Error, Result};

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;

/// What an ELF executable needs from the system to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// `e_type`: 2 for a fixed-address executable, 3 for a position-independent one.
    pub file_type: u16,
    /// `e_machine` (62 is x86-64, 183 is AArch64).
    pub machine: u16,
    /// The dynamic loader it asks for (`PT_INTERP`), if any.
    pub interpreter: Option<String>,
    /// The shared libraries it needs (`DT_NEEDED`).
    pub needed: Vec<String>,
}

impl ElfInfo {
    /// Parses an ELF file's headers, 32- or 64-bit, either byte order.
    ///
    /// ```
    /// # let bytes = std::fs::read("/proc/self/exe").unwrap();
    /// let info = cargo_fdk::elf::ElfInfo::parse(&bytes)?;
    /// println!("{}", info.linkage());
    /// # Ok::<(), cargo_fdk::Error>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<ElfInfo> {
        if bytes.len() < 16 || &bytes[..4] != b"\x7fELF" {
            return Err(Error::new("not an ELF executable"));
        }
        let wide = match bytes[4] {
            1 => false,
            2 => true,
            _ => return Err(Error::new("an ELF file of unknown class")),
        };
        let big = match bytes[5] {
            1 => false,
            2 => true,
            _ => return Err(Error::new("an ELF file of unknown byte order")),
        };
        let r = Reader { bytes, big };
        let truncated = || Error::new("a truncated ELF file");
        let file_type = r.u16(16).ok_or_else(truncated)?;
        let machine = r.u16(18).ok_or_else(truncated)?;
        let (phoff, phentsize, phnum) = if wide {
            (r.u64(32), r.u16(54), r.u16(56))
        } else {
            (r.u32(28).map(u64::from), r.u16(42), r.u16(44))
        };
        let (phoff, phentsize, phnum) = (
            phoff.ok_or_else(truncated)?,
            phentsize.ok_or_else(truncated)?,
            phnum.ok_or_else(truncated)?,
        );
        let mut segments = Vec::new();
        for i in 0..u64::from(phnum) {
            let at = usize::try_from(phoff + i * u64::from(phentsize)).map_err(|_| truncated())?;
            let segment = if wide {
                Segment {
                    kind: r.u32(at).ok_or_else(truncated)?,
                    offset: r.u64(at + 8).ok_or_else(truncated)?,
                    vaddr: r.u64(at + 16).ok_or_else(truncated)?,
                    filesz: r.u64(at + 32).ok_or_else(truncated)?,
                }
            } else {
                Segment {
                    kind: r.u32(at).ok_or_else(truncated)?,
                    offset: r.u32(at + 4).map(u64::from).ok_or_else(truncated)?,
                    vaddr: r.u32(at + 8).map(u64::from).ok_or_else(truncated)?,
                    filesz: r.u32(at + 16).map(u64::from).ok_or_else(truncated)?,
                }
            };
            segments.push(segment);
        }
        let interpreter = segments
            .iter()
            .find(|s| s.kind == PT_INTERP)
            .map(|s| {
                r.c_string(s.offset, s.offset + s.filesz)
                    .ok_or_else(truncated)
            })
            .transpose()?;
        let mut needed = Vec::new();
        if let Some(dynamic) = segments.iter().find(|s| s.kind == PT_DYNAMIC) {
            let size = if wide { 16 } else { 8 };
            let mut strtab = None;
            let mut needed_offsets = Vec::new();
            let mut at = dynamic.offset;
            while at + size <= dynamic.offset + dynamic.filesz {
                let pos = usize::try_from(at).map_err(|_| truncated())?;
                let (tag, val) = if wide {
                    (r.u64(pos), r.u64(pos + 8))
                } else {
                    (r.u32(pos).map(u64::from), r.u32(pos + 4).map(u64::from))
                };
                let (tag, val) = (tag.ok_or_else(truncated)?, val.ok_or_else(truncated)?);
                match tag {
                    DT_NULL => break,
                    DT_NEEDED => needed_offsets.push(val),
                    DT_STRTAB => strtab = Some(val),
                    _ => {}
                }
                at += size;
            }
            for name_at in needed_offsets {
                // DT_STRTAB is an address: map it to a file offset through
                // the PT_LOAD segment that holds it.
                let name = strtab
                    .and_then(|addr| {
                        segments
                            .iter()
                            .find(|s| {
                                s.kind == PT_LOAD && s.vaddr <= addr && addr < s.vaddr + s.filesz
                            })
                            .map(|s| addr - s.vaddr + s.offset + name_at)
                    })
                    .and_then(|offset| r.c_string(offset, bytes.len() as u64))
                    .unwrap_or_else(|| "(unreadable name)".to_owned());
                needed.push(name);
            }
        }
        Ok(ElfInfo {
            file_type,
            machine,
            interpreter,
            needed,
        })
    }

    /// True when it starts with no loader and no shared libraries.
    pub fn is_static(&self) -> bool {
        self.interpreter.is_none() && self.needed.is_empty()
    }

    /// `static`, `static-pie` or `dynamic`, as `file` says.
    pub fn linkage(&self) -> &'static str {
        match (self.is_static(), self.file_type) {
            (false, _) => "dynamic",
            (true, ET_DYN) => "static-pie",
            (true, ET_EXEC) => "static",
            (true, _) => "static (not an executable?)",
        }
    }

    /// What a dynamic binary needs, for an error message.
    pub fn dynamic_needs(&self) -> String {
        let mut parts = Vec::new();
        if let Some(interp) = &self.interpreter {
            parts.push(format!("the loader {interp}"));
        }
        if !self.needed.is_empty() {
            parts.push(self.needed.join(", "));
        }
        parts.join(" and ")
    }

    /// The OCI `architecture` for this machine, if it is one Fn runs on.
    pub fn oci_architecture(&self) -> Option<&'static str> {
        match self.machine {
            62 => Some("amd64"),
            183 => Some("arm64"),
            3 => Some("386"),
            40 => Some("arm"),
            243 => Some("riscv64"),
            21 => Some("ppc64le"),
            22 => Some("s390x"),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Segment {
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

struct Reader<'a> {
    bytes: &'a [u8],
    big: bool,
}

impl Reader<'_> {
    fn take<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.bytes.get(at..at.checked_add(N)?)?.try_into().ok()
    }
    fn u16(&self, at: usize) -> Option<u16> {
        self.take(at).map(|b| {
            if self.big {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        })
    }
    fn u32(&self, at: usize) -> Option<u32> {
        self.take(at).map(|b| {
            if self.big {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        })
    }
    fn u64(&self, at: usize) -> Option<u64> {
        self.take(at).map(|b| {
            if self.big {
                u64::from_be_bytes(b)
            } else {
                u64::from_le_bytes(b)
            }
        })
    }
    /// A NUL-terminated string starting at `from`, not past `to`.
    fn c_string(&self, from: u64, to: u64) -> Option<String> {
        let from = usize::try_from(from).ok()?;
        let to = usize::try_from(to).ok()?.min(self.bytes.len());
        let slice = self.bytes.get(from..to)?;
        let end = slice.iter().position(|&b| b == 0).unwrap_or(slice.len());
        Some(String::from_utf8_lossy(&slice[..end]).into_owned())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal 64-bit little-endian ELF: one PT_LOAD covering the file,
    /// optionally a PT_INTERP and a PT_DYNAMIC with DT_NEEDED entries.
    pub(crate) fn fake_elf(file_type: u16, interp: Option<&str>, needed: &[&str]) -> Vec<u8> {
        let mut phdrs: Vec<(u32, u64, u64)> = Vec::new(); // kind, offset, size
        let mut data = Vec::new();
        let data_start = 64 + 56 * 3;
        let mut interp_at = None;
        if let Some(interp) = interp {
            interp_at = Some((data_start + data.len(), interp.len() + 1));
            data.extend_from_slice(interp.as_bytes());
            data.push(0);
        }
        let strtab_at = data_start + data.len();
        let mut name_offsets = Vec::new();
        data.push(0);
        for name in needed {
            name_offsets.push(data.len() - (strtab_at - data_start));
            data.extend_from_slice(name.as_bytes());
            data.push(0);
        }
        let dyn_at = data_start + data.len();
        let mut dynamic = Vec::new();
        for off in &name_offsets {
            dynamic.extend_from_slice(&DT_NEEDED.to_le_bytes());
            dynamic.extend_from_slice(&(*off as u64).to_le_bytes());
        }
        dynamic.extend_from_slice(&DT_STRTAB.to_le_bytes());
        dynamic.extend_from_slice(&(0x40_0000u64 + strtab_at as u64).to_le_bytes());
        dynamic.extend_from_slice(&[0; 16]);
        data.extend_from_slice(&dynamic);
        let total = data_start + data.len();
        phdrs.push((PT_LOAD, 0, total as u64));
        if let Some((at, len)) = interp_at {
            phdrs.push((PT_INTERP, at as u64, len as u64));
        }
        if !needed.is_empty() || interp.is_some() {
            phdrs.push((PT_DYNAMIC, dyn_at as u64, dynamic.len() as u64));
        }
        let mut out = vec![0u8; 64];
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = 2;
        out[5] = 1;
        out[6] = 1;
        out[16..18].copy_from_slice(&file_type.to_le_bytes());
        out[18..20].copy_from_slice(&62u16.to_le_bytes());
        out[32..40].copy_from_slice(&64u64.to_le_bytes());
        out[54..56].copy_from_slice(&56u16.to_le_bytes());
        out[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for i in 0..3 {
            let mut ph = [0u8; 56];
            if let Some(&(kind, offset, size)) = phdrs.get(i) {
                ph[..4].copy_from_slice(&kind.to_le_bytes());
                ph[8..16].copy_from_slice(&offset.to_le_bytes());
                let vaddr = 0x40_0000u64 + offset;
                ph[16..24].copy_from_slice(&vaddr.to_le_bytes());
                ph[32..40].copy_from_slice(&size.to_le_bytes());
            }
            out.extend_from_slice(&ph);
        }
        out.extend_from_slice(&data);
        out
    }

    #[test]
    fn static_and_static_pie() {
        let info = ElfInfo::parse(&fake_elf(ET_EXEC, None, &[])).unwrap();
        assert!(info.is_static());
        assert_eq!(
            (info.linkage(), info.oci_architecture()),
            ("static", Some("amd64"))
        );
        let info = ElfInfo::parse(&fake_elf(ET_DYN, None, &[])).unwrap();
        assert_eq!(info.linkage(), "static-pie");
    }

    #[test]
    fn dynamic_names_what_it_needs() {
        let elf = fake_elf(
            ET_DYN,
            Some("/lib64/ld-linux-x86-64.so.2"),
            &["libc.so.6", "libgcc_s.so.1"],
        );
        let info = ElfInfo::parse(&elf).unwrap();
        assert!(!info.is_static());
        assert_eq!(
            info.interpreter.as_deref(),
            Some("/lib64/ld-linux-x86-64.so.2")
        );
        assert_eq!(info.needed, ["libc.so.6", "libgcc_s.so.1"]);
        assert_eq!(
            info.dynamic_needs(),
            "the loader /lib64/ld-linux-x86-64.so.2 and libc.so.6, libgcc_s.so.1"
        );
        // Libraries without a loader line are still dynamic.
        let info = ElfInfo::parse(&fake_elf(ET_DYN, None, &["libc.so.6"])).unwrap();
        assert_eq!((info.linkage(), info.needed.len()), ("dynamic", 1));
    }

    #[test]
    fn this_test_binary_is_read_like_the_system_does() {
        // The test binary is built the default way: dynamic on gnu, static on musl.
        let bytes = std::fs::read("/proc/self/exe").unwrap();
        let info = ElfInfo::parse(&bytes).unwrap();
        if cfg!(target_env = "gnu") {
            assert_eq!(info.linkage(), "dynamic");
            assert!(
                info.needed.iter().any(|n| n.starts_with("libc.so")),
                "{info:?}"
            );
        }
        assert_eq!(
            info.oci_architecture().is_some(),
            cfg!(target_arch = "x86_64") || cfg!(target_arch = "aarch64")
        );
    }

    #[test]
    fn refuses_what_is_not_elf() {
        assert!(ElfInfo::parse(b"#!/bin/sh\necho hi\n").is_err());
        let mut elf = fake_elf(ET_DYN, None, &[]);
        elf.truncate(100);
        assert_eq!(
            ElfInfo::parse(&elf).unwrap_err().to_string(),
            "a truncated ELF file"
        );
    }
}
