use fdk::State;

struct Config {
    greeting: String,
}

#[fdk::handler]
fn greet(config: State<Config>, name: String) -> String {
    format!("{} {name}", config.greeting)
}
