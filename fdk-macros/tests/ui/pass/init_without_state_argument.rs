// An init run for its effect only: the handler takes no `State<T>`.

fn warm_up() -> Result<(), std::io::Error> {
    Ok(())
}

#[fdk::handler(init = warm_up)]
async fn ready() -> &'static str {
    "ready"
}
