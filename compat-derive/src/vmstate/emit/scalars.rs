//! The code of the field kinds made of scalars: a scalar, arrays and
//! `Vec`s of them, byte buffers, and the zeros of an `unused` gap.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use syn::Expr;

use super::{field_desc, field_names, scalar_variant, slice_methods, FieldCode, FieldNames};
use crate::vmstate::model::{FieldModel, Scalar};

/// `Kind::Scalar`: one value, or the expiry time of a `timer`.
pub(super) fn scalar(f: &FieldModel, s: Scalar) -> FieldCode {
    let FieldNames {
        p,
        member,
        layout_name,
        in_field,
        ..
    } = field_names(f);
    let put = format_ident!("put_{}", s.method());
    let get = format_ident!("get_{}", s.method());
    let sv = scalar_variant(s);
    let must_match_flag = f.must_match;
    let info = match f.timer {
        // The same eight bytes, QEMU's name for them.
        true => quote!("timer"),
        false => quote!(#sv.info_name(#must_match_flag)),
    };
    let size = quote!(#sv.size());
    let load = if f.must_match {
        // bool has no hex form: compare it as a byte.
        let (incoming, ours) = if s == Scalar::Bool {
            (quote!(u8::from(v)), quote!(u8::from(self.#member)))
        } else {
            (quote!(v), quote!(self.#member))
        };
        quote! {
            let at = r.offset();
            let v = r.#get()#in_field;
            #p::must_match(#incoming, #ours, at)#in_field;
        }
    } else {
        quote! { self.#member = r.#get()#in_field; }
    };
    let must_match = f.must_match.then(|| {
        let bytes = if s == Scalar::Bool {
            quote!(::std::vec![u8::from(self.#member)])
        } else {
            quote!(self.#member.to_be_bytes().to_vec())
        };
        quote!(.must_match(#bytes, ::core::option::Option::None))
    });
    FieldCode {
        desc: Some(field_desc(f, quote!(#p::FieldKind::Scalar(#sv)))),
        save: quote! { w.#put(self.#member); },
        load: quote! { { #load } },
        layout: quote! {
            fields.push(#p::FieldLayout::value(#layout_name, #info, #size)#must_match);
        },
    }
}

/// `Kind::Array` of `u8`: a byte buffer, compared under a mask if asked.
pub(super) fn bytes(f: &FieldModel, len: &Expr) -> FieldCode {
    let FieldNames {
        p,
        member,
        layout_name,
        in_field,
        ..
    } = field_names(f);
    let mask = match &f.mask {
        Some(mask) => quote!(::core::option::Option::Some(&#mask(self)[..])),
        None => quote!(::core::option::Option::None),
    };
    let load = if f.must_match {
        quote! {
            let at = r.offset();
            let incoming = r.get_bytes(self.#member.len())#in_field;
            #p::must_match_bytes(incoming, &self.#member, #mask, at)#in_field;
            self.#member.copy_from_slice(incoming);
        }
    } else {
        quote! { r.get_into(&mut self.#member)#in_field; }
    };
    let must_match = f.must_match.then(|| {
        let mask_value = match &f.mask {
            Some(mask) => quote!(::core::option::Option::Some(#mask(self).to_vec())),
            None => quote!(::core::option::Option::None),
        };
        quote!(.must_match(self.#member.to_vec(), #mask_value))
    });
    // The same bytes either way; `elements` describes them as QEMU's
    // `VMSTATE_UINT8_ARRAY` does.
    let (kind, layout) = if f.elements {
        let must_match_flag = f.must_match;
        (
            quote!(#p::FieldKind::Array { elem: #p::Scalar::U8, len: #len }),
            quote!(#p::FieldLayout::array(
                #layout_name,
                self.#member.len(),
                #p::Scalar::U8.info_name(#must_match_flag),
                1,
            )#must_match),
        )
    } else {
        (
            quote!(#p::FieldKind::Buffer { len: #len }),
            quote!(#p::FieldLayout::value(#layout_name, "buffer", self.#member.len())#must_match),
        )
    };
    FieldCode {
        desc: Some(field_desc(f, kind)),
        save: quote! { w.put_bytes(&self.#member); },
        load: quote! { { #load } },
        layout: quote! {
            fields.push(#layout);
        },
    }
}

/// `Kind::Array` of any other scalar: `[S; N]`, compared element by
/// element if asked.
pub(super) fn scalar_array(f: &FieldModel, s: Scalar, len: &Expr) -> FieldCode {
    let FieldNames {
        p,
        member,
        wire,
        layout_name,
        in_field,
    } = field_names(f);
    // bool has no hex form nor bytes: compare it as a byte.
    let conv = if s == Scalar::Bool {
        quote!(u8::from)
    } else {
        TokenStream::new()
    };
    let put = format_ident!("put_{}_slice", s.method());
    let get = format_ident!("get_{}_slice", s.method());
    let sv = scalar_variant(s);
    let must_match_flag = f.must_match;
    let info = quote!(#sv.info_name(#must_match_flag));
    let size = quote!(#sv.size());
    let load = if f.must_match {
        quote! {
            let at = r.offset();
            let mut incoming = self.#member;
            r.#get(&mut incoming)#in_field;
            for (i, (a, b)) in incoming.iter().zip(self.#member.iter()).enumerate() {
                #p::must_match(#conv(*a), #conv(*b), at)
                    .map_err(|e| e.in_field(&::std::format!("{}[{}]", #wire, i)))?;
            }
        }
    } else {
        quote! { r.#get(&mut self.#member)#in_field; }
    };
    let must_match = f.must_match.then(|| {
        quote!(.must_match(
            self.#member.iter().flat_map(|x| #conv(*x).to_be_bytes()).collect(),
            ::core::option::Option::None,
        ))
    });
    FieldCode {
        desc: Some(field_desc(
            f,
            quote!(#p::FieldKind::Array { elem: #sv, len: #len }),
        )),
        save: quote! { w.#put(&self.#member); },
        load: quote! { { #load } },
        layout: quote! {
            fields.push(
                #p::FieldLayout::array(#layout_name, self.#member.len(), #info, #size)#must_match
            );
        },
    }
}

/// `Kind::Array2D`: rows of scalars, described as one array.
pub(super) fn array_2d(f: &FieldModel, s: Scalar, inner: &Expr, outer: &Expr) -> FieldCode {
    let FieldNames {
        p,
        member,
        layout_name,
        in_field,
        ..
    } = field_names(f);
    let (put, get) = slice_methods(s);
    let sv = scalar_variant(s);
    FieldCode {
        desc: Some(field_desc(
            f,
            quote!(#p::FieldKind::Array { elem: #sv, len: (#inner) * (#outer) }),
        )),
        save: quote! {
            for row in self.#member.iter() {
                w.#put(row);
            }
        },
        load: quote! {
            for row in self.#member.iter_mut() {
                r.#get(row)#in_field;
            }
        },
        layout: quote! {
            fields.push(#p::FieldLayout::array(
                #layout_name,
                (#inner) * (#outer),
                #sv.info_name(false),
                #sv.size(),
            ));
        },
    }
}

/// `Kind::VarArray`: a `Vec` of scalars whose length is another field.
pub(super) fn var_array(
    f: &FieldModel,
    elem: Scalar,
    len_member: &syn::Ident,
    len_wire: &str,
    max: usize,
) -> FieldCode {
    let FieldNames {
        p,
        member,
        layout_name,
        in_field,
        ..
    } = field_names(f);
    let sv = scalar_variant(elem);
    let (put, get) = slice_methods(elem);
    let layout = if elem == Scalar::U8 {
        quote! { fields.push(#p::FieldLayout::value(#layout_name, "buffer", n)); }
    } else {
        quote! {
            fields.push(#p::FieldLayout::array(#layout_name, n, #sv.info_name(false), #sv.size()));
        }
    };
    let name = f.member.to_string();
    FieldCode {
        desc: Some(field_desc(
            f,
            quote!(#p::FieldKind::VarArray { elem: #sv, len_field: #len_wire, max: #max }),
        )),
        save: quote! {
            let n = #p::saved_len(&self.#member, self.#len_member as u64, #name)?;
            w.#put(&self.#member[..n]);
        },
        load: quote! {
            {
                let n = #p::checked_array_len(r, self.#len_member as u64, #max, #sv.size())#in_field;
                self.#member.clear();
                self.#member.resize(n, ::core::default::Default::default());
                r.#get(&mut self.#member)#in_field;
            }
        },
        layout: quote! {
            let n = (self.#len_member as usize).min(self.#member.len());
            #layout
        },
    }
}

/// `Kind::Unused`: `n` zero bytes in place of the field, which is not
/// migrated.
pub(super) fn unused(f: &FieldModel, n: usize) -> FieldCode {
    let FieldNames {
        p,
        member,
        layout_name,
        ..
    } = field_names(f);
    let n = Literal::usize_unsuffixed(n);
    FieldCode {
        desc: Some(quote! {
            #p::VmStateField {
                name: "unused",
                kind: #p::FieldKind::Unused { size: #n },
                version_id: 0,
                has_exists_test: false,
                must_match: false,
            }
        }),
        save: quote! {
            // The field only marks the place.
            let _ = &self.#member;
            w.put_zeros(#n);
        },
        load: quote! { r.skip(#n).map_err(|e| e.in_field("unused"))?; },
        layout: quote! { fields.push(#p::FieldLayout::value(#layout_name, "unused_buffer", #n)); },
    }
}
