//! Stage 4 of `#[derive(VMState)]`: straight-line save, load and layout
//! code for the struct, and its static description — all from the checked
//! model.
//!
//! This module puts the impl together from each field's pieces
//! (`field_code`); the code of each field kind is a function of its own, in
//! `scalars`, `nested` and `nullable`. `runs` merges runs of plain scalars
//! into one block, `subsections` emits the subsections, and `check_state`
//! the check-only twin of the load.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

mod check_state;
mod nested;
mod nullable;
mod runs;
mod scalars;
mod subsections;

use check_state::{check_state_fn, field_check};
use runs::{flush_run, is_plain_scalar};
use subsections::SubsectionsCode;

use super::model::{FieldModel, Kind, Scalar, VmStateModel};

/// When the input has errors: an impl with an empty description, so that
/// uses of the struct as state (`#[device(vmstate)]`, nested fields) do
/// not add errors of their own.
pub fn fallback(input: &syn::DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() || !matches!(input.data, syn::Data::Struct(_)) {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let name = ident.to_string();
    quote! {
        impl __compat::VMState for #ident {
            const DESCRIPTION: &'static __compat::VmStateDescription =
                &__compat::VmStateDescription {
                    name: #name,
                    version_id: 0,
                    minimum_version_id: 0,
                    fields: &[],
                    subsections: &[],
                    needs: &[],
                    erroneous: true,
                };
            fn save_state(
                &mut self,
                _: &mut __compat::StreamWriter,
            ) -> ::core::result::Result<(), __compat::SaveError> {
                ::core::unreachable!()
            }
            fn load_state(
                &mut self,
                _: &mut __compat::StreamReader<'_>,
                _: u32,
            ) -> ::core::result::Result<(), __compat::LoadError> {
                ::core::unreachable!()
            }
            fn layout(&self) -> __compat::Layout {
                ::core::unreachable!()
            }
        }
    }
}

const P: &str = "__compat";

fn private() -> TokenStream {
    P.parse().expect("a path")
}

