// `Option<T>` needs `T` to say what "absent" means; `Body` does not.

#[fdk::handler]
fn stream(body: Option<fdk::Body>) -> &'static str {
    let _ = body;
    "ok"
}
