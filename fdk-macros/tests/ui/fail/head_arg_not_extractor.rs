use fdk::Context;

#[fdk::handler]
fn greet(ctx: &Context, count: u32, name: String) -> String {
    format!("Hello {name} x{count} ({})", ctx.call_id())
}
