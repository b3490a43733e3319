//! `#[derive(PropertyEnum)]`: a closed enum usable as a property kind
//! (QEMU's QAPI enums such as `OnOffAuto` or `LostTickPolicy`).

use std::collections::HashMap;

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use syn::LitStr;

use crate::attr::{check_name, read_keys, value, Slot};
use crate::ctxt::Ctxt;

const ENUM_KEYS: &[&str] = &["name", "crate"];
const VARIANT_KEYS: &[&str] = &["name"];

pub fn expand(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let model = model(&cx, input);
    cx.check()?;
    let (type_name, variants) = model.expect("a model when there are no errors");
    let ident = &input.ident;
    let names: Vec<&String> = variants.iter().map(|(_, n)| n).collect();
    let idents: Vec<&syn::Ident> = variants.iter().map(|(v, _)| *v).collect();
    let indices: Vec<Literal> = (0..variants.len()).map(Literal::usize_unsuffixed).collect();
    let first = idents[0];
    Ok(quote! {
        #[automatically_derived]
        impl __compat::PropertyEnum for #ident {
            const INFO: &'static __compat::EnumInfo = &__compat::EnumInfo {
                name: #type_name,
                values: &[#(#names),*],
            };
            fn index(self) -> usize {
                match self {
                    #(Self::#idents => #indices,)*
                }
            }
            fn from_index(index: usize) -> ::core::option::Option<Self> {
                match index {
                    #(#indices => __compat::Some(Self::#idents),)*
                    _ => __compat::None,
                }
            }
        }

        #[automatically_derived]
        impl __compat::PropertyType for #ident {
            const KIND: __compat::PropertyKind = __compat::PropertyKind::Enum(
                <Self as __compat::PropertyEnum>::INFO,
            );
            fn to_value(&self) -> __compat::PropertyValue {
                <Self as __compat::PropertyEnum>::enum_value(*self)
            }
            fn from_value(value: &__compat::PropertyValue) -> ::core::option::Option<Self> {
                <Self as __compat::PropertyEnum>::from_enum_value(value)
            }
            fn zero() -> Self {
                Self::#first
            }
        }
    })
}

/// When the input has errors: the traits implemented with no values, so
/// that uses of the enum as a property do not add errors of their own.
pub fn fallback(input: &syn::DeriveInput) -> TokenStream {
    let syn::Data::Enum(data) = &input.data else {
        return TokenStream::new();
    };
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let name = ident.to_string();
    let zero = match data.variants.first() {
        Some(v) if matches!(v.fields, syn::Fields::Unit) => {
            let v = &v.ident;
            quote!(Self::#v)
        }
        _ => quote!(::core::unreachable!()),
    };
    quote! {
        impl __compat::PropertyEnum for #ident {
            const INFO: &'static __compat::EnumInfo = &__compat::EnumInfo {
                name: #name,
                values: &[],
            };
            fn index(self) -> usize {
                ::core::unreachable!()
            }
            fn from_index(_: usize) -> ::core::option::Option<Self> {
                __compat::None
            }
        }
        impl __compat::PropertyType for #ident {
            const KIND: __compat::PropertyKind = __compat::PropertyKind::Enum(
                <Self as __compat::PropertyEnum>::INFO,
            );
            fn to_value(&self) -> __compat::PropertyValue {
                ::core::unreachable!()
            }
            fn from_value(_: &__compat::PropertyValue) -> ::core::option::Option<Self> {
                __compat::None
            }
            fn zero() -> Self {
                #zero
            }
        }
    }
}

type Model<'a> = (String, Vec<(&'a syn::Ident, String)>);

fn model<'a>(cx: &Ctxt, input: &'a syn::DeriveInput) -> Option<Model<'a>> {
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "#[derive(PropertyEnum)] does not support generic parameters",
        );
    }
    let data = match &input.data {
        syn::Data::Enum(e) => e,
        syn::Data::Struct(s) => {
            cx.error_spanned_by(
                s.struct_token,
                "#[derive(PropertyEnum)] needs an enum of unit variants, not a struct",
            );
            return None;
        }
        syn::Data::Union(u) => {
            cx.error_spanned_by(
                u.union_token,
                "#[derive(PropertyEnum)] needs an enum of unit variants, not a union",
            );
            return None;
        }
    };
    let mut type_name: Slot<LitStr> = Slot::new("property_enum", "name");
    let _ = read_keys(
        cx,
        &input.attrs,
        "property_enum",
        ENUM_KEYS,
        |key, span, meta| {
            if key == "name" {
                type_name.set(cx, span, value(meta)?);
                Ok(())
            } else {
                crate::krate::parse(&value(meta)?).map(|_| ())
            }
        },
    );
    if data.variants.is_empty() {
        cx.error_spanned_by(
            &input.ident,
            "#[derive(PropertyEnum)] needs at least one variant: a property always has a value",
        );
    }
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    let mut variants = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, syn::Fields::Unit) {
            cx.error_spanned_by(
                &v.fields,
                format!(
                    "variant `{}` carries data; property enums have unit variants only",
                    v.ident
                ),
            );
        }
        let mut name: Slot<LitStr> = Slot::new("property_enum", "name");
        let _ = read_keys(
            cx,
            &v.attrs,
            "property_enum",
            VARIANT_KEYS,
            |_, span, meta| {
                name.set(cx, span, value(meta)?);
                Ok(())
            },
        );
        let value = match name.get() {
            Some(lit) => {
                check_name(cx, lit, "enum value name", &[]);
                lit.value()
            }
            None => kebab_case(&v.ident.to_string()),
        };
        if let Some(other) = seen.insert(value.clone(), &v.ident) {
            let at: &dyn quote::ToTokens = match name.get() {
                Some(lit) => lit,
                None => &v.ident,
            };
            cx.error_spanned_by(
                at,
                format!("enum value name `{value}` is already used by variant `{other}`"),
            );
        }
        variants.push((&v.ident, value));
    }
    let type_name = type_name
        .get()
        .map(LitStr::value)
        .unwrap_or_else(|| input.ident.to_string());
    Some((type_name, variants))
}

/// `DelayMore` → `delay-more`: QAPI enum values are lower case with dashes.
fn kebab_case(ident: &str) -> String {
    let mut out = String::new();
    for (i, c) in ident.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.extend(c.to_lowercase());
        } else if c == '_' {
            out.push('-');
        } else {
            out.push(c);
        }
    }
    out
}
