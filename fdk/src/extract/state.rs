//! [`State`]: what the init function built, shared by every call.

use std::ops::Deref;
use std::sync::Arc;

use http::request::Parts;

use super::FromRequestParts;

/// Shared state, built once per container by the init function and handed
/// to every call. Dereferences to `T`.
///
/// ```
/// use fdk::State;
///
/// struct Greeter { greeting: String }
///
/// async fn hello(state: State<Greeter>, name: String) -> String {
///     format!("{} {name}", state.greeting)
/// }
///
/// let function = fdk::Function::with_state(hello, Greeter { greeting: "hi".into() });
/// # let _ = function;
/// ```
#[derive(Debug)]
pub struct State<T>(pub Arc<T>);

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> FromRequestParts<Arc<T>> for State<T> {
    type Rejection = std::convert::Infallible;
    const READS_CONTEXT: bool = false;

    fn from_request_parts(_parts: &mut Parts, state: &Arc<T>) -> Result<Self, Self::Rejection> {
        Ok(Self(Arc::clone(state)))
    }
}
