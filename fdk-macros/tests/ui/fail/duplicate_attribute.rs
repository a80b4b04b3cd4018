#[fdk::handler(flavor = "current_thread", flavor = "current_thread")]
fn hello() -> &'static str {
    "Hello"
}
