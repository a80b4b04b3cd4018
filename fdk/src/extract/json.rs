//! [`Json`]: typed JSON input and output with serde.

use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderValue;
use http::header::CONTENT_TYPE;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::rejection::{JsonRejection, body_read};
use super::{FromRequest, OptionalFromRequest, Request};
use crate::response::{IntoResponse, Response};

/// JSON in or out.
///
/// As an argument, it parses the whole body as `T`, whatever the request's
/// `Content-Type` says (Fn clients often send none); input that does not
/// parse is answered with the type's name and serde's error. As a return
/// value, it serializes `T` with `Content-Type: application/json`.
///
/// ```
/// use fdk::Json;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Input { name: String }
/// #[derive(Serialize)]
/// struct Output { greeting: String }
///
/// async fn greet(Json(input): Json<Input>) -> Json<Output> {
///     Json(Output { greeting: format!("Hello {}", input.name) })
/// }
/// # let _ = fdk::Function::new(greet);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Sync,
    T: DeserializeOwned,
{
    type Rejection = JsonRejection;
    const READS_CONTEXT: bool = false;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        parse(&collect(req).await?)
    }
}

/// `None` for a body that is empty or only JSON whitespace (`echo | fn
/// invoke` sends a newline); a body that is not JSON of type `T` is still
/// rejected.
///
/// ```
/// use fdk::Json;
/// use fdk::testing::TestCall;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// async fn count(items: Option<Json<Vec<String>>>) -> String {
///     items.map_or(0, |Json(items)| items.len()).to_string()
/// }
/// assert_eq!(TestCall::invoke().body("\n").send(count).await.text(), "0");
/// assert_eq!(TestCall::invoke().body(r#"["a"]"#).send(count).await.text(), "1");
/// assert_eq!(TestCall::invoke().body("[a").send(count).await.status(), 502);
/// # }
/// ```
impl<S, T> OptionalFromRequest<S> for Json<T>
where
    S: Sync,
    T: DeserializeOwned,
{
    type Rejection = JsonRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        let bytes = collect(req).await?;
        if bytes
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            return Ok(None);
        }
        parse(&bytes).map(Some)
    }
}

async fn collect(req: Request) -> Result<Bytes, JsonRejection> {
    req.into_body().collect().await.map_err(|e| {
        body_read(e, JsonRejection::BodyRead, |limit| {
            JsonRejection::TooLarge { limit }
        })
    })
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<Json<T>, JsonRejection> {
    serde_json::from_slice(bytes)
        .map(Json)
        .map_err(|error| JsonRejection::InvalidJson {
            type_name: std::any::type_name::<T>(),
            error,
        })
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut buf = BytesMut::with_capacity(128).writer();
        match serde_json::to_writer(&mut buf, &self.0) {
            Ok(()) => {
                let mut res = Response::new(Bytes::from(buf.into_inner()).into());
                res.headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                res
            }
            Err(err) => crate::response::mark::failed(format!(
                "failed to serialize the response as JSON for `{}`: {err}",
                std::any::type_name::<T>()
            )),
        }
    }
}
