//! [`Function`] and [`run`]: serving a handler without the macro.
//!
//! ```no_run
//! use fdk::Context;
//!
//! async fn hello(ctx: Context, name: String) -> String {
//!     format!("Hello {name} from call {}", ctx.call_id())
//! }
//!
//! // Builds a single-threaded runtime, serves until SIGTERM.
//! fn main() -> Result<(), fdk::Error> {
//!     fdk::Function::new(hello).run_blocking()
//! }
//! ```
//!
//! Inside a runtime of your own, `fdk::run(hello).await` does the same.

#[cfg(feature = "stdio")]
use std::fs::File;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::after_call::{self, CallEnd};
use crate::config::{Env, Format};
use crate::dispatch::App;
use crate::error::Error;
use crate::handler::{BoxHandler, Handler};
use crate::serve::{serve, stop_signal};
use crate::shutdown::Shutdown;
use crate::socket::Socket;
#[cfg(feature = "stdio")]
use crate::stdio;

/// A handler ready to serve, with its state and runtime choice.
///
/// # Stopping
///
/// On SIGTERM or SIGINT the function stops accepting connections, lets the
/// calls in flight finish, removes its socket files, runs the hook set with
/// [`Function::on_shutdown`] and returns `Ok` (the process exits 0). The
/// calls and the hook share one grace, 5 s unless
/// [`Function::shutdown_grace`] says otherwise, counted from the signal
/// (HS-LIFE-6, HS-LIFE-11).
///
/// The real Fn server never sends SIGTERM: it removes a container with
/// SIGKILL, so on Fn neither the grace nor the hook comes into play. They
/// matter for local runs (Ctrl-C), tests, and platforms that stop
/// processes with a signal. Work that must happen after every call (a
/// metrics flush) belongs in [`Function::after_call`] instead.
pub struct Function {
    handler: BoxHandler,
    /// Whether the call's `Context` goes in the request's extensions
    /// (`Handler::reads_context`; always with layers).
    reads_context: bool,
    flavor: Flavor,
    shutdown: Shutdown,
    after_call: Option<after_call::Hook>,
}

/// Which tokio runtime [`Function::run_blocking`] builds.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// One thread: the right choice for one call at a time in a sandbox
    /// of 50 tasks.
    CurrentThread,
    /// A bounded number of worker threads.
    #[cfg_attr(not(feature = "multi-thread"), allow(dead_code))]
    MultiThread { workers: usize },
}

/// The most worker threads [`Function::multi_thread`] allows: the sandbox
/// has 50 tasks in all.
pub const MAX_WORKER_THREADS: usize = 16;

impl Function {
    /// A function without state.
    pub fn new<H, T>(handler: H) -> Self
    where
        H: Handler<T, ()>,
    {
        Self {
            reads_context: handler.reads_context(),
            handler: handler.boxed(()),
            flavor: Flavor::CurrentThread,
            shutdown: Shutdown::default(),
            after_call: None,
        }
    }

    /// A function whose handler takes [`State<S>`](crate::State): `state` is
    /// built once (per container) and shared by every call.
    pub fn with_state<H, T, S>(handler: H, state: S) -> Self
    where
        H: Handler<T, Arc<S>>,
        S: Send + Sync + 'static,
    {
        Self {
            reads_context: handler.reads_context(),
            handler: handler.boxed(Arc::new(state)),
            flavor: Flavor::CurrentThread,
            shutdown: Shutdown::default(),
            after_call: None,
        }
    }

    /// Use a multi-thread runtime with `workers` threads (clamped to
    /// 1..=[`MAX_WORKER_THREADS`]) in [`run_blocking`](Self::run_blocking).
    #[cfg(feature = "multi-thread")]
    pub fn multi_thread(mut self, workers: usize) -> Self {
        self.flavor = Flavor::MultiThread {
            workers: workers.clamp(1, MAX_WORKER_THREADS),
        };
        self
    }

