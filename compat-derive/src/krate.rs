//! Where generated code finds the runtime. Every path it names goes
//! through one hidden module, `compat_core::__private`, imported once as
//! `__compat` inside an anonymous `const _: () = { ... };` block around the
//! generated items; a crate that re-exports `compat-core` under another
//! path says so with `crate = "path"` (as serde's `#[serde(crate = "...")]`).

use proc_macro2::TokenStream;
use quote::quote;

/// The default path of the runtime.
fn default_path() -> syn::Path {
    syn::parse_quote!(::compat_core)
}

/// The runtime's path for an item whose container attribute is `#[attr]`:
/// the value of its `crate = "..."` key, or `::compat_core`. A malformed
/// value is reported by the attribute's own reader; here it falls back to
/// the default.
pub fn from_attrs(attrs: &[syn::Attribute], attr: &str) -> syn::Path {
    let mut found = None;
    for a in attrs.iter().filter(|a| a.path().is_ident(attr)) {
        let _ = a.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                found = lit.parse::<syn::Path>().ok();
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
                let _ = _content.parse::<TokenStream>()?;
            }
            Ok(())
        });
    }
    found.unwrap_or_else(default_path)
}

/// Read `"path"` as the runtime's path.
pub fn parse(lit: &syn::LitStr) -> syn::Result<syn::Path> {
    lit.parse::<syn::Path>().map_err(|_| {
        syn::Error::new(
            lit.span(),
            "`crate` takes a path, e.g. crate = \"my::compat\"",
        )
    })
}

/// `body` in an anonymous const block that imports the runtime's hidden
/// module as `__compat`.
pub fn wrap(krate: &syn::Path, body: TokenStream) -> TokenStream {
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_imports, unused_qualifications)]
        const _: () = {
            use #krate::__private as __compat;
            #body
        };
    }
}

/// The hidden module itself, for items that must stay outside a block
/// (the constants `compat_set!` declares).
pub fn private(krate: &syn::Path) -> TokenStream {
    quote!(#krate::__private)
}

/// The default path, for macros without attributes.
pub fn default() -> syn::Path {
    default_path()
}

/// `tokens` with every span set to `span`, so that an error in code built
/// around them (a failed const check) points at the user's token.
pub fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut inner = Group::new(g.delimiter(), respan(g.stream(), span));
                inner.set_span(span);
                return TokenTree::Group(inner);
            }
            tt.set_span(span);
            tt
        })
        .collect()
}
