//! Go's reading rules ([`Dialect::Go`](super::Dialect::Go)): what
//! `http.ReadResponse` accepts and how it frames a response, as the Fn
//! 0.3.602 server read a function's `http` stdio answer (HTTP-RESP-4).
//!
//! Its messages are Go's, so that a report shows what the server said.
//! Where Go differs from RFC 9112 it is kept: any `HTTP/<major>.<minor>`
//! version, folded field lines, field names it does not check, a
//! `+`-signed `Content-Length`, chunk sizes of at most 15 hex digits.

use super::Framing;

/// The longest chunk-size or trailer line held while waiting for its end
/// (Go's `bufio.Reader` default size, which `http.ReadResponse` reads
/// through).
pub(super) const CHUNK_LINE_MAX: usize = 4096;

/// Go's `badStringError`.
fn bad(what: &str, text: &str) -> String {
    format!("{what} {text:?}")
}

/// `http.ReadResponse`'s status line: `<proto> <3 digits>[ <reason>]`.
pub(super) fn status_code(line: &str) -> Result<u16, String> {
    let Some((proto, status)) = line.split_once(' ') else {
        return Err(bad("malformed HTTP response", line));
    };
    let status = status.trim_start_matches(' ');
    let code = status.split(' ').next().unwrap_or(status);
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("malformed HTTP status code", code));
    }
    let code: u16 = code
        .parse()
        .map_err(|_| bad("malformed HTTP status code", code))?;
    if !valid_version(proto) {
        return Err(bad("malformed HTTP version", proto));
    }
    Ok(code)
}

/// `http.ParseHTTPVersion`: `HTTP/<major>.<minor>`.
fn valid_version(proto: &str) -> bool {
    let Some(version) = proto.strip_prefix("HTTP/") else {
        return false;
    };
    let Some((major, minor)) = version.split_once('.') else {
        return false;
    };
    let number = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && s.parse::<u32>().is_ok_and(|n| n <= 1_000_000)
    };
    number(major) && number(minor)
}

/// The size on a chunk-size line (`chunkedReader.beginChunk`): trailing
/// white space trimmed, any `;extension` dropped, at most 15 hex digits.
pub(super) fn chunk_size(line: &[u8]) -> Result<u64, String> {
    let mut trimmed = line;
    while let [head @ .., b' ' | b'\t' | b'\r' | b'\n'] = trimmed {
        trimmed = head;
    }
    let text = trimmed.split(|&b| b == b';').next().unwrap_or(trimmed);
    if text.is_empty() {
        return Err("empty hex number for chunk length".into());
    }
    if text.len() > 15 {
        return Err("http chunk length too large".into());
    }
    let mut n = 0u64;
    for &b in text {
        let digit = char::from(b)
            .to_digit(16)
            .ok_or_else(|| "invalid byte in chunk length".to_owned())?;
        n = n * 16 + u64::from(digit);
    }
    Ok(n)
}

/// How Go frames the body of a response to `method` with `status` and
/// these (canonically named) fields (`fixTransferEncoding`, `fixLength`).
/// As Go does, a chunked response loses its `Transfer-Encoding` and
/// `Content-Length` fields.
pub(crate) fn response_framing(
    method: &str,
    status: u16,
    fields: &mut Vec<(String, String)>,
) -> Result<Framing, String> {
    let mut chunked = false;
    if let Some(raw) = first_value(fields, "Transfer-Encoding") {
        let mut encodings = Vec::new();
        for encoding in raw.split(',') {
            let encoding = encoding.trim().to_ascii_lowercase();
            if encoding == "identity" {
                break;
            }
            if encoding != "chunked" {
                return Err(bad("unsupported transfer encoding", &encoding));
            }
            encodings.push(encoding);
        }
        if encodings.len() > 1 {
            return Err(bad("too many transfer encodings", &encodings.join(",")));
        }
        fields.retain(|(k, _)| k != "Transfer-Encoding");
        if !encodings.is_empty() {
            chunked = true;
            fields.retain(|(k, _)| k != "Content-Length");
        }
    }

    let lengths: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == "Content-Length")
        .map(|(_, v)| v.trim())
        .collect();
    if lengths.len() > 1 && lengths.iter().any(|l| *l != lengths[0]) {
        return Err(format!(
            "http: message cannot contain multiple Content-Length headers; got {lengths:?}"
        ));
    }
    let no_body =
        method == "HEAD" || (100..200).contains(&status) || status == 204 || status == 304;
    if no_body {
        return Ok(Framing::Empty);
    }
    if chunked {
        return Ok(Framing::Chunked);
    }
    Ok(match lengths.first().filter(|l| !l.is_empty()) {
        Some(l) => {
            let digits = l.strip_prefix('+').unwrap_or(l);
            match digits.parse::<u64>() {
                Ok(0) => Framing::Empty,
                Ok(n) if digits.bytes().all(|b| b.is_ascii_digit()) => Framing::Length(n),
                _ => return Err(bad("bad Content-Length", l)),
            }
        }
        None => Framing::UntilClose,
    })
}

fn first_value<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
