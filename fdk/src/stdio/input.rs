//! The request stream of the stdin/stdout formats.
//!
//! A plain thread reads stdin and hands chunks to the runtime over a
//! channel. Not tokio's `stdin()`: its reads run on the blocking pool, and
//! a runtime waits for those on shutdown, so a SIGTERM while the server
//! keeps stdin open would hang the process. This thread is never joined.

use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

/// Bytes read per chunk: enough to take a 6 MiB body in ~100 reads.
const CHUNK: usize = 64 << 10;
/// Chunks read ahead of the calls being served.
const READ_AHEAD: usize = 4;

/// The bytes the server writes to the function, as they arrive.
#[derive(Debug)]
pub(crate) struct Input {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    /// The part of the last chunk not handed out yet ([`AsyncRead`]).
    pending: Bytes,
}

impl Input {
    /// Reads `source` (stdin, or test bytes) on a thread of its own.
    pub(crate) fn spawn(source: impl Read + Send + 'static) -> io::Result<Self> {
        let (tx, chunks) = mpsc::channel(READ_AHEAD);
        std::thread::Builder::new()
            .name("fdk-stdin".into())
            .spawn(move || pump(source, tx))?;
        Ok(Self {
            chunks,
            pending: Bytes::new(),
        })
    }

    /// The next chunk; `None` at the end of the stream.
    pub(crate) async fn chunk(&mut self) -> Option<io::Result<Bytes>> {
        if !self.pending.is_empty() {
            return Some(Ok(std::mem::take(&mut self.pending)));
        }
        self.chunks.recv().await
    }

    /// Everything up to the end of the stream, or `None` as soon as it
    /// goes past `limit` bytes: reading stops there, so no more than
    /// `limit` (and one chunk) is ever held.
    pub(crate) async fn collect_all(&mut self, limit: usize) -> io::Result<Option<Vec<u8>>> {
        let mut all = Vec::new();
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk?;
            if chunk.len() > limit - all.len() {
                return Ok(None);
            }
            all.extend_from_slice(&chunk);
        }
        Ok(Some(all))
    }
}

fn pump(mut source: impl Read, tx: mpsc::Sender<io::Result<Bytes>>) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let item = match source.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => Ok(Bytes::copy_from_slice(&buf[..n])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
        let failed = item.is_err();
        if tx.blocking_send(item).is_err() || failed {
            // Nobody listens any more, or stdin is broken: stop reading.
            return;
        }
    }
}

impl AsyncRead for Input {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pending.is_empty() {
            match self.chunks.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                // End of stream: a read of zero bytes.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(Some(Ok(chunk))) => self.pending = chunk,
            }
        }
        let n = self.pending.len().min(buf.remaining());
        buf.put_slice(&self.pending[..n]);
        self.pending.advance(n);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunks_arrive_in_order_and_end() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut input = Input::spawn(io::Cursor::new(data.clone())).unwrap();
        assert_eq!(input.collect_all(data.len()).await.unwrap(), Some(data));
        assert!(input.chunk().await.is_none());
    }

    #[tokio::test]
    async fn collecting_stops_at_the_limit() {
        let data = vec![7u8; 200_000];
        let mut input = Input::spawn(io::Cursor::new(data)).unwrap();
        assert_eq!(input.collect_all(199_999).await.unwrap(), None);
    }

    #[tokio::test]
    async fn async_reads_see_every_byte() {
        use tokio::io::AsyncReadExt;
        let mut input = Input::spawn(io::Cursor::new(b"hello world".to_vec())).unwrap();
        let mut first = [0u8; 5];
        input.read_exact(&mut first).await.unwrap();
        let mut rest = Vec::new();
        input.read_to_end(&mut rest).await.unwrap();
        assert_eq!((&first[..], &rest[..]), (&b"hello"[..], &b" world"[..]));
    }
}
