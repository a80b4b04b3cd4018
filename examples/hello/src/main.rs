//! The smallest Fn function: `Hello <name>`, or `Hello World` for an
//! empty body.

/// Greets the caller by the name in the body.
#[fdk::handler]
fn hello(name: String) -> String {
    let name = name.trim();
    format!("Hello {}", if name.is_empty() { "World" } else { name })
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
        assert_eq!(
            res.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }
}
