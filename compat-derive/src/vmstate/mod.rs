//! `#[derive(VMState)]` in four stages, as serde_derive: the attributes as
//! written (`attrs`), the struct as a model with no rules (`ast`), the rules
//! applied to it (`check`, producing the checked `model`), and the code
//! (`emit`).

mod ast;
mod attrs;
mod check;
mod emit;
mod model;

use proc_macro2::TokenStream;

pub use emit::fallback;

pub fn expand(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    crate::stages(input, ast::Container::from_input, check::check, emit::emit)
}
