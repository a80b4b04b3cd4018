//! The process environment, read once at start-up: where to listen, which
//! protocol, the app and function identity, and every variable as config.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::Error;
use crate::protocol::{
    DEFAULT_MEMORY_MB, ENV_APP_ID, ENV_APP_NAME, ENV_FN_ID, ENV_FN_NAME, ENV_FORMAT, ENV_LISTENER,
    ENV_LOGFRAME_HDR, ENV_LOGFRAME_NAME, ENV_MAX_BODY, ENV_MEMORY, ENV_TYPE, FORMAT_CLOUDEVENT,
    FORMAT_DEFAULT, FORMAT_HTTP, FORMAT_HTTP_STREAM, FORMAT_JSON, LISTENER_SCHEME, MAX_SOCKET_PATH,
    MEMORY_RESERVE_MB, MIN_BODY_BYTES,
};

/// The function's environment: every variable the process started with
/// (the server passes app and fn config as variables), plus typed views of
/// the `FN_*` ones.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    vars: HashMap<String, String>,
    memory_mb: Option<u64>,
}

impl Env {
    /// Snapshot of the process environment. Variables whose name or value is
    /// not UTF-8 are skipped (the server only sets UTF-8 ones).
    pub(crate) fn from_process() -> Self {
        Self::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    pub(crate) fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let vars: HashMap<String, String> = vars.into_iter().collect();
        let memory_mb = vars.get(ENV_MEMORY).and_then(|m| m.trim().parse().ok());
        Self { vars, memory_mb }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub(crate) fn app_id(&self) -> Option<&str> {
        self.get(ENV_APP_ID)
    }
    pub(crate) fn fn_id(&self) -> Option<&str> {
        self.get(ENV_FN_ID)
    }
    pub(crate) fn app_name(&self) -> Option<&str> {
        self.get(ENV_APP_NAME)
    }
    pub(crate) fn fn_name(&self) -> Option<&str> {
        self.get(ENV_FN_NAME)
    }
    pub(crate) fn fn_type(&self) -> Option<&str> {
        self.get(ENV_TYPE)
    }
    pub(crate) fn memory_mb(&self) -> Option<u64> {
        self.memory_mb
    }

    /// The header whose value frames each call's logs, and the name to print
    /// it under, when both `FN_LOGFRAME_*` variables are set.
    pub(crate) fn log_frame(&self) -> Option<LogFrame> {
        let name = self.get(ENV_LOGFRAME_NAME).filter(|v| !v.is_empty())?;
        let header = self.get(ENV_LOGFRAME_HDR).filter(|v| !v.is_empty())?;
        let header = http::HeaderName::from_bytes(header.as_bytes()).ok()?;
        Some(LogFrame {
            name: name.to_owned(),
            header,
        })
    }

    /// Which protocol the server speaks (HS-ENV-3, SIO-ENV-1).
    pub(crate) fn format(&self) -> Result<Format, Error> {
        match self.get(ENV_FORMAT).unwrap_or("") {
            "" | FORMAT_HTTP_STREAM => Ok(Format::HttpStream),
            FORMAT_JSON => Ok(Format::Json),
            FORMAT_HTTP => Ok(Format::Http),
            FORMAT_DEFAULT => Ok(Format::Default),
            FORMAT_CLOUDEVENT => Ok(Format::CloudEvent),
            other => Err(Error::format(format!(
                "unknown FN_FORMAT `{other}`; expected it unset, empty, `{FORMAT_HTTP_STREAM}`, \
                 or one of the stdin/stdout formats `{FORMAT_JSON}`, `{FORMAT_HTTP}`, \
                 `{FORMAT_DEFAULT}`, `{FORMAT_CLOUDEVENT}`"
            ))),
        }
    }

    /// The largest request body a buffered extractor (`Bytes`, `String`,
    /// `Json<T>`) accepts: `FDK_MAX_BODY` bytes if set, else what fits
    /// `FN_MEMORY` ([`default_max_body`]) (HS-REQ-9). An unusable value is
    /// a start-up error, not a silent default.
    pub(crate) fn max_body(&self) -> Result<usize, Error> {
        let Some(value) = self.get(ENV_MAX_BODY) else {
            return Ok(default_max_body(self.memory_mb));
        };
        match value.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(Error::config(format!(
                "{ENV_MAX_BODY}=`{value}` is not a usable body limit; expected a whole number \
                 of bytes above 0 (e.g. {ENV_MAX_BODY}=16777216), or leave it unset for a \
                 limit that fits {ENV_MEMORY}"
            ))),
        }
    }