    /// Runs `hook` once when the function stops serving, after the calls in
    /// flight have finished and the socket files are removed.
    ///
    /// On the socket that is after SIGTERM or SIGINT. The hook runs within
    /// the [shutdown grace](Self::shutdown_grace), which counts from the
    /// signal: calls that take part of it leave the hook the rest, and a
    /// hook still running when it ends is dropped at its next `await`, with
    /// a warning. A hook that panics is logged as an error. Either way the
    /// process still exits 0 with its socket files removed (HS-LIFE-11).
    /// With a stdin/stdout format the hook runs when serving ends (the
    /// input ended, or a stop signal let the call in flight finish), with
    /// the whole grace from then. Setting a second hook replaces the first.
    ///
    /// The hook runs once per process, on the function's runtime, not
    /// after each call: work that must happen after every call (before the
    /// server freezes the container) belongs in
    /// [`after_call`](Self::after_call).
    ///
    /// The Fn server removes containers with SIGKILL, so on Fn the hook
    /// does not run (see [Stopping](crate::Function#stopping)); it is for
    /// local runs, tests and other platforms.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::time::Duration;
    ///
    /// let calls = Arc::new(AtomicU64::new(0));
    /// let counted = Arc::clone(&calls);
    /// let hello = move || {
    ///     counted.fetch_add(1, Ordering::Relaxed);
    ///     async { "Hello" }
    /// };
    /// fdk::Function::new(hello)
    ///     .shutdown_grace(Duration::from_secs(2))
    ///     .on_shutdown(move || async move {
    ///         eprintln!("served {} calls", calls.load(Ordering::Relaxed));
    ///     })
    ///     .run_blocking()?;
    /// # Ok::<(), fdk::Error>(())
    /// ```
    pub fn on_shutdown<F, Fut>(mut self, hook: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.shutdown.set_hook(hook);
        self
    }

