// `self` only parses in an `impl` (or a trait), so the handler is a method
// here. The attribute cannot add a `main` outside the `impl`, so this file
// has its own: the test shows the one error about `self`, nothing else.

struct Greeter;

impl Greeter {
    #[fdk::handler]
    fn greet(&self, name: String) -> String {
        format!("Hello {name}")
    }
}

fn main() {}
