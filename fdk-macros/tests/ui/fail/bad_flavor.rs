#[fdk::handler(flavor = "single_thread")]
fn hello() -> &'static str {
    "Hello"
}
