//! [`Body`]: the bytes of a request or a response, whole or streamed.
//!
//! A request body arrives from the server as it is sent (usually chunked);
//! a response body can be a buffer or a stream the handler writes to while
//! the server reads.
//!
//! ```
//! use fdk::Body;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // A streaming response: the handler keeps the sender, the server reads.
//! let (mut tx, body) = Body::channel();
//! tokio::spawn(async move {
//!     for part in ["chunk1-", "chunk2"] {
//!         if tx.send(part).await.is_err() {
//!             break; // the server hung up
//!         }
//!     }
//! });
//! assert_eq!(body.collect().await.unwrap(), "chunk1-chunk2");
//! # }
//! ```

use std::fmt;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::sync::{mpsc, oneshot};

use crate::error::BoxError;

/// A request or response body.
///
/// It implements [`http_body::Body`], so it can be handed to anything in the
/// `http` ecosystem (a `tower` service, say).
pub struct Body {
    kind: Kind,
    /// The most bytes [`collect`](Body::collect) buffers; set on socket
    /// request bodies (`FDK_MAX_BODY`, HS-REQ-9).
    limit: Option<usize>,
}

enum Kind {
    Full(Option<Bytes>),
    Incoming(IncomingBody),
    Channel(mpsc::Receiver<Bytes>),
    Boxed(Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send + 'static>>),
}

/// The request body as hyper delivers it. If the handler drops it before the
/// end, it is handed back so the server loop can read the rest before it
/// answers: the server expects the whole request to be read before the
/// response head (HS-REQ-5).
struct IncomingBody {
    /// `None` only after `drop` handed it back.
    body: Option<hyper::body::Incoming>,
    give_back: Option<oneshot::Sender<hyper::body::Incoming>>,
    finished: bool,
}

impl Drop for IncomingBody {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let (Some(tx), Some(body)) = (self.give_back.take(), self.body.take()) {
            // The loop may already have moved on; then there is nothing to drain.
            let _ = tx.send(body);
        }
    }
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Self {
            limit: None,
            kind: Kind::Full(None),
        }
    }

    /// A streaming body and the sender that feeds it. The body ends when the
    /// sender is dropped.
    pub fn channel() -> (BodySender, Body) {
        // A small buffer: enough to keep the writer busy, little memory held.
        let (tx, rx) = mpsc::channel(4);
        (
            BodySender { tx },
            Body {
                limit: None,
                kind: Kind::Channel(rx),
            },
        )
    }

    /// Wraps any [`http_body::Body`] of `Bytes`.
    pub fn wrap<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        use http_body_util::BodyExt;
        // A `Body` already (a layer's or a service's response, often) keeps
        // its kind: a whole body stays whole, with its length known.
        let mut slot = Some(body);
        if let Some(own) = (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<Body>>()
            && let Some(own) = own.take()
        {
            return own.unlimited();
        }
        match slot {
            Some(body) => Self {
                limit: None,
                kind: Kind::Boxed(Box::pin(body.map_err(Into::into))),
            },
            None => Self::empty(),
        }
    }

    /// The next chunk of data, `None` at the end. Trailers are skipped.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, BodyError>> {
        loop {
            use http_body::Body as _;
            let frame = std::future::poll_fn(|cx| Pin::new(&mut *self).poll_frame(cx)).await?;
            match frame {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        return Some(Ok(data));
                    }
                }
                Err(err) => return Some(Err(err)),
            }
        }
    }

    /// Reads the whole body into one buffer.
    ///
    /// A request body longer than the function's body limit (`FDK_MAX_BODY`,
    /// by default what fits `FN_MEMORY`) is not buffered: reading stops at
    /// the limit and the error says so ([`BodyError::is_too_large`]).
    /// Reading the body chunk by chunk ([`chunk`](Self::chunk)) has no limit.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let body = fdk::Body::from("hello");
    /// assert_eq!(body.collect().await.unwrap(), "hello");
    /// # }
    /// ```
    pub async fn collect(mut self) -> Result<Bytes, BodyError> {
        let limit = self.limit.unwrap_or(usize::MAX);
        if let Kind::Full(full) = &mut self.kind {
            let full = full.take().unwrap_or_default();
            if full.len() > limit {
                return Err(BodyError::too_large(limit));
            }
            return Ok(full);
        }
        // A declared length past the limit fails before a byte is read.
        use http_body::Body as _;
        let declared = self.size_hint().lower();
        if declared > limit as u64 {
            return Err(BodyError::too_large(limit));
        }
        // With the length known, one allocation of the right size instead
        // of doubling (and copying) up to it.
        let expected = usize::try_from(declared).unwrap_or(0);
        let mut first: Option<Bytes> = None;
        let mut rest: Vec<u8> = Vec::new();
        let mut total = 0usize;
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk?;
            total = total.saturating_add(chunk.len());
            if total > limit {
                return Err(BodyError::too_large(limit));
            }
            match &first {
                None => first = Some(chunk),
                Some(head) => {
                    if rest.is_empty() {
                        rest.reserve(expected.max(head.len() + chunk.len()));
                        rest.extend_from_slice(head);
                    }
                    rest.extend_from_slice(&chunk);
                }
            }
        }
        Ok(if rest.is_empty() {
            first.unwrap_or_default()
        } else {
            Bytes::from(rest)
        })
    }

    /// Lifts the cap of [`limited`](Self::limited): the limit is for what a
    /// handler buffers of its request, and a request body handed back as a
    /// response (an echo) is read out whole.
    pub(crate) fn unlimited(mut self) -> Self {
        self.limit = None;
        self
    }

    /// Caps what [`collect`](Self::collect) buffers at `limit` bytes.
    pub(crate) fn limited(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// A request body nobody will hand back again (for draining).
    pub(crate) fn drain_only(body: hyper::body::Incoming) -> Self {
        Self {
            limit: None,
            kind: Kind::Incoming(IncomingBody {
                body: Some(body),
                give_back: None,
                finished: false,
            }),
        }
    }

    pub(crate) fn incoming(
        body: hyper::body::Incoming,
        give_back: Option<oneshot::Sender<hyper::body::Incoming>>,
    ) -> Self {
        use http_body::Body as _;
        let finished = body.is_end_stream();
        Self {
            limit: None,
            kind: Kind::Incoming(IncomingBody {
                body: Some(body),
                give_back,
                finished,
            }),
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Full(Some(b)) => return f.debug_tuple("Body").field(b).finish(),
            Kind::Full(None) => "empty",
            Kind::Incoming(_) => "incoming",
            Kind::Channel(_) => "channel",
            Kind::Boxed(_) => "boxed",
        };
        f.debug_tuple("Body").field(&kind).finish()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self {
            limit: None,
            kind: Kind::Full((!bytes.is_empty()).then_some(bytes)),
        }
    }
}
impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::from(bytes).into()
    }
}
impl From<String> for Body {
    fn from(text: String) -> Self {
        Bytes::from(text).into()
    }
}
impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Bytes::from_static(text.as_bytes()).into()
    }
}
impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Self {
        Bytes::from_static(bytes).into()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match &mut self.kind {
            Kind::Full(full) => Poll::Ready(full.take().map(|b| Ok(Frame::data(b)))),
            Kind::Incoming(inc) => {
                let Some(body) = inc.body.as_mut() else {
                    return Poll::Ready(None);
                };
                let polled = ready!(Pin::new(body).poll_frame(cx));
                if polled.is_none() {
                    inc.finished = true;
                }
                Poll::Ready(polled.map(|r| r.map_err(|e| BodyError::new(e.into()))))
            }
            Kind::Channel(rx) => Poll::Ready(ready!(rx.poll_recv(cx)).map(|b| Ok(Frame::data(b)))),
            Kind::Boxed(body) => {
                Poll::Ready(ready!(body.as_mut().poll_frame(cx)).map(|r| r.map_err(BodyError::new)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(full) => full.is_none(),
            Kind::Incoming(inc) => {
                inc.finished || inc.body.as_ref().is_none_or(|b| b.is_end_stream())
            }
            Kind::Channel(_) => false,
            Kind::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(full) => SizeHint::with_exact(full.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Incoming(inc) => inc
                .body
                .as_ref()
                .map_or_else(SizeHint::default, |b| b.size_hint()),
            Kind::Channel(_) => SizeHint::default(),
            Kind::Boxed(body) => body.size_hint(),
        }
    }
}

/// The writing end of [`Body::channel`].
#[derive(Debug)]
pub struct BodySender {
    tx: mpsc::Sender<Bytes>,
}

impl BodySender {
    /// Sends one chunk; waits while the reader is behind. Fails when the
    /// reader is gone (the server closed the connection).
    pub async fn send(&mut self, data: impl Into<Bytes>) -> Result<(), BodyError> {
        let data = data.into();
        if data.is_empty() {
            return Ok(());
        }
        self.tx
            .send(data)
            .await
            .map_err(|_| BodyError::new("the response body's reader has gone away".into()))
    }
}

/// Reading or writing a body failed: the peer hung up mid-body, or a
/// wrapped body reported an error.
pub struct BodyError {
    inner: BoxError,
}

impl BodyError {
    pub(crate) fn new(inner: BoxError) -> Self {
        Self { inner }
    }

    fn too_large(limit: usize) -> Self {
        Self::new(Box::new(TooLarge { limit }))
    }

    /// The body is longer than the function's body limit (`FDK_MAX_BODY`),
    /// so [`Body::collect`] stopped reading it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use fdk::testing::TestCall;
    ///
    /// async fn echo(body: fdk::Bytes) -> fdk::Bytes { body }
    /// let server = fdk::testing::TestServer::start_with_config(
    ///     fdk::Function::new(echo),
    ///     [("FDK_MAX_BODY", "4")],
    /// ).await.unwrap();
    /// let res = server.call(TestCall::gateway("POST", "/t/app/echo").body("12345")).await.unwrap();
    /// assert_eq!((res.status(), res.user_status()), (200, 413));
    /// # }
    /// ```
    pub fn is_too_large(&self) -> bool {
        self.inner.is::<TooLarge>()
    }

    /// The limit a too-large body went past.
    pub(crate) fn limit(&self) -> Option<usize> {
        self.inner.downcast_ref::<TooLarge>().map(|t| t.limit)
    }
}

/// Why [`Body::collect`] stopped: the body went past the limit.
#[derive(Debug)]
struct TooLarge {
    limit: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the body is larger than the function's limit of {} bytes (FDK_MAX_BODY)",
            self.limit
        )
    }
}

impl std::error::Error for TooLarge {}

impl fmt::Debug for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BodyError").field(&self.inner).finish()
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("failed to read the body")
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.inner.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_bodies_know_their_length_and_collect_without_copying() {
        use http_body::Body as _;
        let body = Body::from("hello");
        assert_eq!(body.size_hint().exact(), Some(5));
        assert_eq!(Body::empty().size_hint().exact(), Some(0));
        assert!(Body::from("").is_end_stream());
        assert_eq!(body.collect().await.unwrap(), "hello");
    }

    #[tokio::test]
    async fn wrapped_body_errors_surface_as_body_errors() {
        let err = Body::wrap(Failing).collect().await.unwrap_err();
        assert_eq!(crate::error::chain(&err), "failed to read the body: boom");
    }

    struct Failing;
    impl http_body::Body for Failing {
        type Data = Bytes;
        type Error = BoxError;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut TaskContext<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            Poll::Ready(Some(Err("boom".into())))
        }
    }
}
