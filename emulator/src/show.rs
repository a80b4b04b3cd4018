//! Bytes and errors as reports and logs show them.

/// Shows bytes for a report: text as text (control characters escaped),
/// at most `max` bytes.
///
/// ```
/// use fn_emulator::show::show_bytes;
///
/// assert_eq!(show_bytes(b"ok\r\n\x00", 10), "ok\\r\\n\n\\x00");
/// assert_eq!(show_bytes(b"abcdef", 2), "ab… (6 bytes in all)");
/// ```
pub fn show_bytes(bytes: &[u8], max: usize) -> String {
    let shown = &bytes[..bytes.len().min(max)];
    let mut text = String::with_capacity(shown.len());
    for chunk in shown.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\r' => text.push_str("\\r"),
                '\n' => text.push_str("\\n\n"),
                c if c.is_control() => text.push_str(&format!("\\x{:02x}", u32::from(c))),
                c => text.push(c),
            }
        }
        for b in chunk.invalid() {
            text.push_str(&format!("\\x{b:02x}"));
        }
    }
    if bytes.len() > max {
        text.push_str(&format!("… ({} bytes in all)", bytes.len()));
    }
    text
}

/// `error` and its sources, joined with `: ` (each level prints only itself).
///
/// ```
/// use fn_emulator::show::display_chain;
///
/// let e = std::io::Error::other("disk full");
/// assert_eq!(display_chain(&e), "disk full");
/// ```
pub fn display_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