    /// The socket path from `FN_LISTENER=unix:<path>` (HS-ENV-1).
    pub(crate) fn listener(&self) -> Result<PathBuf, Error> {
        let expected = format!(
            "expected FN_LISTENER=unix:<path> with a path of at most {MAX_SOCKET_PATH} bytes"
        );
        let value = match self.get(ENV_LISTENER) {
            None => {
                return Err(Error::listener(format!(
                    "FN_LISTENER is not set; {expected}"
                )));
            }
            Some("") => return Err(Error::listener(format!("FN_LISTENER is empty; {expected}"))),
            Some(v) => v,
        };
        let Some(path) = value.strip_prefix(LISTENER_SCHEME) else {
            return Err(Error::listener(format!(
                "FN_LISTENER=`{value}` is not a unix socket address; {expected}"
            )));
        };
        if path.is_empty() {
            return Err(Error::listener(format!(
                "FN_LISTENER has no path; {expected}"
            )));
        }
        if path.len() > MAX_SOCKET_PATH {
            return Err(Error::listener(format!(
                "FN_LISTENER path is {} bytes long; {expected}",
                path.len()
            )));
        }
        Ok(PathBuf::from(path))
    }
}

/// The body limit when `FDK_MAX_BODY` is unset: half of what `FN_MEMORY`
/// leaves after a fixed reserve, and never below 6 MiB (HS-REQ-9).
///
/// Half, because a buffered body is usually held twice at its peak: once
/// as the bytes the FDK read, once as what the handler makes of them (a
/// parsed `Json<T>`, a response built from the input). The reserve covers
/// the process itself. 128 MB gives 48 MiB; 256 MB gives 112 MiB.
pub(crate) fn default_max_body(memory_mb: Option<u64>) -> usize {
    let memory_mb = memory_mb.unwrap_or(DEFAULT_MEMORY_MB);
    let budget = memory_mb.saturating_sub(MEMORY_RESERVE_MB) / 2;
    let bytes = usize::try_from(budget.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
    bytes.max(MIN_BODY_BYTES)
}

/// The protocols the FDK can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// HTTP/1.1 over the unix socket `FN_LISTENER` names.
    HttpStream,
    /// One JSON object per call on stdin and stdout.
    Json,
    /// One HTTP/1.1 message per call on stdin and stdout.
    Http,
    /// One call per process: the body on stdin, the answer on stdout.
    Default,
    /// One CloudEvents 0.1 object per call on stdin and stdout.
    CloudEvent,
}

impl Format {
    /// The `FN_FORMAT` value that names it.
    #[cfg_attr(feature = "stdio", allow(dead_code))]
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::HttpStream => FORMAT_HTTP_STREAM,
            Self::Json => FORMAT_JSON,
            Self::Http => FORMAT_HTTP,
            Self::Default => FORMAT_DEFAULT,
            Self::CloudEvent => FORMAT_CLOUDEVENT,
        }
    }
}

/// Log framing from `FN_LOGFRAME_NAME` / `FN_LOGFRAME_HDR` (HS-LOG-3).
#[derive(Debug, Clone)]
pub(crate) struct LogFrame {
    pub(crate) name: String,
    pub(crate) header: http::HeaderName,
}

/// A config value that is missing or does not parse as the asked-for type,
/// from [`Context::config_parse`](crate::Context::config_parse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    key: String,
    problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    Missing,
    Invalid { ty: &'static str, reason: String },
}