    /// How long, from a stop signal on, the calls in flight and then the
    /// [shutdown hook](Self::on_shutdown) may run before the process exits:
    /// 5 s unless set (HS-LIFE-6). Calls still running at the end are
    /// abandoned, with one log line saying how many. `Duration::ZERO`
    /// abandons them at once and gives the hook a single poll.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// async fn hello() -> &'static str { "Hello" }
    /// let function = fdk::Function::new(hello).shutdown_grace(Duration::from_millis(500));
    /// # let _ = function;
    /// ```
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown.set_grace(grace);
        self
    }

    /// Runs `hook` after each call, before the call's answer is complete:
    /// the place for work that must not wait for the next call, such as
    /// flushing a span exporter or a metrics buffer (HS-LIFE-12).
    ///
    /// The Fn server freezes the container about 50 ms after the answer's
    /// last byte, and a frozen process runs nothing until the next call
    /// (maybe never): an exporter flushing on a background timer, or a
    /// task spawned by the handler, may not get to run. The hook runs
    /// after the handler, while the answer is still open: on the socket,
    /// once the response body has ended but before its last bytes are
    /// handed to the server; with a stdin/stdout format, before the
    /// response is written. The time it takes is added to the call's.
    ///
    /// The hook receives a [`CallEnd`]: the call id, whether the call
    /// failed, and its status. It runs for every call that reached the
    /// handler (not for requests the FDK refuses before, such as a head
    /// over its limits), also for a call that failed, panicked or timed
    /// out. It may run until the call's deadline (the one the FDK enforces,
    /// a little ahead of the server's), or 1 s for a call without one;
    /// a hook still running then is dropped at its next `await`, with a
    /// warning, and the answer goes out. Past the deadline (a call that
    /// timed out) the hook is polled once, so a flush that does not wait
    /// still runs. A hook that panics is logged as an error; the answer
    /// goes out and later calls are served as usual. If the server hangs
    /// up before the answer is complete, the hook runs on a task of its
    /// own. Setting a second hook replaces the first.
    ///
    /// ```no_run
    /// use std::sync::Mutex;
    ///
    /// // Spans or metrics gathered during the call, waiting to be sent.
    /// static PENDING: Mutex<Vec<String>> = Mutex::new(Vec::new());
    ///
    /// async fn hello(ctx: fdk::Context) -> &'static str {
    ///     tracing::info!(call_id = ctx.call_id(), "greeting");
    ///     if let Ok(mut pending) = PENDING.lock() {
    ///         pending.push(format!("span of call {}", ctx.call_id()));
    ///     }
    ///     "Hello"
    /// }
    ///
    /// fdk::Function::new(hello)
    ///     .after_call(|call: fdk::CallEnd| async move {
    ///         tracing::info!(
    ///             call_id = call.call_id(),
    ///             failed = call.is_failure(),
    ///             status = call.status().as_u16(),
    ///             "call finished"
    ///         );
    ///         // Export what the call gathered before the container is
    ///         // frozen. With OpenTelemetry this is the tracer provider's
    ///         // `force_flush()` (and the meter provider's).
    ///         let batch = PENDING.lock().map(|mut p| std::mem::take(&mut *p));
    ///         for span in batch.unwrap_or_default() {
    ///             eprintln!("exported {span}");
    ///         }
    ///     })
    ///     .run_blocking()?;
    /// # Ok::<(), fdk::Error>(())
    /// ```
    pub fn after_call<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(CallEnd) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.after_call = Some(after_call::boxed(hook));
        self
    }

    /// Wraps the handler in a [tower layer](tower_layer::Layer): middleware
    /// that sees every call's request before the handler and its response
    /// after (feature `tower`).
    ///
    /// The innermost service is the handler as a
    /// [`HandlerService`](crate::tower::HandlerService); each call of
    /// `layer` wraps what is there, so the last layer added is the
    /// outermost, as with axum's `Router::layer`. The layers see what a
    /// handler's extractors see: the client's request (HS-REQ-11), with the
    /// call's [`Context`](crate::Context) in its extensions. A layer may
    /// change the request on its way in: the handler's extractors read the
    /// changed request, while [`Context::headers`](crate::Context::headers)
    /// keeps showing the headers as the call arrived. They run inside
    /// the FDK's own boundary: a panic in a layer is the call's panic (502),
    /// the call's deadline covers them (504), and their errors are the
    /// call's failure (502 on the socket, 500 on the stdin/stdout formats),
    /// logged with the error's text. The service is cloned for each call.
    ///
    /// ```
    /// use std::task::{Context as TaskContext, Poll};
    /// use fdk::{Body, http};
    ///
    /// /// Adds `X-Served-By` to every response.
    /// #[derive(Clone)]
    /// struct ServedBy<S>(S);
    ///
    /// impl<S> tower_service::Service<http::Request<Body>> for ServedBy<S>
    /// where
    ///     S: tower_service::Service<http::Request<Body>, Response = http::Response<Body>>,
    ///     S::Future: Send + 'static,
    /// {
    ///     type Response = http::Response<Body>;
    ///     type Error = S::Error;
    ///     type Future = std::pin::Pin<Box<
    ///         dyn std::future::Future<Output = Result<Self::Response, S::Error>> + Send,
    ///     >>;
    ///
    ///     fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
    ///         self.0.poll_ready(cx)
    ///     }
    ///
    ///     fn call(&mut self, req: http::Request<Body>) -> Self::Future {
    ///         let call = self.0.call(req);
    ///         Box::pin(async move {
    ///             let mut res = call.await?;
    ///             res.headers_mut().insert("x-served-by", http::HeaderValue::from_static("rust"));
    ///             Ok(res)
    ///         })
    ///     }
    /// }
    ///
    /// async fn hello() -> &'static str { "Hello" }
    ///
    /// let function = fdk::Function::new(hello)
    ///     .layer(tower_layer::layer_fn(ServedBy));
    /// # let _ = function;
    /// ```
    #[cfg(feature = "tower")]
    pub fn layer<L, B>(mut self, layer: L) -> Self
    where
        L: tower_layer::Layer<crate::tower::HandlerService>,
        L::Service: tower_service::Service<http::Request<crate::Body>, Response = http::Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower_service::Service<http::Request<crate::Body>>>::Future: Send + 'static,
        <L::Service as tower_service::Service<http::Request<crate::Body>>>::Error:
            Into<crate::error::BoxError>,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<crate::error::BoxError>,
    {
        self.handler = crate::tower::layered(self.handler, layer);
        // A layer may read it (HS-LIFE-13 shows it to them).
        self.reads_context = true;
        self
    }

    /// Serves calls until SIGTERM or SIGINT, in the current tokio runtime.
    ///
    /// Reads the environment (`FN_LISTENER`, `FN_FORMAT`, config), publishes
    /// the socket and answers calls; returns `Ok` after a clean stop, with
    /// the socket files removed.
    ///
    /// With `FN_FORMAT` set to one of the stdin/stdout formats (`json`,
    /// `http`, `default`, `cloudevent`) it serves stdin instead, until its
    /// end; it returns an error when the input ends inside a request
    /// ([`Error::is_input`]) or when the one call of a `default` process
    /// fails ([`Error::is_call`]), so that the process exits non-zero.
    pub async fn run(self) -> Result<(), Error> {
        let startup = Startup::from_process()?;
        self.serve(startup).await
    }

    /// Builds the runtime, then does what [`run`](Self::run) does.
    pub fn run_blocking(self) -> Result<(), Error> {
        let startup = Startup::from_process()?;
        let runtime = build_runtime(self.flavor)?;
        runtime.block_on(self.serve(startup))
    }

    pub(crate) async fn serve(self, startup: Startup) -> Result<(), Error> {
        let signal = stop_signal()?;
        let (app, shutdown) = self.into_app(startup.env);
        let app = Arc::new(app);
        match startup.transport {
            Transport::Socket(listener) => {
                let socket = Socket::bind(&listener)?;
                serve(socket, app, signal, shutdown).await;
                Ok(())
            }
            #[cfg(feature = "stdio")]
            Transport::Stdio { format, out } => {
                let input = stdio::Input::spawn(std::io::stdin())
                    .map_err(|e| Error::runtime("failed to start reading stdin", e))?;
                let served = stdio::serve(format, app, input, Box::new(out), signal).await;
                let deadline = shutdown.deadline_from_now();
                shutdown.run_hook(deadline).await;
                served
            }
        }
    }

    /// What every call needs, in `env`, and what happens at a stop, apart.
    pub(crate) fn into_app(self, env: Arc<Env>) -> (App, Shutdown) {
        let mut app = App::new(self.handler, env);
        app.after_call = self.after_call;
        app.reads_context = self.reads_context;
        (app, self.shutdown)
    }
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("flavor", &self.flavor)
            .field("shutdown", &self.shutdown)
            .field("after_call", &self.after_call.is_some())
            .finish_non_exhaustive()
    }
}

