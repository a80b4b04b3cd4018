//! Reading one response from a hot function's stdout as the 0.3.602 server
//! read it, with a fresh decoder per call (SIO-IO-7), and what the
//! server's client got from it:
//!
//! * `json` (JSON-RESP-4) and `cloudevent` (CE-RESP-4): one value read as
//!   `json.NewDecoder(stdout).Decode` reads it ([`Scanner`]), unmarshalled
//!   into the server's structs with Go's rules, then mapped to the client's
//!   status, headers and body;
//! * `http` (HTTP-RESP-4): one response read as `http.ReadResponse` reads
//!   it for the request's method: the status line, the MIME header, then
//!   a body framed by `Content-Length`, by `chunked`, by nothing (HEAD,
//!   1xx, 204, 304) or by the end of the stream.
//!
//! The reader is incremental: feed it everything the process has written
//! since the call began (and whether stdout has ended); it says when it has
//! one response and how many bytes that took.

use serde_json::Value;

use super::StdioFormat;
use crate::golang::{
    Scan, Scanner, canonical_key, go_header, go_int, go_string, go_time, member, parse_value,
    push_value,
};

/// What the server's client received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientResponse {
    /// The status (Go accepts any; outside 100-599 is a failure of SIO-ERR-1).
    pub status: i64,
    /// The headers, canonical names, each name's values in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl ClientResponse {
    /// The first value of `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (any case), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Sets `name` to one value, as Go's `Header.Set`.
    fn set(&mut self, name: &str, value: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }
}

/// What a complete response decoded to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// The client's response (SIO-ERR-7 row 1).
    Response(ClientResponse),
    /// It does not decode: 502 "invalid … response from function err: …",
    /// container killed.
    Undecodable(String),
    /// `cloudevent`: it decodes but cannot be mapped: 500, container kept.
    Unmappable(String),
    /// `cloudevent`: it decodes, but the 0.3.602 server panicked mapping it
    /// (CE-RESP-2, CE-RESP-3).
    Crash(String),
}

/// One step of reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Not complete yet.
    More,
    /// One response, `used` bytes of the stream long (leading white space
    /// included).
    Done {
        /// Bytes it took.
        used: usize,
        /// What it decoded to.
        decoded: Decoded,
    },
    /// The stream cannot hold a response: the server's decoder failed on
    /// it (502, container killed).
    Bad(String),
    /// stdout ended before a complete response (`partial`: some of one had
    /// arrived).
    Ended {
        /// Whether part of a response had arrived.
        partial: bool,
    },
}

/// A fresh decoder for one call's response.
#[derive(Debug)]
pub struct Reader {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Json { scanner: Scanner, cloudevent: bool },
    Http(HttpReader),
}

impl Reader {
    /// A reader for `format`; `method` is the request's (it decides
    /// whether an `http` response has a body).
    pub fn new(format: StdioFormat, method: &str) -> Self {
        let inner = match format {
            StdioFormat::Http => Inner::Http(HttpReader::new(method)),
            StdioFormat::Cloudevent => Inner::Json {
                scanner: Scanner::new(),
                cloudevent: true,
            },
            StdioFormat::Json | StdioFormat::Default => Inner::Json {
                scanner: Scanner::new(),
                cloudevent: false,
            },
        };
        Self { inner }
    }

    /// Reads on: `buf` is everything since the call began, `eof` says
    /// stdout has ended.
    pub fn feed(&mut self, buf: &[u8], eof: bool) -> Step {
        match &mut self.inner {
            Inner::Json {
                scanner,
                cloudevent,
            } => match scanner.feed(buf, eof) {
                Scan::Incomplete => Step::More,
                Scan::Eof => Step::Ended { partial: false },
                Scan::UnexpectedEof => Step::Ended { partial: true },
                Scan::Invalid(e) => Step::Bad(e),
                Scan::Complete { start, end } => {
                    let decoded = match parse_value(&buf[start..end]) {
                        Err(e) => Decoded::Undecodable(e),
                        Ok(v) if *cloudevent => cloudevent_response(&v),
                        Ok(v) => json_response(&v),
                    };
                    Step::Done { used: end, decoded }
                }
            },
            Inner::Http(reader) => reader.feed(buf, eof),
        }
    }
}

