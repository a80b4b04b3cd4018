//! What Go's standard library did on the 0.3.602 server's side of the pipes:
//! `encoding/json`'s encoder (compact, HTML-safe escapes, sorted map keys)
//! and decoder (where one value ends in a stream, and the unmarshalling
//! rules of the server's structs), `textproto`'s header canonicalisation,
//! `unicode.IsSpace`, `time.Time`'s JSON form and `http.DetectContentType`.
//!
//! Written from Go's documented behaviour, never from the FDK under test.
//!
//! * `Scanner`: where one JSON value ends in a stream, as
//!   `json.Decoder` finds it;
//! * unmarshalling into the server's structs (`go_string`, `go_int`,
//!   `go_header`, `go_time`);
//! * encoding as `encoding/json` writes (`push_str`, `push_value`, ...);
//! * here: header canonicalisation, `unicode.IsSpace`,
//!   `http.DetectContentType`.

mod encode;
mod scanner;
mod unmarshal;

pub use encode::push_str;
pub(crate) use encode::{push_bytes, push_header, push_value};
pub(crate) use scanner::{Scan, Scanner, parse_value};
pub(crate) use unmarshal::{go_header, go_int, go_string, go_time};
pub use unmarshal::{kind, member};

/// Go's `textproto.CanonicalMIMEHeaderKey`: the first letter and each
/// letter after `-` upper case, the rest lower case; a name with a byte
/// that is not a token character is left as it is.
pub fn canonical_key(name: &str) -> String {
    let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    if name.is_empty() || !name.bytes().all(token) {
        return name.to_owned();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// Whether `bytes` are all white space by Go's `unicode.IsSpace` (the
/// Unicode White_Space property). Bytes that are not UTF-8 are not.
pub fn all_unicode_space(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.chars().all(char::is_whitespace),
        Err(_) => false,
    }
}

/// A small port of Go's `http.DetectContentType` (the first 512 bytes):
/// HTML, XML, PDF, PostScript, byte-order marks, the common images and
/// archives, then `text/plain; charset=utf-8` for data without binary
/// bytes and `application/octet-stream` for the rest. Signatures Go knows
/// beyond these (fonts, audio, video, wasm) come out as one of the last two.
pub fn detect_content_type(data: &[u8]) -> &'static str {
    let data = &data[..data.len().min(512)];
    let trimmed = {
        let skip = data
            .iter()
            .take_while(|c| matches!(c, b'\t' | b'\n' | 0x0c | b'\r' | b' '))
            .count();
        &data[skip..]
    };
    const HTML: [&[u8]; 17] = [
        b"<!DOCTYPE HTML",
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
        b"<!--",
    ];
    for sig in HTML {
        if trimmed.len() > sig.len()
            && trimmed[..sig.len()].eq_ignore_ascii_case(sig)
            && matches!(trimmed[sig.len()], b' ' | b'>')
        {
            return "text/html; charset=utf-8";
        }
    }
    if trimmed.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    let exact: [(&[u8], &'static str); 12] = [
        (b"%PDF-", "application/pdf"),
        (b"%!PS-Adobe-", "application/postscript"),
        (b"\xFE\xFF", "text/plain; charset=utf-16be"),
        (b"\xFF\xFE", "text/plain; charset=utf-16le"),
        (b"\xEF\xBB\xBF", "text/plain; charset=utf-8"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"\x89PNG\x0D\x0A\x1A\x0A", "image/png"),
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"BM", "image/bmp"),
        (b"\x1F\x8B\x08", "application/x-gzip"),
        (b"PK\x03\x04", "application/zip"),
    ];
    for (sig, mime) in exact {
        if data.starts_with(sig) {
            return mime;
        }
    }
    let binary = |c: &u8| matches!(c, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F);
    if data.iter().any(binary) {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

#[cfg(test)]
mod tests;
