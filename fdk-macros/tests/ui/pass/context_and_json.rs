// `&Context` first, then `Json<T>` as the body; `Json<T>` out.

use fdk::{Context, Json};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Input {
    name: String,
}

#[derive(Serialize)]
struct Output {
    message: String,
    call_id: String,
}

#[fdk::handler]
async fn greet(ctx: &Context, Json(input): Json<Input>) -> Json<Output> {
    Json(Output {
        message: format!("Hello {}", input.name),
        call_id: ctx.call_id().to_owned(),
    })
}
