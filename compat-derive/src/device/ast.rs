//! Stage 2 of `#[derive(Device)]`: the struct as a model — its attributes
//! as written, per field — with no rules applied yet.

use syn::Ident;

use super::attrs::{DeviceAttrs, FieldAttrs};
use crate::attr::{doc_summary, struct_fields, StructDerive};
use crate::ctxt::Ctxt;

/// The struct as written.
pub struct Container<'a> {
    pub ident: &'a Ident,
    pub attrs: DeviceAttrs,
    /// `#[property(...)]` written on the struct itself.
    pub misplaced: Vec<&'a syn::Attribute>,
    pub description: String,
    pub fields: Vec<Field<'a>>,
    /// `false` for a unit struct.
    pub braced: bool,
}

/// One field as written.
pub struct Field<'a> {
    pub member: &'a Ident,
    pub ty: &'a syn::Type,
    pub vis: &'a syn::Visibility,
    pub attrs: FieldAttrs<'a>,
    /// The first paragraph of its doc comment.
    pub doc: String,
}

impl<'a> Container<'a> {
    pub fn from_input(cx: &Ctxt, input: &'a syn::DeriveInput) -> Option<Self> {
        let fields = struct_fields(
            cx,
            input,
            &StructDerive {
                derive: "#[derive(Device)]",
                why_named: "a struct with named fields (or a unit struct): properties and the \
                            parent are found by field name",
                enum_hint: " (for an enum property type, derive `PropertyEnum`)",
                generic_hint: ": a device type is one concrete type",
            },
        )?;
        let braced = matches!(
            &input.data,
            syn::Data::Struct(s) if matches!(s.fields, syn::Fields::Named(_))
        );
        let misplaced = input
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("property"))
            .collect();
        let attrs = DeviceAttrs::read(cx, &input.attrs);
        let fields = fields
            .into_iter()
            .map(|f| Field {
                member: f.ident.as_ref().expect("named field"),
                ty: &f.ty,
                vis: &f.vis,
                attrs: FieldAttrs::read(cx, &f.attrs),
                doc: doc_summary(&f.attrs),
            })
            .collect();
        Some(Container {
            ident: &input.ident,
            attrs,
            misplaced,
            description: doc_summary(&input.attrs),
            fields,
            braced,
        })
    }
}
