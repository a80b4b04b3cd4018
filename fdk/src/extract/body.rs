//! Body extractors: `Body` (streamed), `Bytes`, `Vec<u8>` and `String`.

use bytes::Bytes;

use super::rejection::{BytesRejection, StringRejection, body_read};
use super::{FromRequest, Request};
use crate::body::Body;

impl<S: Sync> FromRequest<S> for Body {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(req.into_body())
    }
}

impl<S: Sync> FromRequest<S> for Bytes {
    type Rejection = BytesRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        req.into_body().collect().await.map_err(|e| {
            body_read(e, BytesRejection::BodyRead, |limit| {
                BytesRejection::TooLarge { limit }
            })
        })
    }
}

impl<S: Sync> FromRequest<S> for Vec<u8> {
    type Rejection = BytesRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Vec::from(Bytes::from_request(req, state).await?))
    }
}

impl<S: Sync> FromRequest<S> for String {
    type Rejection = StringRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = req.into_body().collect().await.map_err(|e| {
            body_read(e, StringRejection::BodyRead, |limit| {
                StringRejection::TooLarge { limit }
            })
        })?;
        match String::from_utf8(Vec::from(bytes)) {
            Ok(text) => Ok(text),
            Err(err) => Err(StringRejection::InvalidUtf8(err.utf8_error())),
        }
    }
}