fn scalar_variant(s: Scalar) -> TokenStream {
    let v = format_ident!("{}", format!("{s:?}"));
    let p = private();
    quote!(#p::Scalar::#v)
}

/// The writer and reader methods for a slice of `s` (`put_u16_slice`;
/// bytes are a buffer).
fn slice_methods(s: Scalar) -> (TokenStream, TokenStream) {
    if s == Scalar::U8 {
        (quote!(put_bytes), quote!(get_into))
    } else {
        let put = format_ident!("put_{}_slice", s.method());
        let get = format_ident!("get_{}_slice", s.method());
        (quote!(#put), quote!(#get))
    }
}

/// The pieces one field contributes.
struct FieldCode {
    desc: Option<TokenStream>,
    save: TokenStream,
    load: TokenStream,
    /// Statements pushing the field's `FieldLayout` onto `fields`.
    layout: TokenStream,
}

/// The pieces the struct's fields contribute, in field order (a run of
/// plain scalars gives one save, one load and one check).
#[derive(Default)]
struct FieldsCode {
    descs: Vec<TokenStream>,
    saves: Vec<TokenStream>,
    loads: Vec<TokenStream>,
    layouts: Vec<TokenStream>,
    /// Each field's check-only twin of its load (`None`: none can be made).
    checks: Vec<Option<TokenStream>>,
}

/// The `VMState` impl of the checked struct `m`, with the const checks of
/// its subsections, in an anonymous `const` block.
pub fn emit(m: &VmStateModel) -> TokenStream {
    let p = private();
    let ident = m.ident;
    let name = &m.name;
    let version = m.version;
    let minimum = m.minimum_version;

    let (fields, subsections) = fields_and_subsections(m);
    let FieldsCode {
        descs,
        saves,
        loads,
        layouts,
        checks,
    } = fields;
    let fixed: Vec<TokenStream> = m.fields.iter().map(fixed_layout).collect();
    let check_fn = check_state_fn(m, checks, !subsections.loads.is_empty());
    let HookCalls {
        pre_save,
        pre_load,
        post_load,
    } = hook_calls(m);
    let subsection_loop = subsections.load_loop(name);
    let SubsectionsCode {
        descs: sub_descs,
        needs: sub_needs,
        saves: sub_saves,
        layouts: sub_layouts,
        const_checks: sub_checks,
        ..
    } = subsections;

    quote! {
        const _: () = {
            #[automatically_derived]
            impl __compat::VMState for #ident {
                const DESCRIPTION: &'static __compat::VmStateDescription =
                    &__compat::VmStateDescription {
                        name: #name,
                        version_id: #version,
                        minimum_version_id: #minimum,
                        fields: &[#(#descs),*],
                        subsections: &[#(#sub_descs),*],
                        needs: &[#(#sub_needs),*],
                        erroneous: false,
                    };

                const FIXED_LAYOUT: bool = true #(&& #fixed)*;

                #check_fn

                #[allow(unused_variables)]
                fn save_state(
                    &mut self,
                    w: &mut #p::StreamWriter,
                ) -> ::core::result::Result<(), #p::SaveError> {
                    #pre_save
                    #(#saves)*
                    #(#sub_saves)*
                    ::core::result::Result::Ok(())
                }

                #[allow(unused_variables)]
                fn load_state(
                    &mut self,
                    r: &mut #p::StreamReader<'_>,
                    version_id: u32,
                ) -> ::core::result::Result<(), #p::LoadError> {
                    #p::check_version(<Self as __compat::VMState>::DESCRIPTION, r, version_id)?;
                    #pre_load
                    #(#loads)*
                    #subsection_loop
                    #post_load
                    ::core::result::Result::Ok(())
                }

                fn layout(&self) -> #p::Layout {
                    #[allow(unused_mut)]
                    let mut layout = #p::Layout::new(#name, #version);
                    let fields = &mut layout.fields;
                    #(#layouts)*
                    #(#sub_layouts)*
                    layout
                }
            }

            #(#sub_checks)*
        };
    }
}

/// The calls of the struct's hooks, where it has them.
struct HookCalls {
    pre_save: Option<TokenStream>,
    pre_load: Option<TokenStream>,
    post_load: Option<TokenStream>,
}

fn hook_calls(m: &VmStateModel) -> HookCalls {
    let p = private();
    let name = &m.name;
    HookCalls {
        pre_save: m.pre_save.as_ref().map(|hook| {
            quote! {
                #p::hook_save(#name, #hook(self))?;
            }
        }),
        pre_load: m.pre_load.as_ref().map(|hook| {
            quote! {
                #p::hook_load("pre_load", r, #hook(self))?;
            }
        }),
        post_load: m.post_load.as_ref().map(|hook| {
            quote! {
                #p::hook_load("post_load", r, #hook(self, version_id))?;
            }
        }),
    }
}

/// The code of every field and every subsection, in declaration order.
fn fields_and_subsections(m: &VmStateModel) -> (FieldsCode, SubsectionsCode) {
    let mut fields = FieldsCode::default();
    let mut subsections = SubsectionsCode::default();
    // Runs of plain scalars are saved and loaded as one fixed-size block:
    // one bounds check for the run instead of one per field.
    let mut run: Vec<&FieldModel> = Vec::new();
    for f in &m.fields {
        // Not on the wire: nothing to save, load or check, and no reason to
        // end a run.
        if matches!(f.kind, Kind::Skip) {
            continue;
        }
        if is_plain_scalar(f) {
            let code = field_code(f);
            fields.descs.extend(code.desc);
            fields.layouts.push(code.layout);
            run.push(f);
            continue;
        }
        flush_run(&mut run, &mut fields);
        if let Kind::Subsection(needed_fn, gate) = &f.kind {
            subsections.push(m, f, needed_fn, gate.as_ref());
            continue;
        }
        let code = field_code(f);
        fields.descs.extend(code.desc);
        fields.saves.push(gate_save(f, code.save, m.version));
        fields.loads.push(gate_load(f, code.load));
        fields.layouts.push(gate_save(f, code.layout, m.version));
        fields.checks.push(field_check(f));
    }
    flush_run(&mut run, &mut fields);
    (fields, subsections)
}

/// Whether field `f` is described the same for every value: an
/// expression, as a nested type answers for itself.
fn fixed_layout(f: &FieldModel) -> TokenStream {
    if f.exists.is_some() {
        return quote!(false);
    }
    let of = |ty: &syn::Type| quote_spanned!(ty.span()=> <#ty as __compat::VMState>::FIXED_LAYOUT);
    match &f.kind {
        Kind::Scalar(_) | Kind::Array(..) | Kind::Array2D(..) | Kind::Unused(_) | Kind::Skip => {
            quote!(true)
        }
        Kind::Struct => of(f.ty),
        Kind::StructArray(elem, _) => of(elem),
        Kind::Tmp(view) => of(view),
        Kind::VarArray { .. }
        | Kind::StructVarArray { .. }
        | Kind::List { .. }
        | Kind::Map { .. }
        | Kind::NullableArray { .. }
        | Kind::Subsection(..) => quote!(false),
    }
}

/// Wrap a field's save (or describe) code in its existence test, run with
/// our own version.
fn gate_save(f: &FieldModel, code: TokenStream, version: u32) -> TokenStream {
    match &f.exists {
        Some(test) => quote! {
            if #test(self, #version) { #code }
        },
        None => code,
    }
}

/// Wrap a field's load code in its version or existence test, run with the
/// incoming version.
fn gate_load(f: &FieldModel, code: TokenStream) -> TokenStream {
    match (&f.exists, f.gated_since) {
        (Some(test), _) => quote! {
            if #test(self, version_id) { #code }
        },
        (None, Some(v)) => quote! {
            if version_id >= #v { #code }
        },
        _ => code,
    }
}

fn field_desc(f: &FieldModel, kind: TokenStream) -> TokenStream {
    let p = private();
    let wire = &f.wire;
    let since = f.since.unwrap_or(0);
    let has_exists = f.exists.is_some();
    let must_match = f.must_match;
    quote! {
        #p::VmStateField {
            name: #wire,
            kind: #kind,
            version_id: #since,
            has_exists_test: #has_exists,
            must_match: #must_match,
        }
    }
}

/// What the code of field `f` names: the runtime's path, the field, its
/// names on the wire and in the layout, and the mapping of a load error to
/// the field (`.map_err(..)?`).
struct FieldNames<'f> {
    p: TokenStream,
    member: &'f syn::Ident,
    wire: &'f str,
    layout_name: &'f str,
    in_field: TokenStream,
}

fn field_names<'f>(f: &'f FieldModel) -> FieldNames<'f> {
    let wire = &f.wire;
    FieldNames {
        p: private(),
        member: f.member,
        wire,
        layout_name: &f.layout_name,
        in_field: quote!(.map_err(|e| e.in_field(#wire))?),
    }
}

/// The pieces field `f` contributes, from the function of its kind.
fn field_code(f: &FieldModel) -> FieldCode {
    match &f.kind {
        Kind::Scalar(s) => scalars::scalar(f, *s),
        Kind::Array(Scalar::U8, len) => scalars::bytes(f, len),
        Kind::Array(s, len) => scalars::scalar_array(f, *s, len),
        Kind::Array2D(s, inner, outer) => scalars::array_2d(f, *s, inner, outer),
        Kind::VarArray {
            elem,
            len_member,
            len_wire,
            max,
        } => scalars::var_array(f, *elem, len_member, len_wire, *max),
        Kind::Unused(n) => scalars::unused(f, *n),
        Kind::Struct => nested::nested_struct(f),
        Kind::StructArray(elem, len) => nested::struct_array(f, elem, len),
        Kind::StructVarArray {
            elem,
            len_member,
            len_wire,
            max,
        } => nested::struct_var_array(f, elem, len_member, len_wire, *max),
        Kind::Tmp(view) => nested::tmp(f, view),
        Kind::List { elem, qlist, max } => nested::list(f, elem, *qlist, *max),
        Kind::Map {
            key,
            direct,
            value,
            max,
        } => nested::map(f, key, *direct, value, *max),
        Kind::NullableArray {
            elem_struct,
            scalar,
            boxed,
            len,
            alloc,
        } => nullable::nullable_array(f, elem_struct.as_deref(), *scalar, *boxed, len, *alloc),
        // Not on the wire; a subsection is emitted on its own
        // (`subsections`).
        Kind::Skip | Kind::Subsection(..) => FieldCode {
            desc: None,
            save: TokenStream::new(),
            load: TokenStream::new(),
            layout: TokenStream::new(),
        },
    }
}
