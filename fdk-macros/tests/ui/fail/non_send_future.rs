use std::rc::Rc;

#[fdk::handler]
async fn count(body: String) -> String {
    let shared = Rc::new(body);
    std::future::ready(()).await;
    shared.to_string()
}
