#[fdk::handler]
fn echo<T: Into<String>>(body: String) -> String {
    body
}
