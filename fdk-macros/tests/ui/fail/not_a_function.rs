#[fdk::handler]
struct Greeter {
    greeting: String,
}
