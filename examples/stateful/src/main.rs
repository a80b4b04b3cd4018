//! State built once per container: the init function reads the config and
//! prepares what every call shares (a connection pool, a model, a cache);
//! here a greeting and a call counter. An init failure stops the function
//! before its socket appears, with the error on stderr.

use std::sync::atomic::{AtomicU64, Ordering};

use fdk::{Context, FunctionError, State};

/// What every call of this container shares.
#[derive(Debug)]
struct Greeter {
    greeting: String,
    calls: AtomicU64,
}

/// Runs once per container, before the socket appears.
async fn setup() -> Result<Greeter, FunctionError> {
    let greeting = std::env::var("GREETING").unwrap_or_else(|_| "Hello".to_owned());
    if greeting.trim().is_empty() {
        return Err(FunctionError::msg("GREETING is set but empty"));
    }
    Ok(Greeter {
        greeting,
        calls: AtomicU64::new(0),
    })
}

/// Greets, and says how many calls this container has served.
#[fdk::handler(init = setup)]
fn greet(ctx: &Context, state: State<Greeter>, name: String) -> String {
    let n = state.calls.fetch_add(1, Ordering::Relaxed) + 1;
    let name = if name.trim().is_empty() {
        "World"
    } else {
        name.trim()
    };
    format!(
        "{} {name} (call {n} of this container, id {})",
        state.greeting,
        ctx.call_id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdk::testing::TestCall;

    fn served(ctx: Context, state: State<Greeter>, name: String) -> std::future::Ready<String> {
        std::future::ready(greet(&ctx, state, name))
    }

    #[tokio::test]
    async fn the_state_is_shared_by_every_call() {
        let server = fdk::testing::TestServer::start(fdk::Function::with_state(
            served,
            Greeter {
                greeting: "Hi".into(),
                calls: AtomicU64::new(0),
            },
        ))
        .await
        .unwrap();
        let mut conn = server.connect().await.unwrap();
        let first = conn
            .call(TestCall::invoke().call_id("a").body("Ann"))
            .await
            .unwrap();
        assert_eq!(first.text(), "Hi Ann (call 1 of this container, id a)");
        let second = conn.call(TestCall::invoke().call_id("b")).await.unwrap();
        assert_eq!(second.text(), "Hi World (call 2 of this container, id b)");
        server.stop().await;
    }
}
