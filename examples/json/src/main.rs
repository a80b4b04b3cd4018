//! Typed JSON in and out: an order comes in, a quote goes out.
//!
//! Input that is not a valid `Order` is answered by the FDK with a message
//! naming the type and serde's error; a zero quantity is the function's own
//! error, answered with a 502 and logged.

use fdk::{Context, FunctionError, Json};
use serde::{Deserialize, Serialize};

/// What the caller orders.
#[derive(Debug, Deserialize)]
struct Order {
    item: String,
    qty: u32,
    unit_price_cents: u64,
}

/// What the function answers.
#[derive(Debug, Serialize, PartialEq, Eq)]
struct Quote {
    item: String,
    qty: u32,
    total_cents: u64,
    call_id: String,
}

/// Prices an order.
#[fdk::handler]
async fn quote(ctx: &Context, Json(order): Json<Order>) -> Result<Json<Quote>, FunctionError> {
    if order.qty == 0 {
        return Err(FunctionError::msg("qty must be at least 1"));
    }
    let total_cents = order
        .unit_price_cents
        .checked_mul(u64::from(order.qty))
        .ok_or_else(|| FunctionError::msg("the total does not fit in 64 bits"))?;
    Ok(Json(Quote {
        item: order.item,
        qty: order.qty,
        total_cents,
        call_id: ctx.call_id().to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdk::testing::TestCall;
    use serde_json::{Value, json};

    /// The handler as the FDK serves it (`#[fdk::handler]` does this for
    /// `main`; tests go through the same extractors and encoding).
    async fn served(ctx: Context, order: Json<Order>) -> Result<Json<Quote>, FunctionError> {
        quote(&ctx, order).await
    }

    #[tokio::test]
    async fn quotes_an_order() {
        let body = json!({"item": "tea", "qty": 3, "unit_price_cents": 250}).to_string();
        let res = TestCall::invoke()
            .call_id("c1")
            .body(body)
            .send(served)
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.header("content-type"), Some("application/json"));
        let quote: Value = res.json().unwrap();
        assert_eq!(
            quote,
            json!({"item": "tea", "qty": 3, "total_cents": 750, "call_id": "c1"})
        );
    }

    #[tokio::test]
    async fn a_malformed_order_is_refused_with_the_type_name() {
        let res = TestCall::invoke()
            .body(r#"{"item": "tea"}"#)
            .send(served)
            .await;
        assert_eq!(res.status(), 502);
        let msg: Value = res.json().unwrap();
        let text = msg["message"].as_str().unwrap();
        assert!(
            text.contains("Order") && text.contains("missing field `qty`"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_zero_quantity_is_a_function_error() {
        let ctx = TestCall::invoke().context();
        let order = Order {
            item: "tea".into(),
            qty: 0,
            unit_price_cents: 1,
        };
        let err = quote(&ctx, Json(order)).await.unwrap_err();
        assert_eq!(err.message(), "qty must be at least 1");
    }
}
