//! The panic boundary: a panic in a handler, in an extractor or while its
//! future is polled becomes a 502 for that call, and the process keeps
//! serving (HS-RESP-5).

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls `inner`, turning a panic into `Err(message)`. The handler's future
/// is already boxed, so it is `Unpin` and needs no second box here.
pub(crate) struct CatchUnwind<F> {
    inner: F,
}

impl<F: Future + Unpin> CatchUnwind<F> {
    pub(crate) fn new(inner: F) -> Self {
        Self { inner }
    }
}

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = Pin::new(&mut self.inner);
        // The future is dropped after a panic, never polled again, so no
        // broken invariant can be observed: asserting unwind safety is sound.
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

/// The text of a panic payload (`panic!("...")` gives `&str` or `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_polling_becomes_its_message() {
        let caught = CatchUnwind::new(Box::pin(async {
            tokio::task::yield_now().await;
            if true {
                panic!("index {} out of range", 7);
            }
        }))
        .await;
        assert_eq!(caught, Err("index 7 out of range".to_owned()));
        assert_eq!(CatchUnwind::new(Box::pin(async { 5 })).await, Ok(5));
    }
}
