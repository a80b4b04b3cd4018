//! Support for the code `#[fdk::handler]` generates. Not public API: no
//! semver promise covers anything here.

use std::future::Future;
use std::marker::PhantomData;
use std::process::ExitCode;
use std::sync::Arc;

use crate::error::{BoxError, Error, FunctionError, chain};
use crate::extract::Request;
use crate::extract::{FromRequest, FromRequestParts};
use crate::function::{Function, Startup, build_runtime};
use crate::handler::Handler;
pub use crate::handler::{BoxFuture, BoxHandler};
use crate::response::IntoResponse;
use crate::response::Response;

pub use crate::function::Flavor;

/// The single-thread runtime.
pub const fn current_thread() -> Flavor {
    Flavor::CurrentThread
}

/// A multi-thread runtime with `workers` threads; needs the `multi-thread`
/// feature, which the bound turns into a readable compile error.
pub fn multi_thread<F: MultiThreadFeature>(workers: usize) -> Flavor {
    Flavor::MultiThread {
        workers: workers.clamp(1, crate::function::MAX_WORKER_THREADS),
    }
}

/// Implemented only when the `multi-thread` feature is on.
#[diagnostic::on_unimplemented(
    message = "`flavor = \"multi_thread\"` needs the `multi-thread` feature of `fn-fdk`",
    label = "enable it: fn-fdk = {{ version = \"...\", features = [\"multi-thread\"] }}"
)]
pub trait MultiThreadFeature {}
#[cfg(feature = "multi-thread")]
impl MultiThreadFeature for () {}

/// The `main` of a function without state.
pub fn main<H, T>(flavor: Flavor, handler: H) -> ExitCode
where
    H: Handler<T, ()>,
{
    finish(Startup::from_process().and_then(|startup| {
        let runtime = build_runtime(flavor)?;
        runtime.block_on(Function::new(handler).serve(startup))
    }))
}

/// The `main` of a function whose state an init function builds. The init
/// runs after the environment is validated and before the socket appears,
/// so a failed init never publishes a socket.
pub fn main_with_init<I, M, H, T>(flavor: Flavor, init: I, handler: H) -> ExitCode
where
    I: Init<M>,
    H: Handler<T, Arc<I::State>>,
{
    finish(Startup::from_process().and_then(|startup| {
        let runtime = build_runtime(flavor)?;
        runtime.block_on(async move {
            let state = init.init().await.map_err(Error::init)?;
            Function::with_state(handler, state).serve(startup).await
        })
    }))
}

fn finish(result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, with the causes: the server's log shows it as is.
            eprintln!("error: {}", chain(&err));
            ExitCode::FAILURE
        }
    }
}

/// An init function: `fn() -> Result<T, E>` or `async fn() -> Result<T, E>`,
/// with `E` any error that converts into [`FunctionError`](crate::FunctionError). `M` tells the two shapes apart; never name it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as an init function",
    note = "an init function takes no arguments and returns `Result<T, E>` (or is an `async fn` returning it), where `E` is an error type; `T` becomes the `State<T>` of every call"
)]
pub trait Init<M> {
    /// What the init builds.
    type State: Send + Sync + 'static;
    /// Runs the init.
    fn init(self) -> impl Future<Output = Result<Self::State, BoxError>>;
}

/// Marker: a plain `fn` init.
#[derive(Debug)]
pub enum SyncInit {}
/// Marker: an `async fn` init.
#[derive(Debug)]
pub enum AsyncInit {}

impl<F, T, E> Init<SyncInit> for F
where
    F: FnOnce() -> Result<T, E>,
    T: Send + Sync + 'static,
    E: Into<FunctionError>,
{
    type State = T;
    fn init(self) -> impl Future<Output = Result<T, BoxError>> {
        std::future::ready(self().map_err(|e| e.into().into_boxed()))
    }
}

impl<F, Fut, T, E> Init<AsyncInit> for F
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    T: Send + Sync + 'static,
    E: Into<FunctionError>,
{
    type State = T;
    async fn init(self) -> Result<T, BoxError> {
        self().await.map_err(|e| e.into().into_boxed())
    }
}

/// The state type of a handler, as a value the argument checks can use.
#[derive(Debug)]
pub struct StateMarker<S>(PhantomData<fn() -> S>);

impl<S> Clone for StateMarker<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for StateMarker<S> {}

/// A function without init has state `()`.
pub fn no_state() -> StateMarker<()> {
    StateMarker(PhantomData)
}

/// A function with init has state `Arc<T>`, `T` what the init returns.
pub fn state_of_init<I: Init<M>, M>(_init: &I) -> StateMarker<Arc<I::State>> {
    StateMarker(PhantomData)
}

/// Fails to compile, at the user's type, unless `T` reads the head.
pub fn check_head_arg<T: FromRequestParts<S>, S>(_state: StateMarker<S>) {}

/// Fails to compile, at the user's type, unless `T` is an extractor.
pub fn check_last_arg<T: FromRequest<S, M>, S, M>(_state: StateMarker<S>) {}

/// Fails to compile, at the user's type, unless `R` is a response.
pub fn check_return<R: IntoResponse>() {}

/// A handler whose argument list the macro has already checked, erased to
/// one boxed call. It serves without a second box (see `Handler::boxed`).
pub struct Erased<S> {
    call: Arc<ErasedFn<S>>,
    /// What the checked handler's [`Handler::reads_context`] said.
    reads_context: bool,
}

type ErasedFn<S> = dyn Fn(Request, S) -> BoxFuture<Response> + Send + Sync;

impl<S> Erased<S> {
    /// Wraps the checked handler, whose `reads_context` is given.
    pub fn new<F>(reads_context: bool, call: F) -> Self
    where
        F: Fn(Request, S) -> BoxFuture<Response> + Send + Sync + 'static,
    {
        Self {
            call: Arc::new(call),
            reads_context,
        }
    }
}

impl<S> Clone for Erased<S> {
    fn clone(&self) -> Self {
        Self {
            call: Arc::clone(&self.call),
            reads_context: self.reads_context,
        }
    }
}

impl<S> std::fmt::Debug for Erased<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Erased")
    }
}

/// Marker for [`Erased`]'s `Handler` impl.
#[derive(Debug)]
pub enum ErasedArgs {}

impl<S> Handler<ErasedArgs, S> for Erased<S>
where
    S: Clone + Send + Sync + 'static,
{
    fn call(self, req: Request, state: S) -> impl Future<Output = Response> + Send + 'static {
        (self.call)(req, state)
    }

    fn reads_context(&self) -> bool {
        self.reads_context
    }

    fn boxed(self, state: S) -> BoxHandler {
        let call = self.call;
        Arc::new(move |req| call(req, state.clone()))
    }
}
