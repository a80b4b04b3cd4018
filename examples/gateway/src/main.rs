//! A function behind an HTTP trigger: it reads the client's method, path,
//! query and headers, and answers with its own status and headers. The FDK
//! carries them as `Fn-Http-Status` and `Fn-Http-H-*`, which the Fn server
//! turns back into a plain HTTP response for the client.

use fdk::Context;
use fdk::http::{Method, StatusCode, header};
use fdk::response::{IntoResponse, Response};

const ITEMS: [&str; 3] = ["apple", "banana", "cherry"];

/// `GET …/items?id=N` answers an item; anything else says why not.
#[fdk::handler]
fn items(ctx: &Context) -> Response {
    let Some(gw) = ctx.gateway() else {
        return (StatusCode::BAD_REQUEST, "call me through an HTTP trigger").into_response();
    };
    if gw.method() != Method::GET {
        let mut res = (StatusCode::METHOD_NOT_ALLOWED, "only GET").into_response();
        res.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET"));
        return res;
    }
    let id = gw.query("id").and_then(|id| id.parse::<usize>().ok());
    match id.and_then(|id| ITEMS.get(id)) {
        Some(item) => {
            let mut res = item.to_string().into_response();
            res.headers_mut()
                .append("x-item-tag", header::HeaderValue::from_static("fruit"));
            res.headers_mut()
                .append("x-item-tag", header::HeaderValue::from_static("fresh"));
            res
        }
        None => (StatusCode::NOT_FOUND, "no such item").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdk::testing::TestCall;

    async fn served(ctx: Context) -> Response {
        items(&ctx)
    }

    const URL: &str = "http://localhost:8080/t/shop/items";

    #[tokio::test]
    async fn get_answers_the_item_with_every_header_value() {
        let res = TestCall::gateway("GET", &format!("{URL}?id=1"))
            .send(served)
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.header("fn-http-status"), Some("200"));
        assert_eq!(res.header_all("fn-http-h-x-item-tag"), ["fruit", "fresh"]);
        assert_eq!(
            res.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(res.text(), "banana");
    }

    #[tokio::test]
    async fn unknown_items_and_other_methods_get_client_errors() {
        let res = TestCall::gateway("GET", &format!("{URL}?id=9"))
            .send(served)
            .await;
        assert_eq!((res.status(), res.user_status()), (200, 404));
        let res = TestCall::gateway("DELETE", URL).send(served).await;
        assert_eq!(res.user_status(), 405);
        assert_eq!(res.header("fn-http-h-allow"), Some("GET"));
    }

    #[tokio::test]
    async fn invoke_calls_are_told_to_use_the_trigger() {
        let res = TestCall::invoke().send(served).await;
        assert_eq!((res.status(), res.user_status()), (200, 400));
        assert_eq!(res.header("fn-http-status"), Some("400"));
    }
}
