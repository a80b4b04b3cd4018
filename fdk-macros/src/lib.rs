//! The `#[handler]` attribute of [`fn-fdk`](https://docs.rs/fn-fdk). Use it
//! as `#[fdk::handler]`; this crate is an implementation detail.

#![deny(missing_docs)]

mod handler;

use proc_macro::TokenStream;

/// Turns a function into an Fn function binary: generates `main`, which
/// reads the environment, runs the optional init, publishes the socket and
/// serves calls with this function. See the `fdk` crate docs.
///
/// Options: `init = path` (a `fn` or `async fn` returning `Result<T, E>`,
/// run once per container; handlers take `State<T>`), `flavor =
/// "current_thread"` (default) or `"multi_thread"`, `worker_threads = N`,
/// `crate = "path"` (where `fdk` is, if renamed).
#[proc_macro_attribute]
pub fn handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    handler::expand(attr.into(), item.into()).into()
}
