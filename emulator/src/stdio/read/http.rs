//! `http`: one response read as Go's `http.ReadResponse` reads it for the
//! request's method (HTTP-RESP-4).

use super::*;

use crate::golang::canonical_key;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// No body (HEAD, 1xx, 204, 304, `Content-Length: 0`).
    Empty,
    /// `Content-Length`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body runs to the end of the stream.
    ToEof,
}

#[derive(Debug)]
pub(super) struct Head {
    status: i64,
    headers: Vec<(String, String)>,
    body_start: usize,
    framing: Framing,
}

#[derive(Debug)]
pub(super) struct HttpReader {
    method: String,
    /// Where to look for the next line end in the head.
    search: usize,
    /// The status line was checked.
    status_checked: bool,
    head: Option<Head>,
    /// Chunked: where the next chunk-size line starts, and the body so far.
    chunk_at: usize,
    body: Vec<u8>,
    /// Chunked: the last chunk was read; the trailer is being read.
    in_trailer: bool,
}

/// Go's `badStringError`.
fn bad(what: &str, text: &str) -> String {
    format!("{what} {text:?}")
}

impl HttpReader {
    pub(super) fn new(method: &str) -> Self {
        Self {
            method: method.to_owned(),
            search: 0,
            status_checked: false,
            head: None,
            chunk_at: 0,
            body: Vec::new(),
            in_trailer: false,
        }
    }

    pub(super) fn feed(&mut self, buf: &[u8], eof: bool) -> Step {
        if self.head.is_none() {
            match self.read_head(buf) {
                Ok(true) => {}
                Ok(false) if eof => {
                    return Step::Ended {
                        partial: !buf.is_empty(),
                    };
                }
                Ok(false) => return Step::More,
                Err(e) => return Step::Bad(e),
            }
        }
        let Some(head) = &self.head else {
            return Step::More;
        };
        let (status, headers, start, framing) = (
            head.status,
            head.headers.clone(),
            head.body_start,
            head.framing,
        );
        let done = |used: usize, body: Vec<u8>| Step::Done {
            used,
            decoded: Decoded::Response(ClientResponse {
                status,
                headers: headers.clone(),
                body,
            }),
        };
        match framing {
            Framing::Empty => done(start, Vec::new()),
            Framing::Length(n) => match start.checked_add(n) {
                Some(end) if buf.len() >= end => done(end, buf[start..end].to_vec()),
                _ if eof => Step::Ended { partial: true },
                _ => Step::More,
            },
            Framing::ToEof if eof => Step::Ended { partial: true },
            Framing::ToEof => Step::More,
            Framing::Chunked => match self.read_chunks(buf) {
                Ok(Some(end)) => done(end, std::mem::take(&mut self.body)),
                Ok(None) if eof => Step::Ended { partial: true },
                Ok(None) => Step::More,
                Err(e) => Step::Bad(e),
            },
        }
    }

