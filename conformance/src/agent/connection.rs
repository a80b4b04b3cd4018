//! One keep-alive connection to the function's socket, used the way the
//! server's agent uses it: one request at a time, the next one only after the
//! previous response has been read whole.

use std::io::{self, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use super::response::{Response, ResponseError, read_response};

/// A blocking client connection over the function's unix socket.
#[derive(Debug)]
pub struct Connection {
    stream: BufReader<UnixStream>,
}

impl Connection {
    /// Dials the socket at `path` (following the `lsnr.sock` symlink).
    pub fn connect(path: &Path) -> io::Result<Self> {
        let stream = UnixStream::connect(path)?;
        Ok(Self {
            stream: BufReader::with_capacity(16 * 1024, stream),
        })
    }

    /// Limits how long a read may wait (the server's deadline); `None` waits
    /// for ever.
    pub fn set_read_timeout(&self, limit: Option<std::time::Duration>) -> io::Result<()> {
        self.stream.get_ref().set_read_timeout(limit)
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
    pub fn peer_closed(&mut self) -> bool {
        use std::io::BufRead;
        if !self.stream.buffer().is_empty() {
            return true;
        }
        if self.stream.get_ref().set_nonblocking(true).is_err() {
            return true;
        }
        let acted = match self.stream.fill_buf() {
            // Bytes, or the end of the stream.
            Ok(_) => true,
            Err(e) => e.kind() != io::ErrorKind::WouldBlock,
        };
        acted || self.stream.get_ref().set_nonblocking(false).is_err()
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
