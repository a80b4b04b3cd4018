// An `async fn`, echoing the body back as bytes.

use fdk::Bytes;

#[fdk::handler]
async fn echo(body: Bytes) -> Bytes {
    body
}
