#[fdk::handler]
unsafe fn echo(body: String) -> String {
    body
}
