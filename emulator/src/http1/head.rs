//! The head of a message: the start line and the header fields, read a line
//! at a time from whatever bytes have arrived.
//!
//! A finished [`Head`] holds its fields in one string with index ranges, so
//! that reading a head costs two allocations however many fields it has.

use std::ops::Range;

use super::{Dialect, Error, find_line_end, go, is_token_byte, malformed};

/// Which start line a head begins with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `HTTP/1.x NNN reason`: what a function answers.
    Response,
    /// `METHOD target HTTP/1.x`: what the server sends a function.
    Request,
}

/// The start line of a finished head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StartLine {
    /// A status line.
    Status {
        /// The three-digit status code.
        code: u16,
    },
    /// A request line; the method and target are [`Head::method`] and
    /// [`Head::target`].
    Request,
}

/// A finished head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    start: StartLine,
    http10: bool,
    /// The request line's method and target (empty for a response), then
    /// each field's name and trimmed value, back to back.
    text: String,
    method: Range<usize>,
    target: Range<usize>,
    fields: Vec<(Range<usize>, Range<usize>)>,
    /// Bytes the head took on the wire, line ends included.
    wire_len: u64,
}

impl Head {
    /// A response head built in code (for tests and canned answers), as if
    /// read from an `HTTP/1.1` status line and these fields.
    ///
    /// ```
    /// use fn_emulator::http1::Head;
    ///
    /// let head = Head::response(200, [("Content-Length", "0")]);
    /// assert_eq!((head.status(), head.content_length()), (Some(200), Ok(Some(0))));
    /// ```
    pub fn response<'a>(code: u16, fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut head = Self::empty(StartLine::Status { code }, 0);
        for (name, value) in fields {
            let name_at = head.text.len()..head.text.len() + name.len();
            head.text.push_str(name);
            let value_at = head.text.len()..head.text.len() + value.len();
            head.text.push_str(value);
            head.fields.push((name_at, value_at));
        }
        head
    }

    /// A head with no fields yet, room for `room` bytes of them.
    fn empty(start: StartLine, room: usize) -> Self {
        Self {
            start,
            http10: false,
            text: String::with_capacity(room),
            method: 0..0,
            target: 0..0,
            fields: Vec::with_capacity(if room == 0 { 0 } else { 8 }),
            wire_len: 0,
        }
    }

    /// The status code of a response head (`None` for a request).
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Status { code } => Some(code),
            StartLine::Request => None,
        }
    }

    /// Whether the start line says `HTTP/1.0`.
    pub fn is_http10(&self) -> bool {
        self.http10
    }

    /// The request line's method (empty for a response).
    pub fn method(&self) -> &str {
        self.slice(&self.method)
    }

    /// The request line's target (empty for a response).
    pub fn target(&self) -> &str {
        self.slice(&self.target)
    }

    /// The fields in wire order: names as sent, values without the
    /// whitespace around them.
    pub fn fields(&self) -> Fields<'_> {
        Fields {
            head: self,
            next: 0,
        }
    }

    /// How many fields the head has.
    #[cfg(test)]
    pub(crate) fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// The first value of the field `name` (compared case-insensitively).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every value of the field `name`, in wire order.
    pub fn field_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether any `name` field lists `token` (comma-separated,
    /// case-insensitive), as `Connection: keep-alive, Upgrade` does.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.field_values(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// The last transfer coding named by `Transfer-Encoding`, if any.
    pub fn last_transfer_coding(&self) -> Option<&str> {
        self.field_values("transfer-encoding")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .last()
    }

    /// The `Content-Length`, if any; several fields (or a list in one) must
    /// agree, as Go's reader requires.
    pub fn content_length(&self) -> Result<Option<u64>, Error> {
        let mut found = None;
        for value in self.field_values("content-length") {
            for part in value.split(',') {
                let part = part.trim();
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(malformed(format!("bad Content-Length {value:?}")));
                }
                let len = part
                    .parse::<u64>()
                    .map_err(|_| Error::TooLarge("Content-Length"))?;
                if found.is_some_and(|f| f != len) {
                    return Err(malformed("conflicting Content-Length headers"));
                }
                found = Some(len);
            }
        }
        Ok(found)
    }

    /// The fields as owned pairs, for callers that keep or edit them.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.fields()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    /// Bytes the head took on the wire, line ends included.
    pub fn wire_len(&self) -> u64 {
        self.wire_len
    }

    fn slice(&self, range: &Range<usize>) -> &str {
        self.text.get(range.clone()).unwrap_or_default()
    }
}

