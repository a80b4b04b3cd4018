#[fdk::handler(worker_threads = 4)]
fn hello() -> &'static str {
    "Hello"
}
