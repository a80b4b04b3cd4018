//! The guard's no-copy path: a whole small request head that arrived in one
//! read is checked where it lies, in hyper's read buffer, and handed over
//! with its framing lines (`Host`, `Content-Length`, `Transfer-Encoding`)
//! moved after the others.
//!
//! Why move them: user code sees every header but the framing ones, in
//! wire order (HS-REQ-4). `http::HeaderMap::remove` moves the map's last
//! entry into the hole it leaves, so removing a header that is not last
//! reorders the rest, and the context had to rebuild the whole map without
//! them instead (a fifth of the FDK's cost of a call). Go's client writes
//! `Host` first and `Content-Length` third, so the guard puts those lines
//! last before hyper parses the head: the framing entries are then the
//! map's last ones and come off in place ([`Context`](crate::Context)).
//! Only the order *between different names* changes, and only for the
//! framing ones, which neither hyper's framing nor user code depends on;
//! the values of one name keep their order.

use crate::head::HYPER_HEADERS;
use crate::protocol::MAX_HEAD_BYTES;

/// Framing lines are moved only while they fit in this many bytes (on the
/// stack); longer ones stay where they are, and the context rebuilds the
/// map as it did before.
const MOVABLE_FRAMING: usize = 256;

/// Where a head that hyper may parse as it is ends in `data`, if `data`
/// starts with a whole one: a request line first (no empty lines before
/// it, which the guard's scan handles), at most [`HYPER_HEADERS`] header
/// lines, at most [`MAX_HEAD_BYTES`], and its empty line. The same ends and
/// counts as the guard's scan, found without copying the head. When it
/// returns `Some`, the head's framing lines have been moved last.
pub(crate) fn whole_small_head(data: &mut [u8]) -> Option<usize> {
    if matches!(data.first(), None | Some(b'\r' | b'\n')) {
        return None;
    }
    let mut header_lines = 0usize;
    let mut line_start = 0usize;
    // Where the first header line starts (after the request line).
    let mut headers_start = None;
    let mut framing = Framing::default();
    // A line starting with white space would continue the line above it
    // (obsolete folding): moving lines could change what it continues. (Also
    // set when the first line is not a request line: nothing is moved.)
    let mut folded = false;
    loop {
        let i = line_start + find_newline(data.get(line_start..)?)?;
        let line = data.get(line_start..i)?;
        if line.is_empty() || line == b"\r" {
            let end = i + 1;
            if end > MAX_HEAD_BYTES {
                return None;
            }
            if !folded && let Some(start) = headers_start {
                framing.move_last(data, start, line_start);
            }
            return Some(end);
        }
        if headers_start.is_none() {
            headers_start = Some(i + 1);
            // Only a head is rewritten: if the guard were ever out of step
            // with the stream (a pipelining client, say), body bytes shaped
            // like header lines must reach hyper as they came.
            folded |= !is_request_line(line);
        } else {
            header_lines += 1;
            if header_lines > HYPER_HEADERS {
                return None;
            }
            folded |= matches!(line.first(), Some(b' ' | b'\t'));
            if is_framing_line(line) {
                framing.note(line_start, i + 1);
            } else if framing.count > 0 {
                framing.out_of_place = true;
            }
        }
        line_start = i + 1;
    }
}

/// Whether `line` looks like a request line: `METHOD SP target SP HTTP/1.x`.
fn is_request_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.first().is_some_and(u8::is_ascii_uppercase)
        && (line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0"))
}

/// The framing lines of a head, as its scan finds them.
#[derive(Default)]
struct Framing {
    /// The first [`MOVABLE_LINES`] framing lines (start, end).
    lines: [(usize, usize); MOVABLE_LINES],
    count: usize,
    bytes: usize,
    /// A header line follows a framing one: there is something to move.
    out_of_place: bool,
}

/// More framing lines than this are left where they are.
const MOVABLE_LINES: usize = 4;

impl Framing {
    fn note(&mut self, start: usize, end: usize) {
        if let Some(slot) = self.lines.get_mut(self.count) {
            *slot = (start, end);
        }
        self.count += 1;
        self.bytes += end - start;
    }

    /// Moves the framing lines after the other header lines, which span
    /// `data[start..end]`, keeping the order within each group.
    fn move_last(&self, data: &mut [u8], start: usize, end: usize) {
        if !self.out_of_place || self.count > MOVABLE_LINES || self.bytes > MOVABLE_FRAMING {
            return;
        }
        let lines = &self.lines[..self.count];
        let mut moved = [0u8; MOVABLE_FRAMING];
        let mut moved_len = 0;
        for &(from, to) in lines {
            moved[moved_len..moved_len + (to - from)].copy_from_slice(&data[from..to]);
            moved_len += to - from;
        }
        // The other lines close up, stretch by stretch, towards the start.
        let mut write = lines[0].0;
        for (n, &(_, to)) in lines.iter().enumerate() {
            let next = lines.get(n + 1).map_or(end, |line| line.0);
            data.copy_within(to..next, write);
            write += next - to;
        }
        data[write..end].copy_from_slice(&moved[..moved_len]);
        debug_assert!(lines[0].0 >= start && write + moved_len == end);
    }
}

