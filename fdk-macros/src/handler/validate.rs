//! Checks the function's shape, and what the names of its argument types
//! tell (one body extractor, last; `State<T>` only with an init). Whether
//! the types are extractors and responses is checked by the compiler,
//! through bounds the expansion spans at the user's types.

use syn::{FnArg, ItemFn, Type};

/// Collects every error, so the user sees all of them at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }
    pub(crate) fn to_compile_error(&self) -> proc_macro2::TokenStream {
        self.0
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }
}

/// One handler argument.
pub(crate) struct Arg {
    /// The type the extractor is, `Context` for `&Context`.
    pub(crate) ty: Type,
    /// Passed by reference (`&Context`).
    pub(crate) by_ref: bool,
    /// Reads the body, by the name of its type.
    pub(crate) body: bool,
    /// Is `State<T>`, by the name of its type.
    pub(crate) state: bool,
}

/// Types that read the body, by the last segment of their path.
const BODY_EXTRACTORS: [&str; 5] = ["Bytes", "String", "Vec", "Json", "Body"];

/// Checks the signature; `has_init` says whether the attribute names an
/// init function (without one there is no `State<T>` to take).
pub(crate) fn function(func: &ItemFn, has_init: bool, errors: &mut Errors) -> Vec<Arg> {
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            "a handler cannot be generic: the FDK needs concrete argument and return types",
        ));
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            "a handler cannot have a `where` clause: it cannot be generic",
        ));
    }
    if let Some(token) = &sig.unsafety {
        errors.push(syn::Error::new_spanned(
            token,
            "a handler cannot be `unsafe`: it must be a safe `fn` or `async fn`",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            "a handler cannot have an `extern` ABI: it must be a plain `fn` or `async fn`",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "a handler cannot be variadic",
        ));
    }
    if sig.ident == "main" {
        errors.push(syn::Error::new_spanned(
            &sig.ident,
            "name the handler something other than `main`: `#[fdk::handler]` generates `main`",
        ));
    }

    let mut args = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                receiver,
                "a handler cannot take `self`: it must be a free function, outside any `impl` or `trait` block",
            )),
            FnArg::Typed(typed) => match argument(&typed.ty, has_init) {
                Ok(arg) => args.push(arg),
                Err(err) => errors.push(err),
            },
        }
    }

    let body_args: Vec<(usize, &Arg)> = args.iter().enumerate().filter(|(_, a)| a.body).collect();
    if let Some((_, first)) = body_args.first() {
        for (_, extra) in &body_args[1..] {
            errors.push(syn::Error::new_spanned(
                &extra.ty,
                format!(
                    "only one argument may read the request body, and `{}` already does; take the body once, as `Bytes`, `String`, `Vec<u8>`, `Json<T>` or `Body`",
                    tokens_text(&first.ty)
                ),
            ));
        }
    }
    if let [(index, body)] = body_args.as_slice()
        && *index + 1 != args.len()
    {
        errors.push(syn::Error::new_spanned(
            &body.ty,
            "the argument that reads the request body must be the last one; put head extractors (`Context`, `State<T>`) before it",
        ));
    }
    args
}

fn argument(ty: &Type, has_init: bool) -> syn::Result<Arg> {
    match ty {
        Type::Reference(reference) => {
            let is_context = last_segment(&reference.elem).as_deref() == Some("Context");
            if reference.mutability.is_some() {
                let hint = if is_context {
                    "take `&Context` or `Context`".to_owned()
                } else {
                    format!("take `{}` by value", tokens_text(&reference.elem))
                };
                return Err(syn::Error::new_spanned(
                    ty,
                    format!("a handler cannot take `&mut` arguments; {hint}"),
                ));
            }
            if is_context {
                Ok(Arg {
                    ty: (*reference.elem).clone(),
                    by_ref: true,
                    body: false,
                    state: false,
                })
            } else {
                Err(syn::Error::new_spanned(
                    ty,
                    format!(
                        "only `&Context` may be borrowed; take `{}` by value",
                        tokens_text(&reference.elem)
                    ),
                ))
            }
        }
        Type::ImplTrait(_) => Err(syn::Error::new_spanned(
            ty,
            "a handler cannot take `impl Trait` arguments: it cannot be generic; take a concrete extractor such as `String` or `Json<T>`",
        )),
        _ if !has_init && is_state(ty) => Err(syn::Error::new_spanned(
            ty,
            "`State<T>` needs an init function that builds the `T`: `#[fdk::handler(init = setup)]`, with `fn setup() -> Result<T, E>`",
        )),
        _ => Ok(Arg {
            ty: ty.clone(),
            by_ref: false,
            body: last_segment(ty).is_some_and(|s| BODY_EXTRACTORS.contains(&s.as_str())),
            state: is_state(ty),
        }),
    }
}

fn last_segment(ty: &Type) -> Option<String> {
    path_segment(ty).map(|s| s.ident.to_string())
}

fn path_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Paren(p) => path_segment(&p.elem),
        Type::Group(g) => path_segment(&g.elem),
        _ => None,
    }
}

/// `State<T>` (or `fdk::State<T>`): the shared state, which only an init
/// function can build.
fn is_state(ty: &Type) -> bool {
    path_segment(ty).is_some_and(|s| {
        s.ident == "State"
            && matches!(&s.arguments, syn::PathArguments::AngleBracketed(a) if a.args.len() == 1)
    })
}

/// A type as the user would write it: `Json<Input>`, not `Json < Input >`.
fn tokens_text(ty: &Type) -> String {
    let text = quote::ToTokens::to_token_stream(ty).to_string();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let glue = c == ' '
            && (out.ends_with(['<', '&', ':', '('])
                || matches!(next, Some('<' | '>' | ',' | ':' | ')')));
        if !glue {
            out.push(c);
        }
    }
    out
}
