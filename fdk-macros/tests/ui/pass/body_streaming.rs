// `Body`: the request body read chunk by chunk, as it arrives.

use fdk::{Body, Context, FunctionError};

#[fdk::handler]
async fn count(_ctx: Context, mut body: Body) -> Result<String, FunctionError> {
    let mut total = 0;
    while let Some(chunk) = body.chunk().await {
        total += chunk?.len();
    }
    Ok(format!("{total} bytes"))
}
