//! The smallest Fn function: `Hello <name>`, or `Hello World` for an
//! empty body. The name is the body as text, or the `name` field of a
//! JSON object body (`{"name":"Jo"}`, what Fn's own hello functions take).

use std::borrow::Cow;

/// Greets the caller by the name in the body.
#[fdk::handler]
fn hello(body: String) -> String {
    let name = name_in(&body);
    format!("Hello {}", if name.is_empty() { "World" } else { &name })
}

/// `{"name": "Jo"}` gives `Jo`; any other body is the name itself.
/// Borrowed where it can be: a body near the FDK's limit is then held
/// twice (the body and the answer), not four times.
fn name_in(body: &str) -> Cow<'_, str> {
    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }
    let body = body.trim();
    if !body.starts_with('{') {
        return Cow::Borrowed(body);
    }
    match serde_json::from_str::<Named>(body) {
        Ok(named) => Cow::Owned(named.name.trim().to_owned()),
        _ => Cow::Borrowed(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdk::testing::TestCall;

    #[tokio::test]
    async fn greets_by_name_and_defaults_to_world() {
        async fn handler(name: String) -> String {
            hello(name)
        }
        let res = TestCall::invoke().body("Jimmy").send(handler).await;
        assert_eq!((res.status(), res.text()), (200, "Hello Jimmy".to_owned()));
        let res = TestCall::invoke().send(handler).await;
        assert_eq!(res.text(), "Hello World");
        let res = TestCall::invoke()
            .body(r#"{"name":"Jo Ann"}"#)
            .send(handler)
            .await;
        assert_eq!(res.text(), "Hello Jo Ann");
        // Not the expected object: the body is the name.
        let res = TestCall::invoke()
            .body(r#"{"nom":"x"}"#)
            .send(handler)
            .await;
        assert_eq!(res.text(), r#"Hello {"nom":"x"}"#);
        assert_eq!(
            res.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }
}
