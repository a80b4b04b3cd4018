//! How the commands word what they built: a static binary described, and
//! byte counts with thousands separators.

pub(super) fn describe_static(
    elf: &crate::elf::ElfInfo,
    target: Option<&crate::build::TargetChoice>,
) -> String {
    let arch = elf.oci_architecture().unwrap_or("unknown architecture");
    match target {
        Some(t) if t.crt_static => format!(
            "{} ({arch}, no interpreter, no shared libraries): {} with +crt-static, because {}",
            elf.linkage(),
            t.triple,
            t.reason
        ),
        Some(t) => format!(
            "{} ({arch}, no interpreter, no shared libraries): {} ({})",
            elf.linkage(),
            t.triple,
            t.reason
        ),
        None => format!(
            "{} ({arch}, no interpreter, no shared libraries)",
            elf.linkage()
        ),
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
