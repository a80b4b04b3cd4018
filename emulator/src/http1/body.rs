//! The body after a head, framed by `Content-Length`, by `chunked` or by
//! the end of the input, read from bytes fed as they arrive.

use super::{Dialect, Error, find_line_end, go, malformed};

/// The longest chunk-size, chunk-end or trailer line accepted.
pub(crate) const MAX_CHUNK_LINE: u64 = 16 * 1024;

/// How a body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (a `204`, a request without a length).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything up to the end of the input.
    UntilClose,
}

#[derive(Debug)]
enum State {
    Length { left: u64, total: u64 },
    ChunkSize,
    ChunkData { left: u64 },
    ChunkEnd,
    Trailers,
    UntilClose,
    Done,
}

/// Reads one body from bytes fed as they arrive, into a `Vec` the caller
/// owns, refusing to hold more than a limit.
///
/// ```
/// use fn_emulator::http1::{BodyDecoder, Framing};
///
/// let mut decoder = BodyDecoder::new(Framing::Chunked, 1024);
/// let mut body = Vec::new();
/// assert_eq!(decoder.feed(b"3\r\nabc\r\n0\r\n", &mut body).unwrap(), (11, false));
/// assert_eq!(decoder.feed(b"\r\nnext", &mut body).unwrap(), (2, true));
/// assert_eq!(body, b"abc");
/// ```
#[derive(Debug)]
pub struct BodyDecoder {
    state: State,
    max_body: u64,
    /// A chunk line begun in an earlier feed.
    line: Vec<u8>,
    dialect: Dialect,
}

