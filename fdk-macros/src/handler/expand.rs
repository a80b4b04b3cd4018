//! The expansion: the user's function unchanged, and a `main` that serves
//! it through a wrapper taking every argument by value.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType};

use super::parse::{Flavor, Options};
use super::validate::Arg;

pub(crate) fn main(func: &ItemFn, args: &[Arg], options: &Options) -> TokenStream {
    let fdk = options
        .krate
        .as_ref()
        .map_or_else(|| quote!(::fdk), |path| quote!(#path));
    let private = quote!(#fdk::__private);
    let name = &func.sig.ident;

    let params: Vec<_> = args
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            let ident = format_ident!("__fdk_arg{i}");
            let ty = &arg.ty;
            quote!(#ident: #ty)
        })
        .collect();
    let passed: Vec<_> = args
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            let ident = format_ident!("__fdk_arg{i}");
            if arg.by_ref {
                quote!(&#ident)
            } else {
                quote!(#ident)
            }
        })
        .collect();
    let output = match &func.sig.output {
        ReturnType::Default => quote!(),
        ReturnType::Type(arrow, ty) => quote!(#arrow #ty),
    };
    let call = if func.sig.asyncness.is_some() {
        quote!(#name(#(#passed),*).await)
    } else {
        quote!(#name(#(#passed),*))
    };

    let flavor = match &options.flavor {
        Flavor::CurrentThread => quote!(#private::current_thread()),
        Flavor::MultiThread { workers, span } => {
            let workers = workers
                .as_ref()
                .map_or_else(|| quote!(2usize), |n| quote!(#n));
            quote_spanned!(*span=> #private::multi_thread::<()>(#workers))
        }
    };

    // A marker of the state type, so that each argument can be checked on
    // its own, with the error on the user's type.
    let state = match &options.init {
        Some(init) => quote_spanned!(init.span()=> #private::state_of_init(&#init)),
        None => quote!(#private::no_state()),
    };
    let last = args.len().saturating_sub(1);
    let checks = args.iter().enumerate().map(|(i, arg)| {
        let ty = &arg.ty;
        if i == last {
            quote_spanned!(ty.span()=> #private::check_last_arg::<#ty, _, _>(__fdk_state);)
        } else {
            quote_spanned!(ty.span()=> #private::check_head_arg::<#ty, _>(__fdk_state);)
        }
    });
    let return_check = match &func.sig.output {
        ReturnType::Type(_, ty) if !matches!(**ty, syn::Type::ImplTrait(_)) => {
            quote_spanned!(ty.span()=> #private::check_return::<#ty>();)
        }
        _ => quote!(),
    };
    let serve = match &options.init {
        Some(init) => quote!(#private::main_with_init(#flavor, #init, __fdk_handler)),
        None => quote!(#private::main(#flavor, __fdk_handler)),
    };

    quote! {
        #func

        fn main() -> ::std::process::ExitCode {
            #[allow(clippy::unused_async)]
            async fn __fdk_handler(#(#params),*) #output {
                #call
            }
            let __fdk_state = #state;
            #(#checks)*
            #return_check
            let _ = __fdk_state;
            #serve
        }
    }
}