/// Is this header line one of the framing ones? Names match exactly (any
/// case): a name with white space before its colon is not valid HTTP, and
/// stays where it is.
fn is_framing_line(line: &[u8]) -> bool {
    // The first letter and where the colon would be rule out most lines.
    let name: &[u8] = match line.first().map(u8::to_ascii_lowercase) {
        Some(b'h') => b"host",
        Some(b'c') => b"content-length",
        Some(b't') => b"transfer-encoding",
        _ => return false,
    };
    line.get(name.len()) == Some(&b':') && line[..name.len()].eq_ignore_ascii_case(name)
}

/// The index of the first `\n` in `data`, eight bytes at a time (a head's
/// lines are tens of bytes long).
fn find_newline(data: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let mut words = data.chunks_exact(8);
    let mut base = 0;
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        // A zero byte of `x` is a newline of `word`; the lowest flagged
        // byte is always a true one (a borrow only flags bytes above it).
        let x = u64::from_le_bytes(bytes) ^ NEWLINES;
        let flagged = x.wrapping_sub(ONES) & !x & HIGHS;
        if flagged != 0 {
            return Some(base + (flagged.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|at| base + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_are_found_at_every_offset() {
        for len in 0..40 {
            for at in 0..=len {
                let mut data = vec![b'a'; len];
                if at < len {
                    data[at] = b'\n';
                    // Bytes that a borrow could flag, after the newline.
                    for b in data.iter_mut().skip(at + 1) {
                        *b = 0x0b;
                    }
                }
                let want = (at < len).then_some(at);
                assert_eq!(find_newline(&data), want, "len {len} at {at}");
            }
        }
    }

    /// The server's own head: `Host` first, `Content-Length` third.
    #[test]
    fn framing_lines_go_last_and_the_others_keep_their_order() {
        let head = "POST /call HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\n\
                    Content-Length: 3\r\nFn-Call-Id: 01A\r\nX-A: 1\r\nx-a: 2\r\n\
                    Accept-Encoding: gzip\r\n\r\nabc";
        let mut data = head.as_bytes().to_vec();
        let end = whole_small_head(&mut data);
        assert_eq!(end, Some(head.len() - 3));
        assert_eq!(
            String::from_utf8(data).unwrap(),
            "POST /call HTTP/1.1\r\nUser-Agent: Go-http-client/1.1\r\nFn-Call-Id: 01A\r\n\
             X-A: 1\r\nx-a: 2\r\nAccept-Encoding: gzip\r\nHost: localhost\r\n\
             Content-Length: 3\r\n\r\nabc"
        );
    }

    #[test]
    fn heads_with_nothing_to_move_or_a_folded_line_are_left_alone() {
        for head in [
            "POST /call HTTP/1.1\r\nX: 1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
            "POST /call HTTP/1.1\nX: 1\n\n",
            "POST /call HTTP/1.1\r\nHost: h\r\n x: folded\r\nX: 1\r\n\r\n",
            // Not a framing name: white space before the colon.
            "POST /call HTTP/1.1\r\nHost : h\r\nX: 1\r\n\r\n",
            // Not a request line: bytes shaped like a head (a body chunk
            // met out of step) reach hyper as they came.
            "abc\r\nHost: a\r\nX: b\r\n\r\n",
            "POST /call HTTP/2\r\nHost: a\r\nX: b\r\n\r\n",
        ] {
            let mut data = head.as_bytes().to_vec();
            assert_eq!(whole_small_head(&mut data), Some(head.len()), "{head:?}");
            assert_eq!(data, head.as_bytes(), "{head:?}");
        }
    }

    #[test]
    fn framing_lines_longer_than_the_stack_room_stay() {
        let long = "h".repeat(MOVABLE_FRAMING);
        let head = format!("POST /call HTTP/1.1\r\nHost: {long}\r\nX: 1\r\n\r\n");
        let mut data = head.as_bytes().to_vec();
        assert_eq!(whole_small_head(&mut data), Some(head.len()));
        assert_eq!(data, head.as_bytes());
        let head = "POST /call HTTP/1.1\nTRANSFER-encoding: chunked\nx: 1\n\n";
        let mut data = head.as_bytes().to_vec();
        assert_eq!(whole_small_head(&mut data), Some(head.len()));
        assert_eq!(
            data,
            b"POST /call HTTP/1.1\nx: 1\nTRANSFER-encoding: chunked\n\n"
        );
    }
}
