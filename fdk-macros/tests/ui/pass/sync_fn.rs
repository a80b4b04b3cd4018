// A plain (not async) function: the FDK runs it on the call's task.

#[fdk::handler]
fn hello(name: String) -> String {
    format!("Hello {}", name.trim())
}
