// `Option<Json<T>>` as the body: `None` for an empty body.

use fdk::Json;
use serde::Deserialize;

#[derive(Deserialize)]
struct Input {
    name: String,
}

#[fdk::handler]
fn greet(input: Option<Json<Input>>) -> String {
    let name = input.map_or_else(|| "World".to_owned(), |Json(i)| i.name);
    format!("Hello {name}")
}
