//! The attribute's options: `init = path`, `flavor = "..."`,
//! `worker_threads = N`, `crate = "path"`.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, MetaNameValue, Path, Token};

const KEYS: &str = "`init`, `flavor`, `worker_threads`, `crate`";

#[derive(Default)]
pub(crate) struct Options {
    pub(crate) init: Option<Path>,
    pub(crate) flavor: Flavor,
    pub(crate) krate: Option<Path>,
}

#[derive(Default)]
pub(crate) enum Flavor {
    #[default]
    CurrentThread,
    MultiThread {
        workers: Option<syn::LitInt>,
        span: Span,
    },
}

pub(crate) fn options(attr: TokenStream) -> syn::Result<Options> {
    let pairs = Punctuated::<MetaNameValue, Token![,]>::parse_terminated
        .parse2(attr)
        .map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected `key = value` options separated by commas ({KEYS})"),
            )
        })?;
    let mut options = Options::default();
    let mut seen: Vec<String> = Vec::new();
    let mut multi_thread: Option<Span> = None;
    let mut workers: Option<syn::LitInt> = None;
    for pair in pairs {
        let key = pair
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        if seen.contains(&key) {
            return Err(syn::Error::new_spanned(
                &pair.path,
                format!("`{key}` is set more than once"),
            ));
        }
        seen.push(key.clone());
        match key.as_str() {
            "init" => {
                options.init = Some(path_value(
                    &pair.value,
                    "init",
                    "the init function's path, `init = setup`",
                )?)
            }
            "crate" => {
                let text = str_value(&pair.value, "crate", "a string, `crate = \"my_fdk\"`")?;
                options.krate = Some(text.parse()?);
            }
            "flavor" => {
                let text = str_value(
                    &pair.value,
                    "flavor",
                    "`\"current_thread\"` or `\"multi_thread\"`",
                )?;
                match text.value().as_str() {
                    "current_thread" => {}
                    "multi_thread" => multi_thread = Some(text.span()),
                    other => {
                        return Err(syn::Error::new_spanned(
                            &text,
                            format!(
                                "unknown flavor `{other}`; expected `\"current_thread\"` or `\"multi_thread\"`"
                            ),
                        ));
                    }
                }
            }
            "worker_threads" => match &pair.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Int(n), ..
                }) => workers = Some(n.clone()),
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        "`worker_threads` takes a number, `worker_threads = 2`",
                    ));
                }
            },
            _ => {
                return Err(syn::Error::new_spanned(
                    &pair.path,
                    format!(
                        "unknown option `{}`; the options are {KEYS}",
                        quote::ToTokens::to_token_stream(&pair.path)
                            .to_string()
                            .replace(' ', "")
                    ),
                ));
            }
        }
    }
    match (multi_thread, workers) {
        (Some(span), workers) => options.flavor = Flavor::MultiThread { workers, span },
        (None, Some(n)) => {
            return Err(syn::Error::new_spanned(
                n,
                "`worker_threads` needs `flavor = \"multi_thread\"`",
            ));
        }
        (None, None) => {}
    }
    Ok(options)
}

fn path_value(value: &Expr, key: &str, expected: &str) -> syn::Result<Path> {
    match value {
        Expr::Path(p) if p.qself.is_none() => Ok(p.path.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` takes {expected}"),
        )),
    }
}

fn str_value(value: &Expr, key: &str, expected: &str) -> syn::Result<syn::LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` takes {expected}"),
        )),
    }
}
