//! The attach stream of a container without a TTY, taken apart: the daemon
//! multiplexes stdout and stderr into frames, each an 8-byte header (the
//! stream: 1 stdout, 2 stderr; three zero bytes; the payload's length, u32
//! big-endian) and the payload. The function's log is a check input (a
//! case shows it, a flood of it is a fixture), so it is read as it comes,
//! piece by piece: a frame may be split across reads anywhere, and a
//! function that logs gigabytes never has more than one read buffered.

/// Which of the container's outputs a piece came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Frame type 1.
    Stdout,
    /// Frame type 2.
    Stderr,
    /// Frame type 0 (stdin echoed; never for the server's containers, which
    /// have no stdin), or a type this reader does not know.
    Other(u8),
}

/// The frame reader: feed it whatever bytes arrived.
#[derive(Debug, Default)]
pub struct Demux {
    header: [u8; 8],
    /// How much of the header has arrived (8: reading a payload).
    have: usize,
    /// What is left of the current payload.
    remaining: u32,
}

impl Demux {
    /// A reader at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `bytes` (any split of the stream) and hands every payload
    /// piece in them to `out`, with its output, in order.
    pub fn feed(&mut self, mut bytes: &[u8], mut out: impl FnMut(Output, &[u8])) {
        while !bytes.is_empty() {
            if self.have < 8 {
                let take = (8 - self.have).min(bytes.len());
                self.header[self.have..self.have + take].copy_from_slice(&bytes[..take]);
                self.have += take;
                bytes = &bytes[take..];
                if self.have == 8 {
                    let [_, _, _, _, a, b, c, d] = self.header;
                    self.remaining = u32::from_be_bytes([a, b, c, d]);
                    if self.remaining == 0 {
                        self.have = 0;
                    }
                }
                continue;
            }
            let take = bytes.len().min(self.remaining as usize);
            out(self.output(), &bytes[..take]);
            bytes = &bytes[take..];
            // `take` fits: it is at most `remaining`.
            self.remaining -= u32::try_from(take).unwrap_or(self.remaining);
            if self.remaining == 0 {
                self.have = 0;
            }
        }
    }

    fn output(&self) -> Output {
        match self.header[0] {
            1 => Output::Stdout,
            2 => Output::Stderr,
            other => Output::Other(other),
        }
    }

    /// Whether the stream ended cleanly (not inside a frame).
    pub fn at_boundary(&self) -> bool {
        self.have == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![kind, 0, 0, 0];
        f.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// Feeds `stream` in pieces of `size` and collects what comes out.
    fn collect(stream: &[u8], size: usize) -> (Vec<(Output, Vec<u8>)>, bool) {
        let mut demux = Demux::new();
        let mut got: Vec<(Output, Vec<u8>)> = Vec::new();
        for piece in stream.chunks(size) {
            demux.feed(piece, |output, bytes| match got.last_mut() {
                Some((last, data)) if *last == output => data.extend_from_slice(bytes),
                _ => got.push((output, bytes.to_vec())),
            });
        }
        (got, demux.at_boundary())
    }

    #[test]
    fn frames_come_apart_however_the_stream_is_split() {
        let big: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let mut stream = frame(1, b"hello\n");
        stream.extend(frame(2, b"an error\n"));
        stream.extend(frame(1, b""));
        stream.extend(frame(2, &big));
        stream.extend(frame(1, b"bye"));
        stream.extend(frame(7, b"?"));
        let want = vec![
            (Output::Stdout, b"hello\n".to_vec()),
            (Output::Stderr, b"an error\n".to_vec()),
            (Output::Stderr, big.clone()),
            (Output::Stdout, b"bye".to_vec()),
            (Output::Other(7), b"?".to_vec()),
        ];
        for size in [1, 3, 7, 8, 9, 4096, stream.len()] {
            let (mut got, clean) = collect(&stream, size);
            // The empty frame leaves nothing; adjacent stderr frames merge.
            let merged: Vec<u8> = [b"an error\n".as_slice(), &big].concat();
            assert_eq!(got.remove(1), (Output::Stderr, merged), "size {size}");
            let mut expected = want.clone();
            expected.remove(1);
            expected.remove(1);
            assert_eq!(got, expected, "size {size}");
            assert!(clean, "size {size}");
        }
    }

    #[test]
    fn a_stream_cut_inside_a_frame_is_not_at_a_boundary() {
        let stream = frame(1, b"cut here");
        let (got, clean) = collect(&stream[..11], 4);
        assert_eq!(got, vec![(Output::Stdout, b"cut".to_vec())]);
        assert!(!clean);
        let (_, clean) = collect(&stream[..5], 5);
        assert!(!clean);
    }
}