/// `jsonOut` to the client's response (JSON-RESP-4).
pub fn json_response(v: &Value) -> Decoded {
    match json_out(v) {
        Ok(res) => Decoded::Response(res),
        Err(e) => Decoded::Undecodable(e),
    }
}

fn json_out(v: &Value) -> Result<ClientResponse, String> {
    let mut res = ClientResponse {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let obj = match v {
        // `Decode` of `null` into a struct sets nothing.
        Value::Null => return Ok(res),
        Value::Object(obj) => obj,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type protocol.jsonOut",
                crate::golang::kind(other)
            ));
        }
    };
    let body = go_string(member(obj, "body"), "jsonOut.body")?;
    let content_type = go_string(member(obj, "content_type"), "jsonOut.content_type")?;
    let mut status = 0;
    match member(obj, "protocol") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            status = go_int(member(p, "status_code"), "jsonOut.protocol.status_code")?;
            for (name, value) in go_header(member(p, "headers"), "jsonOut.protocol.headers")? {
                res.headers.push((canonical_key(&name), value));
            }
        }
        Some(other) => {
            return Err(format!(
                "json: cannot unmarshal {} into Go struct field jsonOut.protocol of type \
                 protocol.CallResponseHTTP",
                crate::golang::kind(other)
            ));
        }
    }
    if !content_type.is_empty() {
        res.set("Content-Type", &content_type);
    }
    if status != 0 {
        res.status = status;
    }
    res.body = body.into_bytes();
    Ok(res)
}

/// A CloudEvent to the client's response (CE-RESP-4).
pub fn cloudevent_response(v: &Value) -> Decoded {
    let obj = match v {
        Value::Object(obj) => Some(obj),
        Value::Null => None,
        other => {
            return Decoded::Undecodable(format!(
                "json: cannot unmarshal {} into Go value of type cloudevent.CloudEvent",
                crate::golang::kind(other)
            ));
        }
    };
    let empty = serde_json::Map::new();
    let obj = obj.unwrap_or(&empty);
    // Unmarshalling into the server's struct.
    let mut content_type = String::new();
    for field in [
        "cloudEventsVersion",
        "eventID",
        "source",
        "eventType",
        "eventTypeVersion",
        "schemaURL",
        "contentType",
    ] {
        match go_string(member(obj, field), &format!("CloudEvent.{field}")) {
            Ok(s) if field == "contentType" => content_type = s,
            Ok(_) => {}
            Err(e) => return Decoded::Undecodable(e),
        }
    }
    if let Err(e) = go_time(member(obj, "eventTime"), "CloudEvent.eventTime") {
        return Decoded::Undecodable(e);
    }
    let extensions = match member(obj, "extensions") {
        None | Some(Value::Null) => None,
        Some(Value::Object(ext)) => Some(ext),
        Some(other) => {
            return Decoded::Undecodable(format!(
                "json: cannot unmarshal {} into Go struct field CloudEvent.extensions of type \
                 map[string]interface {{}}",
                crate::golang::kind(other)
            ));
        }
    };
    let data = member(obj, "data");

    // Mapping to the client's response.
    let mut res = ClientResponse {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    };
    match extensions.and_then(|ext| ext.get("protocol")) {
        None => {}
        Some(Value::Object(p)) => {
            match p.get("status_code") {
                None => {}
                Some(Value::Number(n)) => {
                    // A JSON number is a float64 to the server, then an int.
                    res.status = n.as_f64().map_or(0, |f| f.trunc() as i64);
                }
                Some(other) => {
                    return Decoded::Unmappable(format!(
                        "extensions.protocol.status_code is {} {other}, not a number",
                        crate::golang::kind(other)
                    ));
                }
            }
            match p.get("headers") {
                None => {}
                Some(Value::Object(h)) => {
                    for (name, values) in h {
                        let Value::Array(values) = values else {
                            return Decoded::Unmappable(format!(
                                "extensions.protocol.headers[{name:?}] is not an array of strings"
                            ));
                        };
                        for value in values {
                            let Value::String(value) = value else {
                                return Decoded::Unmappable(format!(
                                    "extensions.protocol.headers[{name:?}] holds a {}, not a string",
                                    crate::golang::kind(value)
                                ));
                            };
                            res.headers.push((canonical_key(name), value.clone()));
                        }
                    }
                }
                Some(other) => {
                    return Decoded::Unmappable(format!(
                        "extensions.protocol.headers is {}, not an object of string arrays",
                        crate::golang::kind(other)
                    ));
                }
            }
        }
        Some(other) => {
            return Decoded::Crash(format!(
                "extensions.protocol is {}, not an object",
                crate::golang::kind(other)
            ));
        }
    }
    match content_type.as_str() {
        "application/json" => {
            let mut text = String::new();
            push_value(&mut text, data.unwrap_or(&Value::Null));
            res.body = text.into_bytes();
        }
        "text/plain" => match data {
            Some(Value::String(s)) => res.body = s.clone().into_bytes(),
            Some(other) => {
                return Decoded::Crash(format!(
                    "contentType is text/plain but data is {}, not a string",
                    crate::golang::kind(other)
                ));
            }
            None => {
                return Decoded::Crash("contentType is text/plain but data is missing".into());
            }
        },
        other => {
            return Decoded::Unmappable(format!(
                "contentType {other:?} is neither \"application/json\" nor \"text/plain\""
            ));
        }
    }
    res.set("Content-Type", &content_type);
    Decoded::Response(res)
}

