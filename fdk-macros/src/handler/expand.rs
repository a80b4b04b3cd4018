//! The expansion: the user's function unchanged, and a `main` that serves
//! it through a wrapper taking every argument by value.
//!
//! Type errors are the compiler's, so the expansion is shaped for them: each
//! argument type is checked on its own, through a bound spanned at the
//! user's type, and the return type through an `impl IntoResponse` spanned
//! at the user's return type. What `main` finally serves is a handler
//! whatever the user wrote, so no mistake is reported a second time, as
//! "not an Fn handler" about the generated wrapper.
//!
//! Spans: tokens that name items or paths may carry the user's spans (that
//! is where errors then point); local variables keep the macro's own, or
//! they would not resolve when the user's tokens come from a `macro_rules!`
//! macro.

use proc_macro2::{Span, TokenStream, TokenTree};
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
    // `impl Future<Output = impl IntoResponse>`, all of it spanned at the
    // user's return type: a type that is no response is reported there,
    // once (an `async fn` would report it a second time, at its body, which
    // is the attribute).
    let output = match &func.sig.output {
        ReturnType::Default => quote!(impl ::core::future::Future<Output = ()>),
        ReturnType::Type(_, ty) => {
            let span = ty.span();
            let bound = respan(
                quote!(::core::future::Future<Output = impl #fdk::IntoResponse>),
                span,
            );
            quote_spanned!(span=> impl #bound)
        }
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
            let span = *span;
            let private = respan(private.clone(), span);
            quote_spanned!(span=> #private::multi_thread::<()>(#workers))
        }
    };

    let handler = checked_handler(args, options, name.span(), &fdk, &private);
    let serve = match &options.init {
        // At the init's path: what this call can report is about the init.
        Some(init) => {
            let span = init.span();
            let main_with_init = respan(quote!(#private::main_with_init), span);
            quote_spanned!(span=> #main_with_init(#flavor, #init, #handler))
        }
        None => quote!(#private::main(#flavor, #handler)),
    };

    let wrapper = quote! {
        fn __fdk_handler(#(#params),*) -> #output {
            async move { #call }
        }
    };

    quote! {
        #func

        fn main() -> ::std::process::ExitCode {
            #wrapper
            #serve
        }
    }
}

/// The handler `main` serves: the wrapper, checked argument by argument.
///
/// A local function takes one `PhantomData` per argument, spanned at the
/// user's type, and bounds each argument type on its own, so a type that
/// is no extractor is reported there. It returns the handler type-erased
/// (a concrete type, not `impl Handler`, whose every use would report the
/// bounds again), so the serving call itself cannot fail as well.
fn checked_handler(
    args: &[Arg],
    options: &Options,
    name: Span,
    fdk: &TokenStream,
    private: &TokenStream,
) -> TokenStream {
    // The state: `()` without init; with it, `Arc<X>`, `X` what the init
    // builds, inferred from the marker (the first argument, so before any
    // argument bound can guess it).
    let (init_generic, state, marker) = match &options.init {
        Some(init) => {
            let span = init.span();
            let at_init = respan(private.clone(), span);
            (
                Some(quote!(
                    __FdkInit: ::core::marker::Send + ::core::marker::Sync + 'static,
                )),
                quote!(::std::sync::Arc<__FdkInit>),
                quote_spanned!(span=> #at_init::state_of_init(&#init)),
            )
        }
        None => (None, quote!(()), quote!(#private::no_state())),
    };
    let last = args.len().saturating_sub(1);
    let idents: Vec<_> = (0..args.len())
        .map(|i| format_ident!("__FdkArg{i}"))
        .collect();
    // How the last argument is extracted (`Handler`'s `M`): inferred,
    // unless it is a `State<T>`, which is extracted from the head.
    let mut via = quote!(__FdkVia);
    let mut via_generic = (!args.is_empty()).then(|| quote!(__FdkVia,));
    let mut takes_state = false;
    let bounds: Vec<_> = args
        .iter()
        .zip(&idents)
        .enumerate()
        .map(|(i, (arg, ident))| {
            let span = arg.ty.span();
            let bound = if arg.state && options.init.is_some() {
                takes_state = true;
                if i == last {
                    via = quote!(#fdk::extract::private::ViaParts);
                    via_generic = None;
                }
                quote!(StateOfInit<__FdkInit>)
            } else if i == last {
                quote!(#fdk::extract::FromRequest<#state, __FdkVia> + ::core::marker::Send)
            } else {
                quote!(#fdk::extract::FromRequestParts<#state> + ::core::marker::Send)
            };
            let bound = respan(bound, span);
            quote_spanned!(span=> #ident: #bound)
        })
        .collect();
    // One value per argument type, a `const` (an item: found whatever
    // macro the user's tokens come from), named outside the block of local
    // items (which would shadow the user's types of the same name). It is
    // passed as `&NAME`, `&` at the type's first token and `NAME` at its
    // last: where a bound is not met, the compiler points at the argument
    // passed, so at all of the user's type (`Option<u32>`, not `Option`).
    let witnesses: Vec<_> = args
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            let ty = &arg.ty;
            let name = format_ident!("__FDK_TYPE{i}");
            let binding = quote! {
                const #name: ::core::marker::PhantomData<#ty> = ::core::marker::PhantomData;
            };
            let amp = quote_spanned!(ty.span()=> &);
            let name = format_ident!("__FDK_TYPE{i}", span = last_span(ty));
            (binding, quote!(#amp #name))
        })
        .collect();
    let witness_consts = witnesses.iter().map(|(binding, _)| binding);
    let witness_refs = witnesses.iter().map(|(_, passed)| passed);
    // `State<T>` against what the init builds, with a message that says so.
    let state_of_init = takes_state.then(|| {
        quote! {
            #[diagnostic::on_unimplemented(
                message = "the handler takes `{Self}`, but the init function builds `{T}`",
                label = "expected `State<{T}>`",
                note = "a `State<T>` argument is the `T` that the init function returns in `Ok`"
            )]
            trait StateOfInit<T>:
                #fdk::extract::FromRequestParts<::std::sync::Arc<T>>
                + #fdk::extract::FromRequest<::std::sync::Arc<T>, #fdk::extract::private::ViaParts>
                + ::core::marker::Send
            {
            }
            impl<T: ::core::marker::Send + ::core::marker::Sync> StateOfInit<T> for #fdk::State<T> {}
        }
    });
    // `Handler`'s argument list: `((),)` for none, else `(M, T1, .., Tn)`.
    let arg_types = if args.is_empty() {
        quote!(((),))
    } else {
        quote!((#via, #(#idents,)*))
    };
    // The call, at the user's function name: what it reports that no
    // argument is to blame for (a future that is not `Send`, say) is
    // reported there.
    let call = respan(quote!(handler_arguments), name);
    let mut call_args = proc_macro2::Group::new(
        proc_macro2::Delimiter::Parenthesis,
        quote!(__fdk_state, #(#witness_refs,)* __fdk_handler),
    );
    // Only the parentheses: the local `__fdk_state` inside keeps the
    // macro's own span, or it would not be found when the user's tokens
    // come from a `macro_rules!` macro (hygiene).
    call_args.set_span(name);
    quote! {{
        let __fdk_state = #marker;
        #(#witness_consts)*
        {
            #state_of_init

            #[allow(clippy::too_many_arguments, clippy::type_complexity)]
            fn handler_arguments<__FdkF, __FdkFut, #via_generic #init_generic #(#idents),*>(
                _: #private::StateMarker<#state>,
                #(_: &::core::marker::PhantomData<#idents>,)*
                handler: __FdkF,
            ) -> #private::Erased<#state>
            where
                __FdkF: ::core::ops::FnOnce(#(#idents),*) -> __FdkFut
                    + ::core::clone::Clone
                    + ::core::marker::Send
                    + ::core::marker::Sync
                    + 'static,
                __FdkFut: ::core::future::Future + ::core::marker::Send + 'static,
                __FdkFut::Output: #fdk::IntoResponse,
                #(#bounds,)*
            {
                let reads_context =
                    <__FdkF as #fdk::Handler<#arg_types, #state>>::reads_context(&handler);
                #private::Erased::new(reads_context, move |req, state| {
                    ::std::boxed::Box::pin(
                        <__FdkF as #fdk::Handler<#arg_types, #state>>::call(
                            ::core::clone::Clone::clone(&handler),
                            req,
                            state,
                        ),
                    )
                })
            }
            #call #call_args
        }
    }}
}

/// `tokens` with every span set to `span`, so that errors about the
/// expression they build point at the user's tokens, not the attribute.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut new =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                new.set_span(span);
                tree = TokenTree::Group(new);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// The span of the last token of `ty` (its closing `>`, say).
fn last_span(ty: &syn::Type) -> Span {
    quote::ToTokens::to_token_stream(ty)
        .into_iter()
        .last()
        .map_or_else(Span::call_site, |tree| match tree {
            TokenTree::Group(group) => group.span_close(),
            other => other.span(),
        })
}
