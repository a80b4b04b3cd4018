//! One keep-alive connection to the function's socket, used the way the
//! server's agent uses it: one request at a time, the next one only after the
//! previous response has been read whole.
//!
//! Every read and write can be bounded by a deadline for the whole call
//! ([`Connection::set_deadline`]), not only per `read` (a function that
//! trickles a byte at a time, or declares more than it sends, must not hold
//! the harness past the call's limit); [`Connection::connect_within`] also
//! bounds the dial (a full backlog blocks `connect` on a unix socket).

use std::io::{self, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::http1::{Response, ResponseError, read_response};

/// The socket, with the call's deadline applied to each read and write.
#[derive(Debug)]
struct Timed {
    stream: UnixStream,
    /// The per-read limit set by [`Connection::set_read_timeout`].
    per_read: Option<Duration>,
    /// The whole call's limit.
    deadline: Option<Instant>,
    /// The timeout last given to the socket, to avoid a syscall per read.
    applied_read: Option<Option<Duration>>,
    applied_write: Option<Option<Duration>>,
}

/// How long the next operation may block: the per-read limit, cut to what
/// is left of the deadline (at least 1 ms: 0 would mean "for ever").
fn limit(per_op: Option<Duration>, deadline: Option<Instant>) -> io::Result<Option<Duration>> {
    let Some(deadline) = deadline else {
        return Ok(per_op);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the call's deadline passed",
        ));
    }
    let left = left.max(Duration::from_millis(1));
    Ok(Some(per_op.map_or(left, |p| p.min(left))))
}

impl Timed {
    fn prepare_read(&mut self) -> io::Result<()> {
        let timeout = limit(self.per_read, self.deadline)?;
        // Re-applied while a deadline runs: what is left of it shrinks.
        if self.deadline.is_some() || self.applied_read != Some(timeout) {
            self.stream.set_read_timeout(timeout)?;
            self.applied_read = Some(timeout);
        }
        Ok(())
    }

    fn prepare_write(&mut self) -> io::Result<()> {
        let timeout = limit(None, self.deadline)?;
        if self.deadline.is_some() || self.applied_write != Some(timeout) {
            self.stream.set_write_timeout(timeout)?;
            self.applied_write = Some(timeout);
        }
        Ok(())
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.prepare_read()?;
        self.stream.read(buf)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.prepare_write()?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// A blocking client connection over the function's unix socket.
#[derive(Debug)]
pub struct Connection {
    stream: BufReader<Timed>,
}

impl Connection {
    /// Dials the socket at `path` (following the `lsnr.sock` symlink).
    pub fn connect(path: &Path) -> io::Result<Self> {
        Ok(Self::from_stream(UnixStream::connect(path)?))
    }

    /// Dials the socket at `path`, giving up after `limit` (a listener
    /// whose backlog is full makes `connect` wait).
    pub(crate) fn connect_within(path: &Path, limit: Duration) -> io::Result<Self> {
        use socket2::{Domain, SockAddr, Socket, Type};
        let socket = Socket::new(Domain::UNIX, Type::STREAM.cloexec(), None)?;
        // A unix connect waits for room in the backlog for SO_SNDTIMEO.
        socket.set_write_timeout(Some(limit.max(Duration::from_millis(1))))?;
        socket.connect(&SockAddr::unix(path)?)?;
        socket.set_write_timeout(None)?;
        Ok(Self::from_stream(UnixStream::from(OwnedFd::from(socket))))
    }

    fn from_stream(stream: UnixStream) -> Self {
        Self {
            stream: BufReader::with_capacity(
                16 * 1024,
                Timed {
                    stream,
                    per_read: None,
                    deadline: None,
                    applied_read: None,
                    applied_write: None,
                },
            ),
        }
    }

    /// Limits how long one read may wait; `None` waits for ever. Clears any
    /// deadline set with `set_deadline`.
    pub fn set_read_timeout(&mut self, limit: Option<Duration>) -> io::Result<()> {
        let timed = self.stream.get_mut();
        timed.stream.set_read_timeout(limit)?;
        timed.per_read = limit;
        timed.applied_read = Some(limit);
        timed.deadline = None;
        Ok(())
    }

    /// Every read and write from now on must be done by `deadline` (`None`:
    /// no deadline, only the per-read limit); past it they fail with
    /// `TimedOut`.
    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.stream.get_mut().deadline = deadline;
    }

    /// Reads one response to bytes sent with [`send_raw`](Self::send_raw).
    pub fn read(&mut self) -> Result<Response, ResponseError> {
        read_response(&mut self.stream)
    }

    /// Whether the peer has sent anything, or closed the connection, within
    /// the read timeout; nothing is consumed.
    pub fn has_data(&mut self) -> bool {
        use std::io::BufRead;
        match self.stream.fill_buf() {
            // Bytes, or the end of the stream: either way, the peer acted.
            Ok(_) => true,
            Err(e) => !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
        }
    }

    /// Whether the peer has closed the connection (or sent bytes no request
    /// asked for), checked without waiting. The server's transport watches
    /// its idle connections the same way and never reuses such a one.
    pub(crate) fn peer_closed(&mut self) -> bool {
        use std::io::BufRead;
        if !self.stream.buffer().is_empty() {
            return true;
        }
        let socket = &self.stream.get_ref().stream;
        if socket.set_nonblocking(true).is_err() {
            return true;
        }
        // No deadline for a look that does not wait.
        let deadline = self.stream.get_mut().deadline.take();
        let acted = match self.stream.fill_buf() {
            // Bytes, or the end of the stream.
            Ok(_) => true,
            Err(e) => e.kind() != io::ErrorKind::WouldBlock,
        };
        self.stream.get_mut().deadline = deadline;
        acted || self.stream.get_ref().stream.set_nonblocking(false).is_err()
    }

    /// Writes raw bytes (half a request, say) without reading.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.get_mut().write_all(bytes)
    }

    /// Sends one request (head and body, already framed) and reads its response.
    ///
    /// Bytes the function sent before this request, which no request asked
    /// for, are reported as a malformed response.
    pub fn call(&mut self, request: &[u8]) -> Result<Response, ResponseError> {
        if !self.stream.buffer().is_empty() {
            return Err(ResponseError::Malformed(format!(
                "{} unsolicited bytes before the request",
                self.stream.buffer().len()
            )));
        }
        self.stream.get_mut().write_all(request)?;
        read_response(&mut self.stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn a_trickling_peer_cannot_outlast_the_deadline() {
        let dir = crate::WorkDir::create().unwrap();
        let path = dir.path().join("s.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (mut peer, _) = listener.accept().unwrap();
            let mut buf = [0u8; 64];
            let _ = peer.read(&mut buf);
            // A head that promises 10 bytes, then one byte every 100 ms.
            let _ = peer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
            for _ in 0..30 {
                std::thread::sleep(Duration::from_millis(100));
                if peer.write_all(b"x").is_err() {
                    return;
                }
            }
        });
        let mut conn = Connection::connect_within(&path, Duration::from_secs(5)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        conn.set_deadline(Some(Instant::now() + Duration::from_millis(500)));
        let started = Instant::now();
        let err = conn.call(b"POST /call HTTP/1.1\r\n\r\n").unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2), "{err:?}");
        // The head came: the body's stall is the body's error.
        assert!(
            matches!(&err, ResponseError::Body { status: 200, .. }) && err.timed_out(),
            "{err:?}"
        );
        drop(conn);
        server.join().unwrap();
    }
}
