#[fdk::handler]
fn greet(name: &String) -> String {
    format!("Hello {name}")
}
