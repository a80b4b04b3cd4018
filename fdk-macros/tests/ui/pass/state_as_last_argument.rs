// `State<T>` last (it reads the head, not the body), after `Context`.

use std::sync::atomic::{AtomicU64, Ordering};

use fdk::{Context, State};

struct Counter {
    calls: AtomicU64,
}

fn setup() -> Result<Counter, std::convert::Infallible> {
    Ok(Counter {
        calls: AtomicU64::new(0),
    })
}

#[fdk::handler(init = setup)]
fn count(ctx: Context, counter: State<Counter>) -> String {
    let n = counter.calls.fetch_add(1, Ordering::Relaxed) + 1;
    format!("call {n}: {}", ctx.call_id())
}
