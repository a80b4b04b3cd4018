//! `#[handler]`: parse the attribute and the function, validate both, then
//! expand. Every error is spanned at the user's tokens; the user's function
//! is always emitted again, so one mistake does not cascade.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::ToTokens;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = parse::options(attr);
    let func = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let mut out = syn::Error::new_spanned(
                first_tokens(&item),
                "`#[fdk::handler]` goes on a function: `fn` or `async fn`",
            )
            .to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let mut errors = validate::Errors::default();
    let options = match options {
        Ok(options) => options,
        Err(err) => {
            errors.push(err);
            parse::Options::default()
        }
    };
    let args = validate::function(&func, &mut errors);
    match errors.into_result() {
        Ok(()) => expand::main(&func, &args, &options),
        Err(err) => {
            let mut out = err.to_compile_error();
            func.to_tokens(&mut out);
            out
        }
    }
}

/// The first few tokens of an item, to point an error at (`struct Foo`).
fn first_tokens(item: &TokenStream) -> TokenStream {
    item.clone().into_iter().take(2).collect()
}
