// `Option<T>` and `Result<T, T::Rejection>` arguments: a head extractor of
// the user's that can be absent, then an optional or fallible body.

use fdk::extract::rejection::JsonRejection;
use fdk::extract::{FromRequestParts, OptionalFromRequestParts};
use fdk::http::request::Parts;
use fdk::{Context, Json};
use serde::Deserialize;

#[derive(Deserialize)]
struct Input {
    name: String,
}

struct Tenant(String);

impl<S> FromRequestParts<S> for Tenant {
    type Rejection = &'static str;

    fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        <Tenant as OptionalFromRequestParts<S>>::from_request_parts(parts, state)?
            .ok_or("no X-Tenant")
    }
}

impl<S> OptionalFromRequestParts<S> for Tenant {
    type Rejection = &'static str;

    fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(Context::from_parts(parts).header("x-tenant").map(|t| Tenant(t.to_owned())))
    }
}

#[fdk::handler]
async fn greet(
    ctx: &Context,
    tenant: Option<Tenant>,
    strict: Result<Tenant, &'static str>,
    input: Result<Json<Input>, JsonRejection>,
) -> String {
    let name = match input {
        Ok(Json(input)) => input.name,
        Err(rejection) => rejection.to_string(),
    };
    let tenant = tenant.map_or_else(String::new, |t| t.0);
    format!("{} {name} {tenant} {}", ctx.call_id(), strict.is_ok())
}