// ------------------------------------------------------------ http

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
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
struct Head {
    status: i64,
    headers: Vec<(String, String)>,
    body_start: usize,
    framing: Framing,
}

#[derive(Debug)]
struct HttpReader {
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
    fn new(method: &str) -> Self {
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

    fn feed(&mut self, buf: &[u8], eof: bool) -> Step {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(format: StdioFormat, method: &str, input: &[u8], eof: bool) -> Step {
        Reader::new(format, method).feed(input, eof)
    }

    fn response(step: Step) -> (usize, ClientResponse) {
        match step {
            Step::Done {
                used,
                decoded: Decoded::Response(res),
            } => (used, res),
            other => panic!("not a response: {other:?}"),
        }
    }

    #[test]
    fn json_responses_map_as_the_server_maps_them() {
        let input = b"{\"body\":\"hi\",\"content_type\":\"text/plain\",\"protocol\":{\"status_code\":404,\"headers\":{\"x-custom\":[\"a\",\"b\"],\"Content-Type\":[\"ignored\"]}}}\n";
        let (used, res) = response(read_all(StdioFormat::Json, "POST", input, false));
        assert_eq!(used, input.len() - 1);
        assert_eq!(res.status, 404);
        assert_eq!(res.body, b"hi");
        assert_eq!(res.header_values("X-Custom"), ["a", "b"]);
        assert_eq!(res.header_values("Content-Type"), ["text/plain"]);

        // No protocol, zero status: 200.
        let (_, res) = response(read_all(
            StdioFormat::Json,
            "POST",
            b"{\"body\":\"x\",\"protocol\":{\"status_code\":0}}",
            false,
        ));
        assert_eq!(res.status, 200);
        for bad in [
            &b"{\"body\":1}"[..],
            b"{\"protocol\":{\"status_code\":\"200\"}}",
            b"{\"protocol\":{\"status_code\":200.5}}",
            b"{\"protocol\":{\"headers\":{\"A\":\"b\"}}}",
            b"[1]",
        ] {
            match read_all(StdioFormat::Json, "POST", bad, true) {
                Step::Done {
                    decoded: Decoded::Undecodable(_),
                    ..
                } => {}
                other => panic!("{}: {other:?}", String::from_utf8_lossy(bad)),
            }
        }
        assert!(matches!(
            read_all(StdioFormat::Json, "POST", b"stray\n{}", false),
            Step::Bad(_)
        ));
        assert_eq!(
            read_all(StdioFormat::Json, "POST", b"{\"bo", true),
            Step::Ended { partial: true }
        );
    }

    #[test]
    fn cloudevent_responses_map_as_the_server_maps_them() {
        let event = |ct: &str, data: &str, protocol: &str| {
            format!(
                "{{\"cloudEventsVersion\":\"0.1\",\"eventID\":\"x\",\"eventTime\":\"0001-01-01T00:00:00Z\",\"contentType\":\"{ct}\",\"extensions\":{{\"protocol\":{protocol}}}{data}}}\n"
            )
        };
        let ok = event(
            "application/json",
            ",\"data\":{\"b\":1,\"a\":[true]}",
            "{\"status_code\":201,\"headers\":{\"X-A\":[\"1\"]}}",
        );
        let (_, res) = response(read_all(
            StdioFormat::Cloudevent,
            "POST",
            ok.as_bytes(),
            false,
        ));
        assert_eq!(res.status, 201);
        assert_eq!(res.body, br#"{"a":[true],"b":1}"#);
        assert_eq!(res.header("content-type"), Some("application/json"));
        assert_eq!(res.header("x-a"), Some("1"));

        let text = event("text/plain", ",\"data\":\"hello\"", "{}");
        let (_, res) = response(read_all(
            StdioFormat::Cloudevent,
            "POST",
            text.as_bytes(),
            false,
        ));
        assert_eq!((res.status, res.body.as_slice()), (200, &b"hello"[..]));

        let step = |s: String| read_all(StdioFormat::Cloudevent, "POST", s.as_bytes(), false);
        assert!(matches!(
            step(event("text/html", ",\"data\":\"x\"", "{}")),
            Step::Done {
                decoded: Decoded::Unmappable(_),
                ..
            }
        ));
        assert!(matches!(
            step(event(
                "text/plain",
                ",\"data\":\"x\"",
                "{\"status_code\":\"200\"}"
            )),
            Step::Done {
                decoded: Decoded::Unmappable(_),
                ..
            }
        ));
        assert!(matches!(
            step(event("text/plain", ",\"data\":1", "{}")),
            Step::Done {
                decoded: Decoded::Crash(_),
                ..
            }
        ));
        assert!(matches!(
            step(event("text/plain", ",\"data\":\"x\"", "[]")),
            Step::Done {
                decoded: Decoded::Crash(_),
                ..
            }
        ));
        let bad_time =
            "{\"eventTime\":\"yesterday\",\"contentType\":\"text/plain\",\"data\":\"x\"}";
        assert!(matches!(
            step(bad_time.to_owned()),
            Step::Done {
                decoded: Decoded::Undecodable(_),
                ..
            }
        ));
    }

    #[test]
    fn http_responses_are_framed_as_go_frames_them() {
        let input = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 5\r\n\r\nhelloNEXT";
        let (used, res) = response(read_all(StdioFormat::Http, "POST", input, false));
        assert_eq!(used, input.len() - 4);
        assert_eq!(res.body, b"hello");
        assert_eq!(res.header_values("x-a"), ["1", "2"]);

        let chunked = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer-A: x\r\n\r\n";
        let (used, res) = response(read_all(StdioFormat::Http, "POST", chunked, false));
        assert_eq!(used, chunked.len());
        assert_eq!(
            (res.status, res.body.as_slice()),
            (201, &b"hello world"[..])
        );
        assert_eq!(res.header("content-length"), None);

        // Chunk by chunk gives the same answer.
        let mut reader = Reader::new(StdioFormat::Http, "POST");
        let mut last = Step::More;
        for n in 1..=chunked.len() {
            last = reader.feed(&chunked[..n], false);
            if last != Step::More {
                assert_eq!(n, chunked.len());
                break;
            }
        }
        assert!(matches!(last, Step::Done { .. }));

        // No body for HEAD and 204 whatever the length says.
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        let (used, res) = response(read_all(StdioFormat::Http, "HEAD", head, false));
        assert_eq!((used, res.body.len()), (head.len(), 0));
        let no_content = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert!(matches!(
            read_all(StdioFormat::Http, "POST", no_content, false),
            Step::Done { .. }
        ));

        // No length: to the end of the stream, which a live process never
        // reaches.
        let open = b"HTTP/1.1 200 OK\r\n\r\nbody";
        assert_eq!(read_all(StdioFormat::Http, "POST", open, false), Step::More);
        assert_eq!(
            read_all(StdioFormat::Http, "POST", open, true),
            Step::Ended { partial: true }
        );
    }

    #[test]
    fn malformed_http_responses_do_not_decode() {
        for bad in [
            &b"stray line\nHTTP/1.1 200 OK\r\n"[..],
            b"HTTP/1.1 20 OK\r\n",
            b"HTTX/1.1 200 OK\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX",
        ] {
            assert!(
                matches!(
                    read_all(StdioFormat::Http, "POST", bad, false),
                    Step::Bad(_)
                ),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            read_all(
                StdioFormat::Http,
                "POST",
                b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
                true
            ),
            Step::Ended { partial: true }
        );
        assert_eq!(
            read_all(StdioFormat::Http, "POST", b"", true),
            Step::Ended { partial: false }
        );
    }
}
