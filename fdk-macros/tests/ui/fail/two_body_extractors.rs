use fdk::Bytes;

#[fdk::handler]
fn both(text: String, bytes: Bytes) -> String {
    format!("{text} {}", bytes.len())
}
