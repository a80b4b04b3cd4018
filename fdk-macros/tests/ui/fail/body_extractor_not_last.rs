use fdk::Context;

#[fdk::handler]
fn greet(name: String, ctx: Context) -> String {
    format!("Hello {name} ({})", ctx.call_id())
}