/// Serves `handler` until SIGTERM or SIGINT; `Function::new(handler).run()`.
///
/// ```no_run
/// async fn hello() -> &'static str { "Hello" }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> Result<(), fdk::Error> {
///     fdk::run(hello).await
/// }
/// ```
pub async fn run<H, T>(handler: H) -> Result<(), Error>
where
    H: Handler<T, ()>,
{
    Function::new(handler).run().await
}

/// The environment, validated before anything else happens.
#[derive(Debug)]
pub(crate) struct Startup {
    pub(crate) env: Arc<Env>,
    pub(crate) transport: Transport,
}

/// Where calls arrive.
#[derive(Debug)]
pub(crate) enum Transport {
    /// The http-stream socket, at this path.
    Socket(PathBuf),
    /// A stdin/stdout format; `out` is the protocol's copy of stdout.
    #[cfg(feature = "stdio")]
    Stdio { format: Format, out: File },
}

impl Startup {
    /// Reads the process environment. For a stdin/stdout format this also
    /// takes stdout for the protocol (fd 1 then points at stderr), before
    /// any user code (an init function) can print.
    pub(crate) fn from_process() -> Result<Self, Error> {
        Self::from_env(Env::from_process())
    }

    fn from_env(env: Env) -> Result<Self, Error> {
        // Checked here so that a bad value stops the process before it
        // publishes a socket or reads stdin; `App` reads it again.
        env.max_body()?;
        let transport = match env.format()? {
            Format::HttpStream => Transport::Socket(env.listener()?),
            #[cfg(feature = "stdio")]
            format => {
                let out = stdio::claim_stdout()
                    .map_err(|e| Error::runtime("failed to take stdout for the protocol", e))?;
                Transport::Stdio { format, out }
            }
            #[cfg(not(feature = "stdio"))]
            format => {
                return Err(Error::format(format!(
                    "FN_FORMAT={} is a stdin/stdout format of Fn servers up to 0.3.602, and this \
                     function was built without them (the `stdio` feature of fn-fdk); rebuild \
                     with it, or run it on a server that speaks http-stream",
                    format.name()
                )));
            }
        };
        Ok(Self {
            env: Arc::new(env),
            transport,
        })
    }
}

