#[fdk::handler(flavor = "multi_thread", worker_threads = 4)]
async fn hello() -> &'static str {
    "Hello"
}
