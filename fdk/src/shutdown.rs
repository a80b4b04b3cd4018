//! What happens after a stop signal: the grace in-flight calls get, and the
//! user's shutdown hook, which runs once within the same grace (HS-LIFE-6,
//! HS-LIFE-11).
//!
//! The hook is for local runs and other platforms: the Fn server itself
//! removes containers with SIGKILL, so on Fn it never runs. A hook that
//! panics or overruns the grace is logged and dropped; the process still
//! exits 0 with its socket files removed.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::handler::BoxFuture;
use crate::logs;
use crate::panic::CatchUnwind;

/// How long in-flight calls and the hook may run on after a stop signal,
/// unless [`Function::shutdown_grace`](crate::Function::shutdown_grace)
/// says otherwise (HS-LIFE-6).
pub(crate) const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// The user's shutdown hook, boxed.
type Hook = Box<dyn FnOnce() -> BoxFuture<()> + Send>;

/// The grace and the hook, as the `Function` builder set them.
pub(crate) struct Shutdown {
    grace: Duration,
    hook: Option<Hook>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            grace: DEFAULT_GRACE,
            hook: None,
        }
    }
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutdown")
            .field("grace", &self.grace)
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

impl Shutdown {
    pub(crate) fn set_grace(&mut self, grace: Duration) {
        self.grace = grace;
    }

    pub(crate) fn set_hook<F, Fut>(&mut self, hook: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hook = Some(Box::new(move || Box::pin(hook())));
    }

    pub(crate) fn grace(&self) -> Duration {
        self.grace
    }

    /// When the grace that starts now ends.
    pub(crate) fn deadline_from_now(&self) -> Instant {
        Instant::now()
            .checked_add(self.grace)
            // A grace too long to add: far enough.
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365))
    }

    /// Runs the hook, if any, until it finishes or `deadline` passes; a
    /// panic or an overrun is one log line, never the end of the process.
    pub(crate) async fn run_hook(self, deadline: Instant) {
        let Some(hook) = self.hook else { return };
        // Building the future runs user code too: inside the boundary.
        let hook = CatchUnwind::new(Box::pin(async move { hook().await }));
        match tokio::time::timeout_at(deadline, hook).await {
            Ok(Ok(())) => {}
            Ok(Err(message)) => {
                logs::error(format_args!("the shutdown hook panicked: {message}"));
            }
            Err(_) => logs::warn(format_args!(
                "the shutdown hook did not finish within the shutdown grace of {}; it was stopped",
                Seconds(self.grace)
            )),
        }
    }
}

/// A duration in seconds, as the log lines say it (`5s`, `0.25s`).
pub(crate) struct Seconds(pub(crate) Duration);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.subsec_nanos() == 0 {
            write!(f, "{}s", self.0.as_secs())
        } else {
            write!(f, "{}s", self.0.as_secs_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_hook_runs_once_and_is_stopped_at_the_deadline() {
        let done = Arc::new(AtomicBool::new(false));
        let mut shutdown = Shutdown::default();
        shutdown.set_grace(Duration::from_millis(250));
        let flag = Arc::clone(&done);
        shutdown.set_hook(move || async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            flag.store(true, Ordering::SeqCst);
        });
        let start = Instant::now();
        let deadline = shutdown.deadline_from_now();
        shutdown.run_hook(deadline).await;
        assert_eq!(start.elapsed(), Duration::from_millis(250));
        assert!(!done.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_panicking_hook_is_caught() {
        let mut shutdown = Shutdown::default();
        shutdown.set_hook(|| async {
            tokio::task::yield_now().await;
            panic!("the hook gave up");
        });
        shutdown.run_hook(Instant::now() + DEFAULT_GRACE).await;
    }

    #[test]
    fn seconds_are_said_plainly() {
        assert_eq!(Seconds(Duration::from_secs(5)).to_string(), "5s");
        assert_eq!(Seconds(Duration::from_millis(250)).to_string(), "0.25s");
    }
}
