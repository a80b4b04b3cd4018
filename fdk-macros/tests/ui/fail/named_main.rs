#[fdk::handler]
fn main() -> &'static str {
    "Hello"
}
