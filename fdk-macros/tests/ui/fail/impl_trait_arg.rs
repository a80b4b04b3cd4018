#[fdk::handler]
fn greet(name: impl Into<String>) -> String {
    format!("Hello {}", name.into())
}