pub(crate) fn build_runtime(flavor: Flavor) -> Result<tokio::runtime::Runtime, Error> {
    let mut builder = match flavor {
        Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        #[cfg(feature = "multi-thread")]
        Flavor::MultiThread { workers } => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(workers);
            b
        }
        #[cfg(not(feature = "multi-thread"))]
        Flavor::MultiThread { .. } => tokio::runtime::Builder::new_current_thread(),
    };
    // The blocking pool is only used by user code (`spawn_blocking`); keep
    // it inside the sandbox's 50 tasks.
    builder
        .enable_all()
        .max_blocking_threads(8)
        .build()
        .map_err(|e| Error::runtime("failed to build the tokio runtime", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_runtime_runs_on_the_calling_thread() {
        let rt = build_runtime(Flavor::CurrentThread).unwrap();
        let here = std::thread::current().id();
        assert_eq!(rt.block_on(async { std::thread::current().id() }), here);
    }

    /// Without the `stdio` feature a stdin/stdout format stops the
    /// function at start-up, saying why (CI runs this with the feature off).
    #[cfg(not(feature = "stdio"))]
    #[test]
    fn without_the_stdio_feature_a_stdio_format_is_refused_at_start_up() {
        for format in ["json", "http", "default", "cloudevent"] {
            let env = Env::from_vars([("FN_FORMAT".to_owned(), format.to_owned())]);
            let err = Startup::from_env(env).unwrap_err().to_string();
            assert!(err.contains(&format!("FN_FORMAT={format}")), "{err}");
            assert!(err.contains("`stdio` feature"), "{err}");
        }
        let env = Env::from_vars([
            ("FN_FORMAT".to_owned(), "http-stream".to_owned()),
            ("FN_LISTENER".to_owned(), "unix:/tmp/x/lsnr.sock".to_owned()),
        ]);
        assert!(Startup::from_env(env).is_ok());
    }

    #[cfg(feature = "multi-thread")]
    #[test]
    fn multi_thread_worker_counts_are_bounded() {
        async fn h() {}
        let f = Function::new(h).multi_thread(1000);
        assert_eq!(
            f.flavor,
            Flavor::MultiThread {
                workers: MAX_WORKER_THREADS
            }
        );
        let rt = build_runtime(f.flavor).unwrap();
        assert_eq!(rt.metrics().num_workers(), MAX_WORKER_THREADS);
        let f = Function::new(h).multi_thread(0);
        assert_eq!(f.flavor, Flavor::MultiThread { workers: 1 });
    }
}
