//! The code of `Kind::NullableArray`: `[Option<T>; N]` or
//! `[Option<Box<T>>; N]` of scalars or of another `VMState` type, an empty
//! slot being the null marker on the wire.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Expr;

use super::{field_desc, field_names, scalar_variant, FieldCode, FieldNames};
use crate::vmstate::model::{FieldModel, Scalar};

/// The code of one filled slot's element, `v` in it.
struct Element {
    save: TokenStream,
    /// A `Result` expression: the load of `v`, error not yet mapped.
    load: TokenStream,
    /// A closure from the element to its `FieldLayout`.
    layout: TokenStream,
    /// Its `Element` in the description.
    kind: TokenStream,
    ty: TokenStream,
}

/// How a slot's element is reached: `Option<T>` or `Option<Box<T>>`.
struct Slot {
    as_ref: TokenStream,
    as_mut: TokenStream,
    /// Makes an element into what the slot holds.
    wrap: TokenStream,
}

/// `Kind::NullableArray`: `alloc` says whether every slot is marked.
pub(super) fn nullable_array(
    f: &FieldModel,
    elem_struct: Option<&syn::Type>,
    scalar: Option<Scalar>,
    boxed: bool,
    len: &Expr,
    alloc: bool,
) -> FieldCode {
    let FieldNames { p, .. } = field_names(f);
    let slot = if boxed {
        Slot {
            as_ref: quote!(slot.as_deref()),
            as_mut: quote!(slot.as_deref_mut()),
            wrap: quote!(::std::boxed::Box::new),
        }
    } else {
        Slot {
            as_ref: quote!(slot.as_ref()),
            as_mut: quote!(slot.as_mut()),
            wrap: TokenStream::new(),
        }
    };
    let elem = element(f, elem_struct, scalar);
    let (save, load, layout) = if alloc {
        marked_slots(f, &slot, &elem)
    } else {
        nullable_runs(f, &slot, &elem, elem_struct)
    };
    let elem_kind = &elem.kind;
    FieldCode {
        desc: Some(field_desc(
            f,
            quote!(#p::FieldKind::NullableArray { elem: #elem_kind, len: #len, alloc: #alloc }),
        )),
        save,
        load,
        layout,
    }
}

/// The element of a slot: a nested `VMState` type, else a scalar.
fn element(f: &FieldModel, elem_struct: Option<&syn::Type>, scalar: Option<Scalar>) -> Element {
    let FieldNames { p, layout_name, .. } = field_names(f);
    match (elem_struct, scalar) {
        (Some(ety), _) => {
            let vs = quote_spanned!(ety.span()=> <#ety as __compat::VMState>);
            Element {
                save: quote!(#vs::save_state(v, w)?;),
                load: quote!(#vs::load_state(v, r, #vs::DESCRIPTION.version_id)),
                layout: quote!(|v| #p::FieldLayout::nested(#layout_name, #vs::layout(v))),
                kind: quote!(#p::Element::Struct(#vs::DESCRIPTION)),
                ty: quote!(#ety),
            }
        }
        (None, s) => {
            let s = s.expect("a scalar element when not a struct");
            let put = format_ident!("put_{}", s.method());
            let get = format_ident!("get_{}", s.method());
            let sv = scalar_variant(s);
            let ty = format_ident!("{}", s.method());
            Element {
                save: quote!(w.#put(*v);),
                load: quote!(r.#get().map(|x| *v = x)),
                layout: quote!(|_| #p::FieldLayout::value(#layout_name, #sv.info_name(false), #sv.size())),
                kind: quote!(#p::Element::Scalar(#sv)),
                ty: quote!(#ty),
            }
        }
    }
}

/// `alloc`: every slot is marked, valid or null, and the stream decides
/// which are filled: a load fills a slot from a default element or empties
/// it. Save, load and layout code.
fn marked_slots(
    f: &FieldModel,
    slot: &Slot,
    elem: &Element,
) -> (TokenStream, TokenStream, TokenStream) {
    let FieldNames {
        p,
        member,
        wire,
        layout_name,
        ..
    } = field_names(f);
    let Slot {
        as_ref: slot_ref,
        as_mut: slot_mut,
        wrap,
    } = slot;
    let Element {
        save: save_elem,
        load: load_elem,
        layout: layout_elem,
        ty: elem_ty,
        ..
    } = elem;
    (
        quote! {
            for slot in self.#member.iter_mut() {
                match #slot_mut {
                    ::core::option::Option::None => w.put_u8(#p::NULL_MARKER),
                    ::core::option::Option::Some(v) => {
                        w.put_u8(#p::VALID_MARKER);
                        #save_elem
                    }
                }
            }
        },
        quote! {
            for (i, slot) in self.#member.iter_mut().enumerate() {
                let at = |e: #p::LoadError| {
                    e.in_field(&::std::format!("{}[{}]", #wire, i))
                };
                *slot = if #p::slot_marker(r).map_err(at)? {
                    let mut e: #elem_ty = ::core::default::Default::default();
                    {
                        let v = &mut e;
                        #load_elem.map_err(at)?;
                    }
                    ::core::option::Option::Some(#wrap(e))
                } else {
                    ::core::option::Option::None
                };
            }
        },
        quote! {
            fields.extend(#p::FieldLayout::marked_slots(
                #layout_name,
                self.#member.iter().map(|slot| #slot_ref.map(#layout_elem)),
            ));
        },
    )
}

/// Without `alloc`: the slots stay as they are; an empty one is a null
/// marker on the wire, a filled one its element. Save, load and layout
/// code.
fn nullable_runs(
    f: &FieldModel,
    slot: &Slot,
    elem: &Element,
    elem_struct: Option<&syn::Type>,
) -> (TokenStream, TokenStream, TokenStream) {
    let FieldNames {
        p,
        member,
        wire,
        layout_name,
        ..
    } = field_names(f);
    let Slot {
        as_ref: slot_ref,
        as_mut: slot_mut,
        ..
    } = slot;
    let Element {
        save: save_elem,
        load: load_elem,
        layout: layout_elem,
        ..
    } = elem;
    // QEMU describes an array by its first element only when it can
    // compress it (`vmsd_can_compress`).
    let no_exists = f.exists.is_none();
    let compress = match elem_struct {
        Some(ety) => {
            quote!(#no_exists && <#ety as __compat::VMState>::DESCRIPTION.can_compress())
        }
        None => quote!(#no_exists),
    };
    (
        quote! {
            for slot in self.#member.iter_mut() {
                match #slot_mut {
                    ::core::option::Option::None => w.put_u8(#p::NULL_MARKER),
                    ::core::option::Option::Some(v) => { #save_elem }
                }
            }
        },
        quote! {
            for (i, slot) in self.#member.iter_mut().enumerate() {
                let at = |e: #p::LoadError| {
                    e.in_field(&::std::format!("{}[{}]", #wire, i))
                };
                match #slot_mut {
                    ::core::option::Option::None => #p::null_marker(r).map_err(at)?,
                    ::core::option::Option::Some(v) => #load_elem.map_err(at)?,
                }
            }
        },
        quote! {
            fields.extend(#p::FieldLayout::nullable_runs(
                #layout_name,
                self.#member.iter().map(|slot| #slot_ref.map(#layout_elem)),
                #compress,
            ));
        },
    )
}
