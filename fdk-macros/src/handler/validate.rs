//! Checks the function's shape. Argument and return *types* are checked by
//! the compiler, through bounds the expansion spans at the user's types.

use syn::spanned::Spanned;
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
    pub(crate) fn into_result(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
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
}

/// Types that read the body, by the last segment of their path.
const BODY_EXTRACTORS: [&str; 5] = ["Bytes", "String", "Vec", "Json", "Body"];

pub(crate) fn function(func: &ItemFn, errors: &mut Errors) -> Vec<Arg> {
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
            "a handler cannot be `unsafe`",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            "a handler cannot have an `extern` ABI",
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
                "a handler cannot take `self`: it must be a free function",
            )),
            FnArg::Typed(typed) => match argument(&typed.ty) {
                Ok(arg) => args.push(arg),
                Err(err) => errors.push(err),
            },
        }
    }

    let body_args: Vec<(usize, &Arg)> = args.iter().enumerate().filter(|(_, a)| a.body).collect();
    if body_args.len() > 1 {
        for (_, extra) in &body_args[1..] {
            errors.push(syn::Error::new_spanned(
                &extra.ty,
                "only one argument may read the request body; take the body once (`Bytes`, `String`, `Vec<u8>`, `Json<T>` or `Body`)",
            ));
        }
    } else if let Some((index, body)) = body_args.first() {
        if *index + 1 != args.len() {
            errors.push(syn::Error::new_spanned(
                &body.ty,
                "the argument that reads the request body must be the last one",
            ));
        }
    }
    args
}

fn argument(ty: &Type) -> syn::Result<Arg> {
    match ty {
        Type::Reference(reference) => {
            if let Some(m) = &reference.mutability {
                return Err(syn::Error::new_spanned(
                    m,
                    "a handler cannot take `&mut` arguments; take the extractor by value",
                ));
            }
            if last_segment(&reference.elem).as_deref() == Some("Context") {
                Ok(Arg {
                    ty: (*reference.elem).clone(),
                    by_ref: true,
                    body: false,
                })
            } else {
                Err(syn::Error::new_spanned(
                    ty,
                    "only `&Context` may be borrowed; take other extractors by value",
                ))
            }
        }
        Type::ImplTrait(_) => Err(syn::Error::new(
            ty.span(),
            "a handler cannot take `impl Trait` arguments: it cannot be generic",
        )),
        _ => Ok(Arg {
            ty: ty.clone(),
            by_ref: false,
            body: last_segment(ty).is_some_and(|s| BODY_EXTRACTORS.contains(&s.as_str())),
        }),
    }
}

fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Paren(p) => last_segment(&p.elem),
        Type::Group(g) => last_segment(&g.elem),
        _ => None,
    }
}