impl BodyDecoder {
    /// A decoder for a body framed as `framing`, of at most `max_body`
    /// bytes. A `Length` over the limit is refused by [`Framing`]'s caller
    /// before any byte is read: see [`BodyDecoder::check_length`].
    pub fn new(framing: Framing, max_body: u64) -> Self {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(total) => State::Length { left: total, total },
            Framing::Chunked => State::ChunkSize,
            Framing::UntilClose => State::UntilClose,
        };
        Self {
            state,
            max_body,
            line: Vec::new(),
            dialect: Dialect::Strict,
        }
    }

    /// The same decoder, reading by `dialect`'s rules.
    pub(crate) fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Refuses a declared length over `max_body`.
    pub fn check_length(len: u64, max_body: u64) -> Result<(), Error> {
        if len > max_body {
            Err(Error::TooLarge("Content-Length"))
        } else {
            Ok(())
        }
    }

    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// How many bytes to reserve before the first feed: the declared length,
    /// up to a small bound (a length is a claim, not bytes that arrived).
    pub fn initial_capacity(&self) -> usize {
        match self.state {
            State::Length { total, .. } => usize::try_from(total.min(64 * 1024)).unwrap_or(0),
            _ => 0,
        }
    }

    /// Takes bytes from `input`, appending the body's bytes to `body`.
    /// Returns how many input bytes were used and whether the body is
    /// complete; bytes after the body are left unused.
    pub fn feed(&mut self, input: &[u8], body: &mut Vec<u8>) -> Result<(usize, bool), Error> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            match self.state {
                State::Done => return Ok((used, true)),
                _ if rest.is_empty() => return Ok((used, false)),
                State::Length { left, .. } | State::ChunkData { left } => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
                    body.extend_from_slice(&rest[..n]);
                    used += n;
                    let left = left - n as u64;
                    self.state = match self.state {
                        State::Length { total, .. } if left > 0 => State::Length { left, total },
                        State::Length { .. } => State::Done,
                        _ if left > 0 => State::ChunkData { left },
                        _ => State::ChunkEnd,
                    };
                }
                State::UntilClose => {
                    if (body.len() + rest.len()) as u64 > self.max_body {
                        return Err(Error::TooLarge("body delimited by close"));
                    }
                    body.extend_from_slice(rest);
                    used = input.len();
                }
                State::ChunkEnd if self.dialect == Dialect::Go => {
                    // Go reads exactly the two bytes after a chunk's data,
                    // and they must be CRLF.
                    let n = (2 - self.line.len().min(2)).min(rest.len());
                    self.line.extend_from_slice(&rest[..n]);
                    used += n;
                    if self.line.len() < 2 {
                        return Ok((used, false));
                    }
                    if self.line != b"\r\n" {
                        return Err(malformed("malformed chunked encoding"));
                    }
                    self.line.clear();
                    self.state = State::ChunkSize;
                }
                State::ChunkSize | State::ChunkEnd | State::Trailers => {
                    let Some(n) = self.chunk_line(rest)? else {
                        return Ok((input.len(), false));
                    };
                    used += n;
                    let line = std::mem::take(&mut self.line);
                    let result = self.after_line(&line, body.len());
                    self.line = line;
                    self.line.clear();
                    result?;
                }
            }
        }
    }

    /// Gathers one chunk line into `self.line`: returns the bytes used from
    /// `rest` once the line is whole, `None` when all of `rest` was held.
    fn chunk_line(&mut self, rest: &[u8]) -> Result<Option<usize>, Error> {
        if self.dialect == Dialect::Go {
            return self.go_chunk_line(rest);
        }
        let what = self.line_part();
        match find_line_end(rest) {
            Some(end) => {
                if (self.line.len() + end + 1) as u64 > MAX_CHUNK_LINE {
                    return Err(Error::TooLarge(what));
                }
                self.line.extend_from_slice(&rest[..end]);
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                Ok(Some(end + 1))
            }
            None => {
                if (self.line.len() + rest.len()) as u64 >= MAX_CHUNK_LINE {
                    return Err(Error::TooLarge(what));
                }
                self.line.extend_from_slice(rest);
                Ok(None)
            }
        }
    }

    /// [`chunk_line`](Self::chunk_line) as Go's `bufio.Reader` reads a
    /// line: only a line still without its end is limited, and the `\r`
    /// stays for the line's reader to see.
    fn go_chunk_line(&mut self, rest: &[u8]) -> Result<Option<usize>, Error> {
        match find_line_end(rest) {
            Some(end) => {
                self.line.extend_from_slice(&rest[..end]);
                Ok(Some(end + 1))
            }
            None if self.line.len() + rest.len() > go::CHUNK_LINE_MAX => {
                Err(malformed("header line too long (chunk size or trailer)"))
            }
            None => {
                self.line.extend_from_slice(rest);
                Ok(None)
            }
        }
    }

    /// What a whole chunk line says.
    fn after_line(&mut self, line: &[u8], held: usize) -> Result<(), Error> {
        if self.dialect == Dialect::Go {
            return self.go_after_line(line, held);
        }
        self.state = match self.state {
            State::ChunkSize => self.after_chunk_size(chunk_size(line)?, held)?,
            State::ChunkEnd if line.is_empty() => State::ChunkSize,
            State::ChunkEnd => return Err(malformed("chunk data not followed by CRLF")),
            // Trailer fields are read and dropped, up to the blank line.
            State::Trailers if line.is_empty() => State::Done,
            State::Trailers => State::Trailers,
            _ => return Err(malformed("chunk framing out of step")),
        };
        Ok(())
    }

    /// The state after a chunk of `size` bytes was announced, with `held`
    /// body bytes read: its data, or the trailers after the last chunk.
    fn after_chunk_size(&self, size: u64, held: usize) -> Result<State, Error> {
        if (held as u64).saturating_add(size) > self.max_body {
            return Err(Error::TooLarge("chunked body"));
        }
        Ok(if size == 0 {
            State::Trailers
        } else {
            State::ChunkData { left: size }
        })
    }

    /// [`after_line`](Self::after_line) by Go's rules (`chunkedReader`,
    /// then the trailer read as a MIME header).
    fn go_after_line(&mut self, line: &[u8], held: usize) -> Result<(), Error> {
        self.state = match self.state {
            State::ChunkSize => {
                let size = go::chunk_size(line).map_err(Error::Malformed)?;
                self.after_chunk_size(size, held)?
            }
            State::Trailers if line.strip_suffix(b"\r").unwrap_or(line).is_empty() => State::Done,
            State::Trailers if line.contains(&b':') => State::Trailers,
            State::Trailers => {
                return Err(malformed(format!(
                    "malformed MIME header line in the trailer: {}",
                    String::from_utf8_lossy(line)
                )));
            }
            _ => return Err(malformed("chunk framing out of step")),
        };
        Ok(())
    }

    fn line_part(&self) -> &'static str {
        match self.state {
            State::ChunkEnd => "chunk end",
            State::Trailers => "trailer section",
            _ => "chunk size",
        }
    }

    /// The input ended: `Ok` if that completes the body (or it was already
    /// complete), otherwise why the body is cut short. `received` is how
    /// many body bytes were read.
    pub fn eof(&self, received: usize) -> Result<(), Error> {
        let partial = !self.line.is_empty();
        match self.state {
            State::Done | State::UntilClose => Ok(()),
            State::Length { total, .. } => Err(malformed(format!(
                "body ended after {received} of {total} Content-Length bytes"
            ))),
            _ if partial => Err(malformed(format!(
                "connection closed inside the {}",
                self.line_part()
            ))),
            State::ChunkSize => Err(malformed("connection closed before the last chunk")),
            State::ChunkData { .. } => Err(malformed("connection closed inside a chunk")),
            State::ChunkEnd => Err(malformed("chunk data not followed by CRLF")),
            State::Trailers => Err(malformed("connection closed inside the trailers")),
        }
    }
}

/// The size of a chunk-size line (hex digits, then any `;extension`).
fn chunk_size(line: &[u8]) -> Result<u64, Error> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .map(<[u8]>::trim_ascii)
        .unwrap_or_default();
    std::str::from_utf8(digits)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|s| u64::from_str_radix(s, 16).ok())
        .ok_or_else(|| {
            malformed(format!(
                "bad chunk size {:?}",
                String::from_utf8_lossy(line)
            ))
        })
}
