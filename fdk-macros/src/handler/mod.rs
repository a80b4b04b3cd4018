//! `#[handler]`: parse the attribute and the function, validate both, then
//! expand. Every error is spanned at the user's tokens; on an error the
//! user's function is emitted again, with a stand-in `main`, so that one
//! mistake does not cascade.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = parse::options(attr);
    let func = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let mut errors = validate::Errors::default();
            if let Err(err) = options {
                errors.push(err);
            }
            errors.push(syn::Error::new_spanned(
                first_tokens(&item),
                "`#[fdk::handler]` goes on a function: `fn` or `async fn`",
            ));
            return failed(errors, item, true);
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
    let args = validate::function(&func, options.init.is_some(), &mut errors);
    if errors.is_empty() {
        expand::main(&func, &args, &options)
    } else {
        // A method is in an `impl` or a trait, where a `main` would be one
        // more error (or a method nobody calls), not the crate's `main`.
        let is_method = func.sig.receiver().is_some();
        failed(errors, without_main(func).into_token_stream(), !is_method)
    }
}

/// The errors, the user's item, and (with `stand_in`) an empty `main`:
/// without it, every mistake would also be reported as "`main` function
/// not found".
fn failed(errors: validate::Errors, item: TokenStream, stand_in: bool) -> TokenStream {
    let mut out = errors.to_compile_error();
    out.extend(item);
    if stand_in {
        out.extend(quote! {
            #[allow(dead_code)]
            fn main() {}
        });
    }
    out
}

/// A handler named `main` is renamed, so that it is not also reported as a
/// `main` with a wrong signature, nor clash with the stand-in.
fn without_main(mut func: syn::ItemFn) -> syn::ItemFn {
    if func.sig.ident == "main" {
        func.sig.ident = syn::Ident::new("__fdk_handler_named_main", func.sig.ident.span());
        func.attrs.push(syn::parse_quote!(#[allow(dead_code)]));
    }
    func
}

/// The first few tokens of an item, to point an error at (`struct Foo`).
fn first_tokens(item: &TokenStream) -> TokenStream {
    item.clone().into_iter().take(2).collect()
}
