//! The code of the field kinds holding other `VMState` types: a nested
//! struct, arrays and `Vec`s of them, a temporary view, lists and maps.
//! Each names the type as `<T as VMState>` spanned on the type, so that
//! an error about the type points at it.

use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Expr;

use super::{field_desc, field_names, FieldCode, FieldNames};
use crate::vmstate::model::FieldModel;

/// `Kind::Struct`: another `VMState` type, saved in place.
pub(super) fn nested_struct(f: &FieldModel) -> FieldCode {
    let FieldNames {
        p,
        member,
        layout_name,
        in_field,
        ..
    } = field_names(f);
    let ty = f.ty;
    let vs = quote_spanned!(ty.span()=> <#ty as __compat::VMState>);
    FieldCode {
        desc: Some(field_desc(
            f,
            quote!(#p::FieldKind::Struct(#vs::DESCRIPTION)),
        )),
        save: quote! { #vs::save_state(&mut self.#member, w)?; },
        load: quote! {
            #vs::load_state(&mut self.#member, r, #vs::DESCRIPTION.version_id)#in_field;
        },
        layout: quote! {
            fields.push(#p::FieldLayout::nested(#layout_name, #vs::layout(&self.#member)));
        },
    }
}

/// `Kind::StructArray`: `[T; N]` of another `VMState` type.
pub(super) fn struct_array(f: &FieldModel, elem: &syn::Type, len: &Expr) -> FieldCode {
    let FieldNames {
        p,
        member,
        wire,
        layout_name,
        ..
    } = field_names(f);
    let vs = quote_spanned!(elem.span()=> <#elem as __compat::VMState>);
    let no_exists = f.exists.is_none();
    FieldCode {
        desc: Some(field_desc(
            f,
            quote!(#p::FieldKind::StructArray { elem: #vs::DESCRIPTION, len: #len }),
        )),
        save: quote! {
            for e in self.#member.iter_mut() {
                #vs::save_state(e, w)?;
            }
        },
        load: quote! {
            for (i, e) in self.#member.iter_mut().enumerate() {
                #vs::load_state(e, r, #vs::DESCRIPTION.version_id)
                    .map_err(|err| err.in_field(&::std::format!("{}[{}]", #wire, i)))?;
            }
        },
        layout: quote! {
            fields.extend(#p::FieldLayout::struct_array(
                #layout_name,
                self.#member.iter().map(|e| #vs::layout(e)).collect(),
                #no_exists && #vs::DESCRIPTION.can_compress(),
            ));
        },
    }
}

/// `Kind::StructVarArray`: a `Vec` of another `VMState` type whose length
/// is another field.
pub(super) fn struct_var_array(
    f: &FieldModel,
    elem: &syn::Type,
    len_member: &syn::Ident,
    len_wire: &str,
    max: usize,
) -> FieldCode {
    let FieldNames {
        p,
        member,
        wire,
        layout_name,
        in_field,
    } = field_names(f);
    let vs = quote_spanned!(elem.span()=> <#elem as __compat::VMState>);
    let name = f.member.to_string();
    let no_exists = f.exists.is_none();
    FieldCode {
        desc: Some(field_desc(
            f,
            quote!(#p::FieldKind::StructVarArray {
                elem: #vs::DESCRIPTION,
                len_field: #len_wire,
                max: #max,
            }),
        )),
        save: quote! {
            let n = #p::saved_len(&self.#member, self.#len_member as u64, #name)?;
            for e in self.#member[..n].iter_mut() {
                #vs::save_state(e, w)?;
            }
        },
        // The length is bounded by the declared maximum and, for
        // elements of a fixed size, by the bytes left, before
        // anything is allocated.
        load: quote! {
            {
                let n = #p::checked_array_len(
                    r,
                    self.#len_member as u64,
                    #max,
                    #vs::DESCRIPTION.static_size().unwrap_or(0),
                )#in_field;
                self.#member.clear();
                self.#member.resize_with(n, ::core::default::Default::default);
                for (i, e) in self.#member.iter_mut().enumerate() {
                    #vs::load_state(e, r, #vs::DESCRIPTION.version_id)
                        .map_err(|err| err.in_field(&::std::format!("{}[{}]", #wire, i)))?;
                }
            }
        },
        layout: quote! {
            let n = (self.#len_member as usize).min(self.#member.len());
            fields.extend(#p::FieldLayout::struct_array(
                #layout_name,
                self.#member[..n].iter().map(|e| #vs::layout(e)).collect(),
                #no_exists && #vs::DESCRIPTION.can_compress(),
            ));
        },
    }
}

/// `Kind::Tmp`: the fields of a temporary view of the struct, made from it
/// to save and written back into it after a load.
pub(super) fn tmp(f: &FieldModel, view: &syn::Type) -> FieldCode {
    let FieldNames {
        p,
        member,
        layout_name,
        in_field,
        ..
    } = field_names(f);
    let vs = quote_spanned!(view.span()=> <#view as __compat::VMState>);
    let tv = quote_spanned!(view.span()=> <#view as __compat::TmpView<Self>>);
    FieldCode {
        desc: Some(field_desc(f, quote!(#p::FieldKind::Tmp(#vs::DESCRIPTION)))),
        save: quote! {
            {
                // The field only marks the place.
                let _ = &self.#member;
                let mut view = #tv::from_parent(self);
                #vs::save_state(&mut view, w)?;
            }
        },
        load: quote! {
            {
                let mut view: #view = ::core::default::Default::default();
                #vs::load_state(&mut view, r, #vs::DESCRIPTION.version_id)#in_field;
                #tv::into_parent(view, self);
            }
        },
        layout: quote! {
            fields.push(#p::FieldLayout::tmp(#layout_name, #vs::layout(&#tv::from_parent(self))));
        },
    }
}

/// `Kind::List`: QEMU's `QTAILQ` or `QLIST`, each element after a marker
/// byte, at most `max` on load.
pub(super) fn list(f: &FieldModel, elem: &syn::Type, qlist: bool, max: usize) -> FieldCode {
    let FieldNames {
        p,
        member,
        wire,
        layout_name,
        in_field,
    } = field_names(f);
    let vs = quote_spanned!(elem.span()=> <#elem as __compat::VMState>);
    let (info, kind) = if qlist {
        ("qlist", quote!(#p::ListKind::QList))
    } else {
        ("qtailq", quote!(#p::ListKind::QTailQ))
    };
    FieldCode {
        desc: Some(field_desc(
            f,
            quote!(#p::FieldKind::List { elem: #vs::DESCRIPTION, max: #max, kind: #kind }),
        )),
        save: quote! {
            for e in self.#member.iter_mut() {
                w.put_u8(1);
                #vs::save_state(e, w)?;
            }
            w.put_u8(0);
        },
        load: quote! {
            {
                self.#member.clear();
                while #p::list_marker(r)#in_field {
                    let n = self.#member.len();
                    // One more than the bound is refused before it is read.
                    #p::checked_len(n as u64 + 1, #max, r.offset())#in_field;
                    r.charge(1)#in_field;
                    let mut e: #elem = ::core::default::Default::default();
                    #vs::load_state(&mut e, r, #vs::DESCRIPTION.version_id)
                        .map_err(|err| err.in_field(&::std::format!("{}[{}]", #wire, n)))?;
                    ::core::iter::Extend::extend(&mut self.#member, ::core::iter::once(e));
                }
            }
        },
        layout: quote! {
            fields.push(#p::FieldLayout::list(
                #layout_name,
                #info,
                self.#member.iter().map(|e| #vs::layout(e)).collect(),
            ));
        },
    }
}

/// `Kind::Map`: QEMU's `GTree`, its key a `u64` (direct) or another
/// `VMState` type.
pub(super) fn map(
    f: &FieldModel,
    key: &syn::Type,
    direct: bool,
    value: &syn::Type,
    max: usize,
) -> FieldCode {
    let FieldNames {
        p,
        member,
        layout_name,
        in_field,
        ..
    } = field_names(f);
    let vv = quote_spanned!(value.span()=> <#value as __compat::VMState>);
    let vk = quote_spanned!(key.span()=> <#key as __compat::VMState>);
    let (key_desc, save_key, load_key, key_layout) = if direct {
        (
            quote!(#p::MapKey::Direct),
            quote!(w.put_u64(*k);),
            quote!(r.get_u64()#in_field),
            quote!(::core::option::Option::None),
        )
    } else {
        (
            quote!(#p::MapKey::Struct(#vk::DESCRIPTION)),
            quote!(#vk::save_state(&mut ::core::clone::Clone::clone(k), w)?;),
            quote! {{
                let mut k: #key = ::core::default::Default::default();
                #vk::load_state(&mut k, r, #vk::DESCRIPTION.version_id)#in_field;
                k
            }},
            quote!(::core::option::Option::Some(#vk::layout(_k))),
        )
    };
    FieldCode {
        desc: Some(field_desc(
            f,
            quote!(#p::FieldKind::Map { key: #key_desc, value: #vv::DESCRIPTION, max: #max }),
        )),
        save: quote! {
            w.put_u32(self.#member.len() as u32);
            for (k, v) in self.#member.iter_mut() {
                w.put_u8(1);
                #save_key
                #vv::save_state(v, w)?;
            }
            w.put_u8(0);
        },
        load: quote! {
            {
                let at = r.offset();
                let count = r.get_u32()#in_field;
                let n = #p::checked_len(u64::from(count), #max, at)#in_field;
                r.charge(n)#in_field;
                self.#member.clear();
                for _ in 0..n {
                    #p::map_marker(r, true)#in_field;
                    let k = #load_key;
                    let mut v: #value = ::core::default::Default::default();
                    #vv::load_state(&mut v, r, #vv::DESCRIPTION.version_id)#in_field;
                    self.#member.insert(k, v);
                }
                #p::map_marker(r, false)#in_field;
            }
        },
        layout: quote! {
            fields.push(#p::FieldLayout::map(
                #layout_name,
                self.#member.iter().map(|(_k, v)| (#key_layout, #vv::layout(v))).collect(),
                8,
            ));
        },
    }
}
