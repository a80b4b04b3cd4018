#[fdk::handler]
fn double(n: u32) -> String {
    (n * 2).to_string()
}