    /// Parses the head once its blank line has arrived; checks the status
    /// line as soon as it has arrived (Go fails there first).
    fn read_head(&mut self, buf: &[u8]) -> Result<bool, String> {
        while let Some(nl) = buf[self.search..].iter().position(|&b| b == b'\n') {
            let line_start = self.search;
            let line_end = line_start + nl;
            self.search = line_end + 1;
            let line = trim_cr(&buf[line_start..line_end]);
            if !self.status_checked {
                self.status_checked = true;
                parse_status_line(&String::from_utf8_lossy(line))?;
                continue;
            }
            if line.is_empty() {
                self.head = Some(self.parse_head(&buf[..line_start], self.search)?);
                self.chunk_at = self.search;
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn parse_head(&self, head: &[u8], body_start: usize) -> Result<Head, String> {
        let text = String::from_utf8_lossy(head);
        // Every line ends with `\n` (the blank line is not included).
        let mut lines = text.lines();
        let status = parse_status_line(lines.next().unwrap_or(""))?;
        let mut headers = read_mime_header(lines)?;

        // fixTransferEncoding.
        let mut chunked = false;
        if let Some(raw) = first_value(&headers, "Transfer-Encoding") {
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
            headers.retain(|(k, _)| k != "Transfer-Encoding");
            if !encodings.is_empty() {
                chunked = true;
                headers.retain(|(k, _)| k != "Content-Length");
            }
        }

        // fixLength.
        let lengths: Vec<String> = headers
            .iter()
            .filter(|(k, _)| k == "Content-Length")
            .map(|(_, v)| v.trim().to_owned())
            .collect();
        if lengths.len() > 1 && lengths.iter().any(|l| *l != lengths[0]) {
            return Err(format!(
                "http: message cannot contain multiple Content-Length headers; got {lengths:?}"
            ));
        }
        let no_body =
            self.method == "HEAD" || (100..200).contains(&status) || status == 204 || status == 304;
        let framing = if no_body {
            Framing::Empty
        } else if chunked {
            Framing::Chunked
        } else {
            match lengths.first().filter(|l| !l.is_empty()) {
                Some(l) => {
                    let digits = l.strip_prefix('+').unwrap_or(l);
                    match digits.parse::<usize>() {
                        Ok(0) => Framing::Empty,
                        Ok(n) if digits.bytes().all(|b| b.is_ascii_digit()) => Framing::Length(n),
                        _ => return Err(bad("bad Content-Length", l)),
                    }
                }
                None => Framing::ToEof,
            }
        };
        Ok(Head {
            status,
            headers,
            body_start,
            framing,
        })
    }

    /// Reads chunks from `self.chunk_at`; `Some(end)` once the last chunk
    /// and the trailer are in.
    fn read_chunks(&mut self, buf: &[u8]) -> Result<Option<usize>, String> {
        loop {
            let rest = &buf[self.chunk_at..];
            let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                if rest.len() > 4096 {
                    return Err("header line too long (chunk size or trailer)".into());
                }
                return Ok(None);
            };
            let line = &rest[..nl];
            if self.in_trailer {
                self.chunk_at += nl + 1;
                if trim_cr(line).is_empty() {
                    return Ok(Some(self.chunk_at));
                }
                if !line.contains(&b':') {
                    return Err(format!(
                        "malformed MIME header line in the trailer: {}",
                        String::from_utf8_lossy(line)
                    ));
                }
                continue;
            }
            let trimmed = {
                let mut l = line;
                while let [head @ .., b' ' | b'\t' | b'\r' | b'\n'] = l {
                    l = head;
                }
                l
            };
            let size_text = trimmed.split(|&b| b == b';').next().unwrap_or(trimmed);
            let size = parse_hex(size_text)?;
            if size == 0 {
                self.chunk_at += nl + 1;
                self.in_trailer = true;
                continue;
            }
            let data_start = self.chunk_at + nl + 1;
            let Some(data_end) = data_start.checked_add(size) else {
                return Err("http chunk length too large".into());
            };
            if buf.len() < data_end + 2 {
                return Ok(None);
            }
            if &buf[data_end..data_end + 2] != b"\r\n" {
                return Err("malformed chunked encoding".into());
            }
            self.body.extend_from_slice(&buf[data_start..data_end]);
            self.chunk_at = data_end + 2;
        }
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn parse_hex(text: &[u8]) -> Result<usize, String> {
    if text.is_empty() {
        return Err("empty hex number for chunk length".into());
    }
    if text.len() > 15 {
        return Err("http chunk length too large".into());
    }
    let mut n = 0usize;
    for &b in text {
        let digit = char::from(b)
            .to_digit(16)
            .ok_or_else(|| "invalid byte in chunk length".to_owned())?;
        n = n * 16 + digit as usize;
    }
    Ok(n)
}

/// `http.ReadResponse`'s status line: `<proto> <3 digits>[ <reason>]`.
fn parse_status_line(line: &str) -> Result<i64, String> {
    let Some((proto, status)) = line.split_once(' ') else {
        return Err(bad("malformed HTTP response", line));
    };
    let status = status.trim_start_matches(' ');
    let code = status.split(' ').next().unwrap_or(status);
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("malformed HTTP status code", code));
    }
    let code: i64 = code
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

/// `textproto.Reader.ReadMIMEHeader` over the head's lines after the
/// status line: continuation lines folded, names canonicalised, values
/// trimmed, empty names skipped.
fn read_mime_header<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> Result<Vec<(String, String)>, String> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut first = true;
    for line in lines {
        if line.starts_with([' ', '\t']) {
            if first {
                return Err(format!("malformed MIME header initial line: {line}"));
            }
            if let Some((_, value)) = headers.last_mut() {
                let more = line.trim_matches([' ', '\t']);
                if !more.is_empty() {
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(more);
                }
            }
            continue;
        }
        first = false;
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("malformed MIME header line: {line}"));
        };
        let name = name.trim_end_matches(' ');
        if name.is_empty() {
            continue;
        }
        headers.push((
            canonical_key(name),
            value.trim_matches([' ', '\t']).to_owned(),
        ));
    }
    Ok(headers)
}

fn first_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
