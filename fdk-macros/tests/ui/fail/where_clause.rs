#[fdk::handler]
fn echo(body: String) -> String
where
    String: Clone,
{
    body
}
