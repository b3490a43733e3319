//! Runs of plain scalars: saved and loaded as one fixed-size block, with
//! one bounds check for the run instead of one per field.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::check_state::field_check;
use super::{field_code, FieldsCode};
use crate::vmstate::model::{FieldModel, Kind, Scalar};

/// A scalar sent always, as it is: no version test a load must make, no
/// existence test, not compared on load.
pub(super) fn is_plain_scalar(f: &FieldModel) -> bool {
    matches!(f.kind, Kind::Scalar(_))
        && f.exists.is_none()
        && f.gated_since.is_none()
        && !f.must_match
}

/// Emit the save and load of a run of plain scalars: a run of one as the
/// field's own code; a longer run as one block of bytes, written at once
/// and read with one bounds check — or, when the stream holds fewer bytes
/// than the block, field by field, so that the error names the field the
/// stream ends in.
pub(super) fn flush_run(run: &mut Vec<&FieldModel>, out: &mut FieldsCode) {
    let fields = std::mem::take(run);
    if fields.len() < 2 {
        for f in fields {
            let code = field_code(f);
            out.saves.push(code.save);
            out.loads.push(code.load);
            out.checks.push(field_check(f));
        }
        return;
    }
    let mut offset = 0usize;
    let mut puts = Vec::new();
    let mut gets = Vec::new();
    for f in &fields {
        let Kind::Scalar(s) = f.kind else {
            unreachable!("a run holds scalars")
        };
        let member = f.member;
        let size = s.size();
        let at: Vec<Literal> = (offset..offset + size)
            .map(Literal::usize_unsuffixed)
            .collect();
        let first = &at[0];
        let range = quote!(#first..#first + #size);
        let (put, get) = match s {
            Scalar::Bool => (
                quote!(block[#first] = u8::from(self.#member);),
                quote!(self.#member = block[#first] != 0;),
            ),
            Scalar::U8 => (
                quote!(block[#first] = self.#member;),
                quote!(self.#member = block[#first];),
            ),
            Scalar::I8 => (
                quote!(block[#first] = self.#member as u8;),
                quote!(self.#member = block[#first] as i8;),
            ),
            _ => {
                let ty = format_ident!("{}", s.method());
                (
                    quote!(block[#range].copy_from_slice(&self.#member.to_be_bytes());),
                    quote!(self.#member = #ty::from_be_bytes([#(block[#at]),*]);),
                )
            }
        };
        puts.push(put);
        gets.push(get);
        offset += size;
    }
    let n = Literal::usize_unsuffixed(offset);
    let one_by_one: Vec<TokenStream> = fields.iter().map(|f| field_code(f).load).collect();
    let checked_one_by_one: Vec<Option<TokenStream>> =
        fields.iter().map(|f| field_check(f)).collect();
    out.checks.push(Some(quote! {
        if r.take_array::<#n>().is_none() {
            #(#checked_one_by_one)*
        }
    }));
    out.saves.push(quote! {
        {
            let mut block = [0u8; #n];
            #(#puts)*
            w.put_bytes(&block);
        }
    });
    out.loads.push(quote! {
        if let ::core::option::Option::Some(block) = r.take_array::<#n>() {
            #(#gets)*
        } else {
            #(#one_by_one)*
        }
    });
}
