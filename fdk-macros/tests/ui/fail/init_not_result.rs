use fdk::State;

struct Config {
    greeting: String,
}

fn setup() -> Config {
    Config {
        greeting: "Hello".to_owned(),
    }
}

#[fdk::handler(init = setup)]
fn greet(config: State<Config>, name: String) -> String {
    format!("{} {name}", config.greeting)
}
