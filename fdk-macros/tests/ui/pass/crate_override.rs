// `crate = "..."`: the FDK under another name.

extern crate fdk as my_fdk;

use my_fdk::Context;

#[my_fdk::handler(crate = "my_fdk")]
fn whoami(ctx: Context) -> String {
    ctx.call_id().to_owned()
}
