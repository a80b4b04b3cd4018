#[fdk::handler(timeout = 30)]
fn hello() -> &'static str {
    "Hello"
}
