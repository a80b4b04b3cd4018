// The expansion's local items do not shadow the user's types, whatever
// their names.

use fdk::Json;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Checked {
    value: u32,
}

#[derive(Serialize)]
struct Erased {
    value: u32,
}

#[allow(dead_code)]
trait StateOfInit {}

#[fdk::handler]
fn handler_arguments(Json(input): Json<Checked>) -> Json<Erased> {
    Json(Erased { value: input.value })
}
