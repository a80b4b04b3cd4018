#[fdk::handler]
fn total(numbers: Option<u32>, body: String) -> String {
    format!("{numbers:?} {body}")
}
