use fdk::Context;

#[fdk::handler]
fn call_id(ctx: &mut Context) -> String {
    ctx.call_id().to_owned()
}
