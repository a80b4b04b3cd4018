//! `floor`: the least work a socket server can do, the reference every FDK is
//! compared with.
//!
//! A bare hyper 1 server (see `fdk_conformance::bench::floor`) with no timer
//! that answers every request with `200` and a fixed body with
//! `Content-Length`. It reads each request body to its end and ignores it. It
//! does not read `FN_*` variables beyond `FN_LISTENER`, parse headers, or log.

use std::process::ExitCode;

use fdk_conformance::bench::FLOOR_BODY;
use fdk_conformance::bench::floor::{self, Answer, Runtime};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

fn main() -> ExitCode {
    floor::main("floor", Runtime::IoOnly, answer)
}

/// Reads the request body to its end (as any function must, so that the
/// connection stays usable), then answers with the fixed body.
async fn answer(request: Request<Incoming>) -> Answer {
    request.into_body().collect().await?;
    Ok(Response::new(Full::new(Bytes::from_static(FLOOR_BODY))))
}
