use fdk::State;

struct Config {
    greeting: String,
}

struct Settings;

fn setup() -> Result<Config, std::io::Error> {
    Ok(Config {
        greeting: "Hello".to_owned(),
    })
}

#[fdk::handler(init = setup)]
fn greet(settings: State<Settings>, name: String) -> String {
    let _ = settings;
    name
}
