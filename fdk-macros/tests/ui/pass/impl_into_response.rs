// `impl IntoResponse`: the concrete type stays private to the function.

use fdk::IntoResponse;
use fdk::http::StatusCode;

#[fdk::handler]
async fn teapot(body: Vec<u8>) -> impl IntoResponse {
    if body.is_empty() {
        (StatusCode::IM_A_TEAPOT, "short and stout".to_owned())
    } else {
        (StatusCode::OK, format!("{} bytes", body.len()))
    }
}
