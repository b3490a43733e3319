//! `compat_set!`: compat sets whose entries are checked by the compiler
//! where the device type is a Rust type in scope.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{braced, bracketed, Attribute, Expr, ExprLit, Ident, Lit, LitStr, Token, Visibility};

use crate::attr::{check_name, type_text};
use crate::ctxt::Ctxt;

/// Every set declared in one `compat_set! { ... }`, and where the runtime
/// is (`crate = "path";` first, for a crate that re-exports it).
pub struct Sets {
    krate: syn::Path,
    sets: Vec<SetDecl>,
}

struct SetDecl {
    attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    name: LitStr,
    entries: Vec<Entry>,
}

struct Entry {
    driver: Driver,
    property: LitStr,
    value: Expr,
}

enum Driver {
    /// `"e1000e"`: checked when the release is built.
    Name(LitStr),
    /// `PciDevice`: checked by the compiler.
    Type(Box<syn::Type>),
}

impl Parse for Sets {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut krate = crate::krate::default();
        if input.peek(Token![crate]) && input.peek2(Token![=]) {
            input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            krate = crate::krate::parse(&input.parse()?)?;
            input.parse::<Token![;]>()?;
        }
        let mut sets = Vec::new();
        while !input.is_empty() {
            sets.push(input.parse()?);
        }
        Ok(Sets { krate, sets })
    }
}

impl Parse for SetDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let name = input.parse()?;
        let content;
        bracketed!(content in input);
        let entries: Punctuated<Entry, Token![,]> =
            content.parse_terminated(Entry::parse, Token![,])?;
        input.parse::<Token![;]>()?;
        Ok(SetDecl {
            attrs,
            vis,
            ident,
            name,
            entries: entries.into_iter().collect(),
        })
    }
}

impl Parse for Entry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        braced!(content in input);
        let driver = if content.peek(LitStr) {
            Driver::Name(content.parse()?)
        } else {
            Driver::Type(content.parse()?)
        };
        content.parse::<Token![,]>()?;
        let property = content.parse()?;
        content.parse::<Token![,]>()?;
        let value = content.parse()?;
        if content.peek(Token![,]) {
            content.parse::<Token![,]>()?;
        }
        Ok(Entry {
            driver,
            property,
            value,
        })
    }
}

impl Driver {
    fn text(&self) -> String {
        match self {
            Driver::Name(lit) => lit.value(),
            Driver::Type(ty) => type_text(ty),
        }
    }
}

/// The text of a value written as a literal: strings as they are, integers
/// in decimal, booleans as `on`/`off`.
fn value_text(cx: &Ctxt, value: &Expr) -> Option<String> {
    match crate::attr::ungrouped(value) {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Str(s) => Some(s.value()),
            Lit::Int(i) => Some(i.base10_digits().to_owned()),
            Lit::Bool(b) => Some(if b.value { "on" } else { "off" }.to_owned()),
            _ => {
                cx.error_spanned_by(
                    value,
                    "a compat-set value is a string, integer or bool literal",
                );
                None
            }
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            match crate::attr::ungrouped(&u.expr) {
                Expr::Lit(ExprLit {
                    lit: Lit::Int(i), ..
                }) => Some(format!("-{}", i.base10_digits())),
                _ => {
                    cx.error_spanned_by(
                        value,
                        "a compat-set value is a string, integer or bool literal",
                    );
                    None
                }
            }
        }
        _ => {
            cx.error_spanned_by(
                value,
                "a compat-set value is a string, integer or bool literal",
            );
            None
        }
    }
}

/// Every set as a constant. With mistakes, the errors and the constants
/// with the entries that are right: code naming a set does not fail too.
pub fn expand(sets: Sets) -> TokenStream {
    let cx = Ctxt::new();
    let mut out = TokenStream::new();
    for set in &sets.sets {
        out.extend(expand_set(&cx, &sets.krate, set));
    }
    if let Err(errors) = cx.check() {
        out.extend(errors.into_compile_error());
    }
    out
}

fn expand_set(cx: &Ctxt, krate: &syn::Path, set: &SetDecl) -> TokenStream {
    let p = crate::krate::private(krate);
    check_name(cx, &set.name, "compat set name", &[]);
    let set_name = &set.name;
    let mut seen: HashMap<(String, String), ()> = HashMap::new();
    let mut entries = Vec::new();
    let mut checks = Vec::new();
    for entry in &set.entries {
        check_name(cx, &entry.property, "property name", &[]);
        let Some(value) = value_text(cx, &entry.value) else {
            continue;
        };
        let key = (entry.driver.text(), entry.property.value());
        if seen.insert(key.clone(), ()).is_some() {
            cx.error_spanned_by(
                &entry.property,
                format!(
                    "compat set `{}` already sets `{}.{}`; one entry per property",
                    set.name.value(),
                    key.0,
                    key.1
                ),
            );
        }
        let property = &entry.property;
        let driver = match &entry.driver {
            Driver::Name(lit) => {
                check_name(cx, lit, "device type name", &['.']);
                lit.to_token_stream()
            }
            Driver::Type(ty) => {
                let at = |span| crate::krate::respan(p.clone(), span);
                let p_ty = at(ty.span());
                let info = quote_spanned!(ty.span()=> <#ty as #p_ty::Device>::TYPE);
                let p_property = at(property.span());
                checks.push(quote_spanned!(property.span()=>
                    const _: () = #p_property::check_compat_property(
                        #set_name, #info, #property, #value,
                    );
                ));
                let p_value = at(entry.value.span());
                checks.push(quote_spanned!(entry.value.span()=>
                    const _: () = #p_value::check_compat_value(
                        #set_name, #info, #property, #value,
                    );
                ));
                quote!(#info.name)
            }
        };
        entries.push(quote! {
            #p::GlobalProperty {
                driver: #driver,
                property: #property,
                value: #value,
            }
        });
    }
    let SetDecl {
        attrs, vis, ident, ..
    } = set;
    quote! {
        #(#attrs)*
        #vis const #ident: &'static #p::CompatSet = &#p::CompatSet {
            name: #set_name,
            entries: &[#(#entries),*],
        };
        #(#checks)*
    }
}
