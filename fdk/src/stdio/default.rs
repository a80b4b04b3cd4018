//! `FN_FORMAT=default`: the cold format, one call per process (DEF-*).
//!
//! The body is stdin up to its end; the call's metadata is in the
//! environment (`FN_CALL_ID`, `FN_DEADLINE`, `FN_METHOD`, `FN_REQUEST_URL`,
//! `FN_HEADER_<Name>`); the answer is the body on stdout and exit status 0
//! when the handler returned, nothing on stdout and exit status 1 when it
//! failed (DEF-RESP-1, DEF-RESP-2).
//!
//! ```text
//! $ echo '{"name":"Jo"}' | FN_FORMAT=default ./hello
//! Hello Jo
//! ```

use std::future::Future;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::{Input, Output, answer, check_header_count, input_limit, write_all};
use crate::config::Env;
use crate::context::StdioCall;
use crate::dispatch::App;
use crate::error::Error;
use crate::logs;
use crate::protocol::{ENV_CALL_ID, ENV_DEADLINE, ENV_HEADER_PREFIX, ENV_METHOD, ENV_REQUEST_URL};

pub(super) async fn serve(
    app: &App,
    mut input: Input,
    mut out: Output,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let call = match call_from_env(&app.env) {
        Ok(call) => call,
        Err(message) => {
            // Malformed metadata is a failure (SIO-ERR-9): nothing on
            // stdout, exit 1 (DEF-RESP-2).
            let id = app.env.get(ENV_CALL_ID).unwrap_or("");
            logs::error(format_args!("call {id:?} failed: {message}"));
            return Err(Error::call(message));
        }
    };
    let id = call.call_id.clone();
    // A stop signal before the body is in means there is no call to
    // finish; once it is in, the call runs to its end (SIO-LIFE-3).
    let limit = input_limit(app);
    let body = tokio::select! {
        biased;
        () = shutdown => return Ok(()),
        body = input.collect_all(limit) => {
            body.map_err(|e| Error::input(format!("failed to read stdin: {e}")))?
        }
    };
    // Past the limit the call fails as a rejected input does, before the
    // rest of stdin is read: nothing on stdout, exit 1 (DEF-REQ-3).
    let Some(body) = body else {
        return Err(Error::call(format!(
            "call {id} failed: the request body on stdin is larger than this \
             function's limit of {limit} bytes (FDK_MAX_BODY); stopped reading it"
        )));
    };
    let reply = answer(app, call, Bytes::from(body)).await;
    // A failure writes nothing: the exit status is this format's only
    // failure channel, and a partial body would pass for a result; the
    // error is already on stderr (DEF-RESP-2).
    if reply.failed {
        return Err(Error::call(format!(
            "call {id} failed with status {}",
            reply.status.as_u16()
        )));
    }
    write_all(&mut out, &reply.body)?;
    if !reply.status.is_success() {
        logs::warn(format_args!(
            "call {id}: status {} cannot be carried by FN_FORMAT=default; \
             only the body was written",
            reply.status.as_u16()
        ));
    }
    Ok(())
}

/// The call's metadata, from the variables the server set for it; the
/// header variables are counted before any is added (SIO-ERR-9).
fn call_from_env(env: &Env) -> Result<StdioCall, String> {
    let count = env
        .iter()
        .filter(|(key, _)| key.starts_with(ENV_HEADER_PREFIX))
        .count();
    check_header_count(count)?;
    let mut headers = HeaderMap::try_with_capacity(count).map_err(|e| e.to_string())?;
    for (key, value) in env.iter() {
        let Some(name) = key.strip_prefix(ENV_HEADER_PREFIX) else {
            continue;
        };
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.try_append(name, value).map_err(|e| e.to_string())?;
            }
            _ => logs::warn(format_args!("skipping the invalid header variable {key}")),
        }
    }
    let get = |key: &str| env.get(key).filter(|v| !v.is_empty()).map(str::to_owned);
    Ok(StdioCall {
        call_id: get(ENV_CALL_ID).unwrap_or_default(),
        deadline: get(ENV_DEADLINE),
        method: get(ENV_METHOD),
        request_url: get(ENV_REQUEST_URL),
        headers,
    })
}
