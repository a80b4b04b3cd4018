use fdk::State;

struct Config {
    greeting: String,
}

fn setup(greeting: String) -> Result<Config, std::io::Error> {
    Ok(Config { greeting })
}

#[fdk::handler(init = setup)]
fn greet(config: State<Config>, name: String) -> String {
    format!("{} {name}", config.greeting)
}
