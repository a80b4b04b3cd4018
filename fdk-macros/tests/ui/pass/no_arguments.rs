// No arguments at all: the body is ignored.

#[fdk::handler]
fn ping() -> &'static str {
    "pong"
}
