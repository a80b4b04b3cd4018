//! Body extractors: `Body` (streamed), `Bytes`, `Vec<u8>` and `String`;
//! the last three are `None` as an `Option` when the body is empty.

use bytes::Bytes;

use super::rejection::{BytesRejection, StringRejection, body_read};
use super::{FromRequest, OptionalFromRequest, Request};
use crate::body::Body;

impl<S: Sync> FromRequest<S> for Body {
    type Rejection = std::convert::Infallible;
    const READS_CONTEXT: bool = false;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(req.into_body())
    }
}

impl<S: Sync> FromRequest<S> for Bytes {
    type Rejection = BytesRejection;
    const READS_CONTEXT: bool = false;

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
    const READS_CONTEXT: bool = false;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Vec::from(
            <Bytes as FromRequest<S>>::from_request(req, state).await?,
        ))
    }
}

impl<S: Sync> FromRequest<S> for String {
    type Rejection = StringRejection;
    const READS_CONTEXT: bool = false;

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

/// `None` for an empty body.
impl<S: Sync> OptionalFromRequest<S> for Bytes {
    type Rejection = BytesRejection;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let bytes = <Bytes as FromRequest<S>>::from_request(req, state).await?;
        Ok((!bytes.is_empty()).then_some(bytes))
    }
}

/// `None` for an empty body.
impl<S: Sync> OptionalFromRequest<S> for Vec<u8> {
    type Rejection = BytesRejection;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let bytes = <Bytes as OptionalFromRequest<S>>::from_request(req, state).await?;
        Ok(bytes.map(Vec::from))
    }
}

/// `None` for an empty body; a body that is not UTF-8 is still rejected.
impl<S: Sync> OptionalFromRequest<S> for String {
    type Rejection = StringRejection;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let text = <String as FromRequest<S>>::from_request(req, state).await?;
        Ok((!text.is_empty()).then_some(text))
    }
}