/// The fields of a [`Head`], in wire order.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    head: &'a Head,
    next: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (name, value) = self.head.fields.get(self.next)?;
        self.next += 1;
        Some((self.head.slice(name), self.head.slice(value)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.head.fields.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Fields<'_> {}

/// Reads one head from bytes fed as they arrive.
///
/// ```
/// use fn_emulator::http1::{HeadDecoder, Role};
///
/// let mut decoder = HeadDecoder::new(Role::Response, 1024, 64);
/// let (used, head) = decoder.feed(b"HTTP/1.1 204 No Content\r\nX-A:").unwrap();
/// assert_eq!((used, head), (29, None));
/// let (used, head) = decoder.feed(b" 1\r\n\r\nrest").unwrap();
/// let head = head.unwrap();
/// assert_eq!((used, head.status(), head.field("x-a")), (6, Some(204), Some("1")));
/// ```
#[derive(Debug)]
pub struct HeadDecoder {
    role: Role,
    /// Bytes the head may still take, line ends included.
    budget: u64,
    max_fields: usize,
    /// A line begun in an earlier feed.
    partial: Vec<u8>,
    started: bool,
    head: Head,
    dialect: Dialect,
    /// Go: the first bad field line. Go's reader parsed the fields once the
    /// whole head had arrived, so it is reported at the blank line.
    deferred: Option<Error>,
    /// Go: a field line (not a continuation) has been read.
    seen_field_line: bool,
}

impl HeadDecoder {
    /// A decoder for one head of `role`, of at most `max_bytes` bytes on the
    /// wire and `max_fields` fields.
    pub fn new(role: Role, max_bytes: u64, max_fields: usize) -> Self {
        Self {
            role,
            budget: max_bytes,
            max_fields,
            partial: Vec::new(),
            started: false,
            head: Head::empty(StartLine::Request, 256),
            dialect: Dialect::Strict,
            deferred: None,
            seen_field_line: false,
        }
    }

    /// The same decoder, reading by `dialect`'s rules.
    pub(crate) fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Bytes the head may still take.
    pub(crate) fn budget(&self) -> u64 {
        self.budget
    }

    /// Whether any byte of the head has been fed.
    pub fn has_begun(&self) -> bool {
        self.started || !self.partial.is_empty()
    }

    /// What part of the head is being read, for messages.
    fn part(&self) -> &'static str {
        match (self.started, self.role) {
            (true, _) => "header section",
            (false, Role::Response) => "status line",
            (false, Role::Request) => "request line",
        }
    }

    /// Takes bytes from `input`: returns how many were used and, once the
    /// blank line after the fields has been read, the head. Bytes after the
    /// head are left unused.
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, Option<Head>), Error> {
        let mut used = 0;
        while used < input.len() {
            let rest = &input[used..];
            let Some(end) = find_line_end(rest) else {
                let held = (self.partial.len() + rest.len()) as u64;
                if held >= self.budget {
                    return Err(Error::TooLarge(self.part()));
                }
                self.partial.extend_from_slice(rest);
                return Ok((input.len(), None));
            };
            let taken = (self.partial.len() + end + 1) as u64;
            if taken > self.budget {
                return Err(Error::TooLarge(self.part()));
            }
            self.budget -= taken;
            self.head.wire_len += taken;
            used += end + 1;
            let done = if self.partial.is_empty() {
                self.line(&rest[..end])?
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&rest[..end]);
                let done = self.line(&line)?;
                line.clear();
                self.partial = line;
                done
            };
            if done {
                let head = std::mem::replace(&mut self.head, Head::empty(StartLine::Request, 0));
                return Ok((used, Some(head)));
            }
        }
        Ok((used, None))
    }

    /// The input ended before the head did: [`Error::Closed`] if nothing of
    /// it had arrived, otherwise a malformed head.
    pub fn eof(&self) -> Error {
        if self.has_begun() {
            malformed(format!("connection closed inside the {}", self.part()))
        } else {
            Error::Closed
        }
    }

    /// One line without its `\n` (and without a `\r` before it). Returns
    /// whether it was the blank line that ends the head.
    fn line(&mut self, line: &[u8]) -> Result<bool, Error> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !self.started {
            self.started = true;
            return match (self.role, self.dialect) {
                (Role::Response, Dialect::Go) => self.go_status_line(line).map(|()| false),
                (Role::Response, Dialect::Strict) => self.status_line(line).map(|()| false),
                (Role::Request, _) => self.request_line(line).map(|()| false),
            };
        }
        if line.is_empty() {
            return match self.deferred.take() {
                Some(e) => Err(e),
                None => Ok(true),
            };
        }
        if self.head.fields.len() == self.max_fields {
            return Err(Error::TooLarge("header count"));
        }
        match self.dialect {
            Dialect::Strict => self.field_line(line)?,
            Dialect::Go => self.go_field_line(line),
        }
        Ok(false)
    }

    fn go_status_line(&mut self, line: &[u8]) -> Result<(), Error> {
        let code = go::status_code(&String::from_utf8_lossy(line)).map_err(Error::Malformed)?;
        self.head.start = StartLine::Status { code };
        Ok(())
    }

    /// `textproto.Reader.ReadMIMEHeader`'s field line: a continuation line
    /// folded into the field before it, any name but an empty one (skipped),
    /// the value trimmed. A bad line is kept for the end of the head.
    fn go_field_line(&mut self, line: &[u8]) {
        if self.deferred.is_some() {
            return;
        }
        let text = String::from_utf8_lossy(line);
        if text.starts_with([' ', '\t']) {
            if !self.seen_field_line {
                self.deferred = Some(malformed(format!(
                    "malformed MIME header initial line: {text}"
                )));
                return;
            }
            let more = text.trim_matches([' ', '\t']);
            let head = &mut self.head;
            // The last field's value ends the text: nothing is pushed after
            // it in this dialect, so the fold extends it in place.
            if let Some((_, value)) = head.fields.last_mut()
                && !more.is_empty()
            {
                if value.start != value.end {
                    head.text.push(' ');
                }
                head.text.push_str(more);
                value.end = head.text.len();
            }
            return;
        }
        self.seen_field_line = true;
        let Some((name, value)) = text.split_once(':') else {
            self.deferred = Some(malformed(format!("malformed MIME header line: {text}")));
            return;
        };
        let name = name.trim_end_matches(' ');
        if name.is_empty() {
            return;
        }
        let name = self.push(name);
        let value = self.push(value.trim_matches([' ', '\t']));
        self.head.fields.push((name, value));
    }

    fn status_line(&mut self, line: &[u8]) -> Result<(), Error> {
        let text = std::str::from_utf8(line).map_err(|_| malformed("status line is not UTF-8"))?;
        let rest = text
            .strip_prefix("HTTP/1.")
            .ok_or_else(|| malformed(format!("bad status line {text:?}")))?;
        self.head.http10 = match rest.as_bytes().first() {
            Some(b'0') => true,
            Some(b'1') => false,
            _ => return Err(malformed(format!("unsupported version in {text:?}"))),
        };
        let code = rest
            .get(1..)
            .and_then(|r| r.strip_prefix(' '))
            .and_then(|r| r.get(..3))
            .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| malformed(format!("bad status code in {text:?}")))?;
        match rest.as_bytes().get(5) {
            None | Some(b' ') => {
                self.head.start = StartLine::Status { code };
                Ok(())
            }
            Some(_) => Err(malformed(format!("bad status code in {text:?}"))),
        }
    }

    fn request_line(&mut self, line: &[u8]) -> Result<(), Error> {
        let text = std::str::from_utf8(line).map_err(|_| malformed("request line is not UTF-8"))?;
        let bad = || malformed(format!("bad request line {text:?}"));
        let mut parts = text.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if method.is_empty() || !method.bytes().all(is_token_byte) || target.is_empty() {
            return Err(bad());
        }
        self.head.http10 = match version {
            "HTTP/1.0" => true,
            "HTTP/1.1" => false,
            _ => return Err(malformed(format!("unsupported version in {text:?}"))),
        };
        self.head.method = self.push(method);
        self.head.target = self.push(target);
        self.head.start = StartLine::Request;
        Ok(())
    }

    fn field_line(&mut self, line: &[u8]) -> Result<(), Error> {
        let text = std::str::from_utf8(line).map_err(|_| malformed("header line is not UTF-8"))?;
        if text.starts_with([' ', '\t']) {
            return Err(malformed("obsolete line folding"));
        }
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| malformed(format!("header line without colon {text:?}")))?;
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(malformed(format!("bad header name {name:?}")));
        }
        let name = self.push(name);
        let value = self.push(value.trim_matches([' ', '\t']));
        self.head.fields.push((name, value));
        Ok(())
    }

    fn push(&mut self, s: &str) -> Range<usize> {
        let start = self.head.text.len();
        self.head.text.push_str(s);
        start..self.head.text.len()
    }
}
