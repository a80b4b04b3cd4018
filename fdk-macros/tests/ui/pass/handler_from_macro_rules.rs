// A handler written by a `macro_rules!` macro: the expansion's names do
// not depend on the hygiene of the tokens it is given.

macro_rules! echo_handler {
    ($name:ident, $body:ty) => {
        #[fdk::handler]
        fn $name(body: $body) -> $body {
            body
        }
    };
}

echo_handler!(echo, fdk::Bytes);
