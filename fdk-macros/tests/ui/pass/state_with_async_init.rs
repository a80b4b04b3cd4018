// An `async fn` init, with an explicit `flavor = "current_thread"`.

use std::collections::HashMap;

use fdk::{FunctionError, Json, State};

struct Catalog {
    prices: HashMap<String, u32>,
}

async fn load() -> Result<Catalog, std::io::Error> {
    let prices = HashMap::from([("tea".to_owned(), 3), ("cake".to_owned(), 5)]);
    Ok(Catalog { prices })
}

#[fdk::handler(init = load, flavor = "current_thread")]
async fn price(
    catalog: State<Catalog>,
    Json(item): Json<String>,
) -> Result<Json<u32>, FunctionError> {
    match catalog.prices.get(&item) {
        Some(price) => Ok(Json(*price)),
        None => Err(FunctionError::msg(format!("no such item: {item}"))),
    }
}