impl ConfigError {
    /// The config key that was asked for.
    pub fn key(&self) -> &str {
        &self.key
    }
    /// The key is not set at all.
    pub fn is_missing(&self) -> bool {
        self.problem == Problem::Missing
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Missing => write!(f, "config key `{}` is not set", self.key),
            Problem::Invalid { ty, reason } => {
                write!(
                    f,
                    "config key `{}` is not a valid `{ty}`: {reason}",
                    self.key
                )
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Parses config value `key` as `T` (the body of `Context::config_parse`).
pub(crate) fn parse_config<T>(env: &Env, key: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    let value = env.get(key).ok_or_else(|| ConfigError {
        key: key.to_owned(),
        problem: Problem::Missing,
    })?;
    value.parse().map_err(|e: T::Err| ConfigError {
        key: key.to_owned(),
        problem: Problem::Invalid {
            ty: std::any::type_name::<T>(),
            reason: e.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn listener_accepts_unix_paths_up_to_107_bytes() {
        let path = format!("/{}", "a".repeat(106));
        let e = env(&[("FN_LISTENER", &format!("unix:{path}"))]);
        assert_eq!(e.listener().unwrap(), PathBuf::from(path));
    }

    #[test]
    fn listener_rejects_missing_empty_other_schemes_and_long_paths() {
        let long = format!("unix:/{}", "a".repeat(107));
        for bad in [
            None,
            Some(""),
            Some("tcp://127.0.0.1:80"),
            Some("unix:"),
            Some(&*long),
        ] {
            let e = match bad {
                None => env(&[]),
                Some(v) => env(&[("FN_LISTENER", v)]),
            };
            let err = e.listener().unwrap_err();
            assert!(err.is_listener(), "{bad:?}");
            assert!(err.to_string().contains("unix:<path>"), "{err}");
        }
    }

    #[test]
    fn format_unset_empty_or_http_stream_is_accepted_and_others_refused() {
        for ok in [None, Some(""), Some("http-stream")] {
            let e = match ok {
                None => env(&[]),
                Some(v) => env(&[("FN_FORMAT", v)]),
            };
            assert_eq!(e.format().unwrap(), Format::HttpStream);
        }
        for (name, format) in [
            ("json", Format::Json),
            ("http", Format::Http),
            ("default", Format::Default),
            ("cloudevent", Format::CloudEvent),
        ] {
            assert_eq!(env(&[("FN_FORMAT", name)]).format().unwrap(), format);
        }
        for bad in ["grpc", "JSON", " http", "http-stream2"] {
            let err = env(&[("FN_FORMAT", bad)]).format().unwrap_err();
            assert!(err.is_format() && err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn config_parse_reports_missing_and_invalid_values() {
        let e = env(&[("PORT", "80"), ("RATIO", "x")]);
        assert_eq!(parse_config::<u16>(&e, "PORT"), Ok(80));
        assert!(parse_config::<u16>(&e, "NOPE").unwrap_err().is_missing());
        let err = parse_config::<f64>(&e, "RATIO").unwrap_err();
        assert_eq!(
            err.to_string(),
            "config key `RATIO` is not a valid `f64`: invalid float literal"
        );
    }

    #[test]
    fn memory_is_parsed_and_garbage_is_none() {
        assert_eq!(env(&[("FN_MEMORY", "128")]).memory_mb(), Some(128));
        assert_eq!(env(&[("FN_MEMORY", "lots")]).memory_mb(), None);
    }

    #[test]
    fn max_body_follows_memory_and_the_knob_and_refuses_garbage() {
        const MIB: usize = 1 << 20;
        assert_eq!(env(&[]).max_body().unwrap(), 48 * MIB);
        assert_eq!(env(&[("FN_MEMORY", "128")]).max_body().unwrap(), 48 * MIB);
        assert_eq!(env(&[("FN_MEMORY", "256")]).max_body().unwrap(), 112 * MIB);
        // Small functions still take the 6 MiB HS-REQ-2 promises.
        assert_eq!(env(&[("FN_MEMORY", "32")]).max_body().unwrap(), 6 * MIB);
        let knob = env(&[("FN_MEMORY", "128"), ("FDK_MAX_BODY", "1000")]);
        assert_eq!(knob.max_body().unwrap(), 1000);
        for bad in [
            "",
            "0",
            "-1",
            "64M",
            " 10",
            "1e6",
            "99999999999999999999999",
        ] {
            let err = env(&[("FDK_MAX_BODY", bad)]).max_body().unwrap_err();
            assert!(err.is_config(), "{bad:?}");
            assert!(err.to_string().contains("FDK_MAX_BODY"), "{err}");
        }
    }

    #[test]
    fn log_frame_needs_both_variables() {
        assert!(env(&[("FN_LOGFRAME_NAME", "x")]).log_frame().is_none());
        let f = env(&[
            ("FN_LOGFRAME_NAME", "callid"),
            ("FN_LOGFRAME_HDR", "Fn-Call-Id"),
        ])
        .log_frame()
        .unwrap();
        assert_eq!(
            (f.name.as_str(), f.header.as_str()),
            ("callid", "fn-call-id")
        );
    }
}
