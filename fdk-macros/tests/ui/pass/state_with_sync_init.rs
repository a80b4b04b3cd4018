// A fallible plain `fn` init; the handler takes `State<T>` and `&Context`.

use fdk::{Context, State};

struct Config {
    greeting: String,
}

fn setup() -> Result<Config, std::env::VarError> {
    let greeting = std::env::var("GREETING")?;
    Ok(Config { greeting })
}

#[fdk::handler(init = setup)]
fn greet(config: State<Config>, ctx: &Context, name: String) -> String {
    format!("{} {name} ({})", config.greeting, ctx.call_id())
}
