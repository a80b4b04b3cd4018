#[fdk::handler]
fn count(body: String) -> u32 {
    body.len() as u32
}
