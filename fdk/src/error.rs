//! The two error types of the FDK: [`Error`] (start-up and serving) and
//! [`FunctionError`] (a handler's failure, answered with a 502).
//!
//! ```
//! use fdk::FunctionError;
//!
//! fn parse(input: &str) -> Result<u32, FunctionError> {
//!     // `?` converts any `std::error::Error`, and `anyhow::Error` too.
//!     let n: u32 = input.trim().parse()?;
//!     Ok(n * 2)
//! }
//! assert_eq!(parse("21").unwrap(), 42);
//! assert!(parse("x").unwrap_err().message().contains("invalid digit"));
//! ```

use std::error::Error as StdError;
use std::fmt;

/// A boxed error, as carried in sources and bodies.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why the function could not start or keep serving.
///
/// Opaque, as hyper's error is: ask with the `is_*` predicates. `Display`
/// describes this level only; the cause is in [`source`](StdError::source).
/// The wording of messages is not part of the stable API.
pub struct Error {
    kind: Kind,
    detail: String,
    source: Option<BoxError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Listener,
    Format,
    Config,
    Socket,
    Init,
    Runtime,
    Input,
    Call,
}

impl Error {
    pub(crate) fn listener(detail: impl Into<String>) -> Self {
        Self::new(Kind::Listener, detail)
    }
    pub(crate) fn format(detail: impl Into<String>) -> Self {
        Self::new(Kind::Format, detail)
    }
    pub(crate) fn config(detail: impl Into<String>) -> Self {
        Self::new(Kind::Config, detail)
    }
    pub(crate) fn socket(detail: impl Into<String>, source: std::io::Error) -> Self {
        Self::new(Kind::Socket, detail).with_source(source)
    }
    pub(crate) fn init(source: impl Into<BoxError>) -> Self {
        Self::new(Kind::Init, "the init function failed").with_source(source)
    }
    pub(crate) fn runtime(detail: impl Into<String>, source: std::io::Error) -> Self {
        Self::new(Kind::Runtime, detail).with_source(source)
    }

    #[cfg(feature = "stdio")]
    pub(crate) fn input(detail: impl Into<String>) -> Self {
        Self::new(Kind::Input, detail)
    }
    #[cfg(feature = "stdio")]
    pub(crate) fn call(detail: impl Into<String>) -> Self {
        Self::new(Kind::Call, detail)
    }

    fn new(kind: Kind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            source: None,
        }
    }

    fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// `FN_LISTENER` is missing or is not `unix:<path of at most 107 bytes>`.
    pub fn is_listener(&self) -> bool {
        self.kind == Kind::Listener
    }
    /// `FN_FORMAT` names a protocol this FDK does not serve.
    pub fn is_format(&self) -> bool {
        self.kind == Kind::Format
    }
    /// A variable the FDK reads for itself (`FDK_MAX_BODY`) has a value it
    /// cannot use.
    pub fn is_config(&self) -> bool {
        self.kind == Kind::Config
    }
    /// The socket could not be created, bound or published.
    pub fn is_socket(&self) -> bool {
        self.kind == Kind::Socket
    }
    /// The user's init function failed.
    pub fn is_init(&self) -> bool {
        self.kind == Kind::Init
    }
    /// The async runtime could not be built or a signal handler installed.
    pub fn is_runtime(&self) -> bool {
        self.kind == Kind::Runtime
    }
    /// A stdin/stdout format's input ended inside a request or could not
    /// be read, so nothing more could be served.
    pub fn is_input(&self) -> bool {
        self.kind == Kind::Input
    }
    /// The one call of a `default`-format process failed (handler error,
    /// panic, rejected input or deadline); the process exits non-zero.
    pub fn is_call(&self) -> bool {
        self.kind == Kind::Call
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("detail", &self.detail)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// Formats an error and its chain of sources on one line: `a: b: c`.
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        let cause_text = cause.to_string();
        // Some errors repeat their source in their own message; say it once.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        next = cause.source();
    }
    text
}

/// A handler's failure: the call is answered with socket status 502 and a
/// JSON body `{"message": "..."}`, and the message is logged to stderr.
///
/// `?` fills it from any `std::error::Error + Send + Sync + 'static`, from
/// `anyhow::Error`, and from `String`/`&str` messages. Like `anyhow::Error`
/// it deliberately does not implement `std::error::Error` itself, so that the
/// blanket conversion does not overlap with `From<T> for T`.
///
/// ```
/// use fdk::FunctionError;
///
/// fn check(n: i64) -> Result<i64, FunctionError> {
///     if n < 0 {
///         return Err(FunctionError::msg("n must not be negative"));
///     }
///     Ok(n)
/// }
/// assert_eq!(check(-1).unwrap_err().message(), "n must not be negative");
/// ```
pub struct FunctionError {
    inner: BoxError,
}

impl FunctionError {
    /// A failure with a plain message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self {
            inner: message.to_string().into(),
        }
    }

    /// The message the server's logs (and the 502 body) carry: the error and
    /// its sources, `outer: inner`.
    pub fn message(&self) -> String {
        chain(self.inner.as_ref())
    }

    pub(crate) fn into_boxed(self) -> BoxError {
        self.inner
    }

    /// The underlying error, for downcasting.
    pub fn get_ref(&self) -> &(dyn StdError + Send + Sync + 'static) {
        self.inner.as_ref()
    }
}

impl<E> From<E> for FunctionError
where
    E: Into<BoxError>,
{
    fn from(err: E) -> Self {
        Self { inner: err.into() }
    }
}

impl fmt::Debug for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("could not load the model")
        }
    }
    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn function_error_message_includes_the_source_chain() {
        let err: FunctionError = Outer(std::io::Error::other("disk on fire")).into();
        assert_eq!(err.message(), "could not load the model: disk on fire");
    }

    #[test]
    fn function_error_converts_from_strings() {
        let a: FunctionError = "plain".into();
        let b: FunctionError = String::from("owned").into();
        assert_eq!((a.message(), b.message()), ("plain".into(), "owned".into()));
    }

    #[test]
    fn error_display_is_this_level_only() {
        let err = Error::socket("failed to bind", std::io::Error::other("eacces"));
        assert_eq!(err.to_string(), "failed to bind");
        assert!(err.is_socket() && !err.is_listener());
        assert_eq!(chain(&err), "failed to bind: eacces");
    }
}
