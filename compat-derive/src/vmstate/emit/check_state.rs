//! The check-only twin of a struct's load (`check_state`): the same reads
//! in the same order, writing nothing, so that a stream can be checked
//! whole before any device is written — when every field has such a twin.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{field_code, gate_load, private, scalar_variant};
use crate::vmstate::model::{FieldModel, Kind, Scalar, VmStateModel};

/// `CHECK_IN_PLACE` and `check_state`, from each field's check-only twin
/// (`checks`, in field order); `None` when the struct has no such check.
pub(super) fn check_state_fn(
    m: &VmStateModel,
    checks: Vec<Option<TokenStream>>,
    has_subsections: bool,
) -> Option<TokenStream> {
    let p = private();
    let name = &m.name;
    // A check that writes nothing exists when every field has one, no hook
    // runs on load and no subsection may follow.
    let hooks = m.pre_load.is_some() || m.post_load.is_some();
    let checks: Option<Vec<TokenStream>> = if hooks || has_subsections {
        None
    } else {
        checks.into_iter().collect()
    };
    checks.map(|checks| {
        let nested: Vec<TokenStream> = m.fields.iter().filter_map(nested_check).collect();
        quote! {
            const CHECK_IN_PLACE: bool = true #(&& #nested)*;

            #[allow(unused_variables)]
            fn check_state(
                &self,
                r: &mut #p::StreamReader<'_>,
                version_id: u32,
            ) -> ::core::result::Result<(), #p::LoadError> {
                #p::check_version(<Self as __compat::VMState>::DESCRIPTION, r, version_id)?;
                #(#checks)*
                if let ::core::option::Option::Some((sub, _, at)) = #p::next_subsection(r, #name)? {
                    return ::core::result::Result::Err(#p::unknown_subsection(sub, #name, at));
                }
                ::core::result::Result::Ok(())
            }
        }
    })
}

/// The check-only twin of field `f`'s load: the same reads in the same
/// order, failing exactly where the load fails, writing nothing — so that a
/// stream can be checked whole before any device is written. `None` for a
/// field whose reads depend on what the load wrote before them (existence
/// tests, check masks, lengths from other fields) or that allocates
/// (lists, maps).
pub(super) fn field_check(f: &FieldModel) -> Option<TokenStream> {
    // A check mask is a function of the value, which the load has changed
    // by the time it asks: the check could not ask the same value.
    if f.exists.is_some() || f.mask.is_some() {
        return None;
    }
    let p = private();
    let (member, ty, wire) = (f.member, f.ty, &f.wire);
    let in_field = quote!(.map_err(|e| e.in_field(#wire))?);
    let code = match &f.kind {
        Kind::Array(Scalar::U8, _) if f.must_match => quote! {
            {
                let at = r.offset();
                let incoming = r.get_bytes(self.#member.len())#in_field;
                #p::must_match_bytes(incoming, &self.#member, ::core::option::Option::None, at)
                    #in_field;
            }
        },
        // A compared scalar or array is read and compared, never written.
        Kind::Scalar(_) | Kind::Array(..) if f.must_match => field_code(f).load,
        Kind::Scalar(s) => {
            let sv = scalar_variant(*s);
            quote! { r.skip(#sv.size())#in_field; }
        }
        Kind::Array(s, _) => {
            let sv = scalar_variant(*s);
            quote! { r.skip(self.#member.len() * #sv.size())#in_field; }
        }
        Kind::Array2D(s, ..) => {
            let sv = scalar_variant(*s);
            quote! {
                for row in self.#member.iter() {
                    r.skip(row.len() * #sv.size())#in_field;
                }
            }
        }
        Kind::Struct => {
            let vs = quote_spanned!(ty.span()=> <#ty as __compat::VMState>);
            quote! {
                #vs::check_state(&self.#member, r, #vs::DESCRIPTION.version_id)#in_field;
            }
        }
        Kind::StructArray(elem, _) => {
            let vs = quote_spanned!(elem.span()=> <#elem as __compat::VMState>);
            quote! {
                for (i, e) in self.#member.iter().enumerate() {
                    #vs::check_state(e, r, #vs::DESCRIPTION.version_id)
                        .map_err(|err| err.in_field(&::std::format!("{}[{}]", #wire, i)))?;
                }
            }
        }
        Kind::Unused(_) => field_code(f).load,
        Kind::Skip => TokenStream::new(),
        Kind::VarArray { .. }
        | Kind::StructVarArray { .. }
        | Kind::NullableArray { .. }
        | Kind::List { .. }
        | Kind::Map { .. }
        | Kind::Tmp(_)
        | Kind::Subsection(..) => return None,
    };
    Some(gate_load(f, code))
}

/// For a nested struct field: whether its type checks in place too.
fn nested_check(f: &FieldModel) -> Option<TokenStream> {
    let of =
        |ty: &syn::Type| quote_spanned!(ty.span()=> <#ty as __compat::VMState>::CHECK_IN_PLACE);
    match &f.kind {
        Kind::Struct => Some(of(f.ty)),
        Kind::StructArray(elem, _) => Some(of(elem)),
        _ => None,
    }
}
