//! Stage 4 of `#[derive(VMState)]`: straight-line save, load and layout
//! code for the struct, and its static description — all from the checked
//! model.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

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

pub fn emit(m: &VmStateModel) -> TokenStream {
    let p = private();
    let ident = m.ident;
    let name = &m.name;
    let version = m.version;
    let minimum = m.minimum_version;

    let mut descs = Vec::new();
    let mut saves = Vec::new();
    let mut loads = Vec::new();
    let mut layouts = Vec::new();
    let mut sub_descs = Vec::new();
    let mut sub_saves = Vec::new();
    let mut sub_loads = Vec::new();
    let mut sub_layouts = Vec::new();
    let mut sub_checks = Vec::new();
    let mut sub_needs = Vec::new();

    // Runs of plain scalars are saved and loaded as one fixed-size block:
    // one bounds check for the run instead of one per field.
    let mut run: Vec<&FieldModel> = Vec::new();
    // Each field's check-only twin of its load (`None`: none can be made).
    let mut checks: Vec<Option<TokenStream>> = Vec::new();
    for f in &m.fields {
        // Not on the wire: nothing to save, load or check, and no reason to
        // end a run.
        if matches!(f.kind, Kind::Skip) {
            continue;
        }
        if is_plain_scalar(f) {
            let code = field_code(f);
            descs.extend(code.desc);
            layouts.push(code.layout);
            run.push(f);
            continue;
        }
        flush_run(&mut run, &mut saves, &mut loads, &mut checks);
        if let Kind::Subsection(needed_fn, gate) = &f.kind {
            let (member, ty, wire) = (f.member, f.ty, &f.wire);
            let vs = quote_spanned!(ty.span()=> <#ty as __compat::VMState>);
            let index = sub_descs.len();
            let function = needed_fn
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect::<Vec<_>>()
                .join("::");
            // With a gate, the subsection is sent only while the property
            // is on, whatever `needed` says: what makes it provable. The
            // property is looked up by name, so only once `needed` holds.
            // Located at the gate, resolved where the derive is: a gate
            // from a `macro_rules!` parameter carries that macro's
            // hygiene, in which this method's `self` does not exist.
            let gate_span = gate.as_ref().map_or(ident.span(), |g| {
                proc_macro2::Span::call_site().located_at(g.span())
            });
            let gated_ty = syn::Ident::new(&ident.to_string(), gate_span);
            let (gate_on, gate_desc) = match gate {
                // Every use of `Device` is spanned on the gate, so that a
                // type that is not a device gets one error, there.
                Some(g) => (
                    quote_spanned! {gate_span=>
                        ::core::matches!(
                            <#gated_ty as __compat::Device>::property_value(self, #g),
                            ::core::option::Option::Some(__compat::PropertyValue::Bool(true))
                        )
                    },
                    quote!(::core::option::Option::Some(#g)),
                ),
                None => (quote!(true), quote!(::core::option::Option::None)),
            };
            sub_needs.push(quote!(#p::Needed { function: #function, gate: #gate_desc }));
            if let Some(g) = gate {
                sub_checks.push(quote_spanned!(gate_span=>
                    const _: () = __compat::check_gate(
                        <#gated_ty as __compat::Device>::TYPE,
                        #g,
                    );
                ));
            }
            sub_checks.push(quote_spanned!(ty.span()=>
                const _: () = __compat::check_subsection(
                    <#ident as __compat::VMState>::DESCRIPTION,
                    #index,
                );
            ));
            sub_descs.push(quote!(#vs::DESCRIPTION));
            sub_saves.push(quote! {
                if (w.every_subsection() || #needed_fn(self)) && #gate_on {
                    w.put_subsection_header(#vs::DESCRIPTION.name, #vs::DESCRIPTION.version_id);
                    #vs::save_state(&mut self.#member, w)?;
                }
            });
            sub_loads.push(quote! {
                if sub == #vs::DESCRIPTION.name {
                    #vs::load_state(&mut self.#member, r, sub_version)
                        .map_err(|e| e.in_field(#wire))?;
                    continue;
                }
            });
            sub_layouts.push(quote! {
                if #needed_fn(self) && #gate_on {
                    layout.subsections.push(#vs::layout(&self.#member));
                }
            });
            continue;
        }
        let code = field_code(f);
        descs.extend(code.desc);
        saves.push(gate_save(f, code.save, version));
        loads.push(gate_load(f, code.load));
        layouts.push(gate_save(f, code.layout, version));
        checks.push(field_check(f));
    }
    flush_run(&mut run, &mut saves, &mut loads, &mut checks);

    let fixed: Vec<TokenStream> = m.fields.iter().map(fixed_layout).collect();
    // A check that writes nothing exists when every field has one, no hook
    // runs on load and no subsection may follow.
    let hooks = m.pre_load.is_some() || m.post_load.is_some();
    let checks: Option<Vec<TokenStream>> = if hooks || !sub_loads.is_empty() {
        None
    } else {
        checks.into_iter().collect()
    };
    let check_fn = checks.as_ref().map(|checks| {
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
    });
    let pre_save = m.pre_save.as_ref().map(|hook| {
        quote! {
            #p::hook_save(#name, #hook(self))?;
        }
    });
    let pre_load = m.pre_load.as_ref().map(|hook| {
        quote! {
            #p::hook_load("pre_load", r, #hook(self))?;
        }
    });
    let post_load = m.post_load.as_ref().map(|hook| {
        quote! {
            #p::hook_load("post_load", r, #hook(self, version_id))?;
        }
    });
    let subsection_loop = if sub_loads.is_empty() {
        quote! {
            if let ::core::option::Option::Some((sub, _, at)) = #p::next_subsection(r, #name)? {
                return ::core::result::Result::Err(#p::unknown_subsection(sub, #name, at));
            }
        }
    } else {
        quote! {
            while let ::core::option::Option::Some((sub, sub_version, at)) =
                #p::next_subsection(r, #name)?
            {
                #(#sub_loads)*
                return ::core::result::Result::Err(#p::unknown_subsection(sub, #name, at));
            }
        }
    };

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

/// The check-only twin of field `f`'s load: the same reads in the same
/// order, failing exactly where the load fails, writing nothing — so that a
/// stream can be checked whole before any device is written. `None` for a
/// field whose reads depend on what the load wrote before them (existence
/// tests, check masks, lengths from other fields) or that allocates
/// (lists, maps).
fn field_check(f: &FieldModel) -> Option<TokenStream> {
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

/// A scalar sent always, as it is: no version test a load must make, no
/// existence test, not compared on load.
fn is_plain_scalar(f: &FieldModel) -> bool {
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
fn flush_run(
    run: &mut Vec<&FieldModel>,
    saves: &mut Vec<TokenStream>,
    loads: &mut Vec<TokenStream>,
    checks: &mut Vec<Option<TokenStream>>,
) {
    let fields = std::mem::take(run);
    if fields.len() < 2 {
        for f in fields {
            let code = field_code(f);
            saves.push(code.save);
            loads.push(code.load);
            checks.push(field_check(f));
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
    checks.push(Some(quote! {
        if r.take_array::<#n>().is_none() {
            #(#checked_one_by_one)*
        }
    }));
    saves.push(quote! {
        {
            let mut block = [0u8; #n];
            #(#puts)*
            w.put_bytes(&block);
        }
    });
    loads.push(quote! {
        if let ::core::option::Option::Some(block) = r.take_array::<#n>() {
            #(#gets)*
        } else {
            #(#one_by_one)*
        }
    });
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

fn field_code(f: &FieldModel) -> FieldCode {
    let p = private();
    let (member, ty, wire) = (f.member, f.ty, &f.wire);
    let layout_name = &f.layout_name;
    let in_field = quote!(.map_err(|e| e.in_field(#wire))?);
    match &f.kind {
        Kind::Scalar(s) => {
            let put = format_ident!("put_{}", s.method());
            let get = format_ident!("get_{}", s.method());
            let sv = scalar_variant(*s);
            let must_match_flag = f.must_match;
            let info = match f.timer {
                // The same eight bytes, QEMU's name for them.
                true => quote!("timer"),
                false => quote!(#sv.info_name(#must_match_flag)),
            };
            let size = quote!(#sv.size());
            let load = if f.must_match {
                // bool has no hex form: compare it as a byte.
                let (incoming, ours) = if *s == Scalar::Bool {
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
                let bytes = if *s == Scalar::Bool {
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
        Kind::Array(Scalar::U8, len) => {
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
        Kind::Array(s, len) => {
            // bool has no hex form nor bytes: compare it as a byte.
            let conv = if *s == Scalar::Bool {
                quote!(u8::from)
            } else {
                TokenStream::new()
            };
            let put = format_ident!("put_{}_slice", s.method());
            let get = format_ident!("get_{}_slice", s.method());
            let sv = scalar_variant(*s);
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
        Kind::VarArray {
            elem,
            len_member,
            len_wire,
            max,
        } => {
            let sv = scalar_variant(*elem);
            let (put, get) = slice_methods(*elem);
            let layout = if *elem == Scalar::U8 {
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
        Kind::NullableArray {
            elem_struct,
            scalar,
            boxed,
            len,
            alloc,
        } => {
            let (slot_ref, slot_mut) = if *boxed {
                (quote!(slot.as_deref()), quote!(slot.as_deref_mut()))
            } else {
                (quote!(slot.as_ref()), quote!(slot.as_mut()))
            };
            let (save_elem, load_elem, layout_elem, elem_kind, elem_ty) = match (
                elem_struct,
                scalar,
            ) {
                (Some(ety), _) => {
                    let vs = quote_spanned!(ety.span()=> <#ety as __compat::VMState>);
                    (
                        quote!(#vs::save_state(v, w)?;),
                        quote!(#vs::load_state(v, r, #vs::DESCRIPTION.version_id)),
                        quote!(|v| #p::FieldLayout::nested(#layout_name, #vs::layout(v))),
                        quote!(#p::Element::Struct(#vs::DESCRIPTION)),
                        quote!(#ety),
                    )
                }
                (None, s) => {
                    let s = s.expect("a scalar element when not a struct");
                    let put = format_ident!("put_{}", s.method());
                    let get = format_ident!("get_{}", s.method());
                    let sv = scalar_variant(s);
                    let ty = format_ident!("{}", s.method());
                    (
                        quote!(w.#put(*v);),
                        quote!(r.#get().map(|x| *v = x)),
                        quote!(|_| #p::FieldLayout::value(#layout_name, #sv.info_name(false), #sv.size())),
                        quote!(#p::Element::Scalar(#sv)),
                        quote!(#ty),
                    )
                }
            };
            let wrap = if *boxed {
                quote!(::std::boxed::Box::new)
            } else {
                TokenStream::new()
            };
            // QEMU describes an array by its first element only when it can
            // compress it (`vmsd_can_compress`).
            let no_exists = f.exists.is_none();
            let compress = match elem_struct {
                Some(ety) => {
                    quote!(#no_exists && <#ety as __compat::VMState>::DESCRIPTION.can_compress())
                }
                None => quote!(#no_exists),
            };
            let (save, load, layout) = if *alloc {
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
            } else {
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
            };
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
        Kind::List { elem, qlist, max } => {
            let vs = quote_spanned!(elem.span()=> <#elem as __compat::VMState>);
            let (info, kind) = if *qlist {
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
        Kind::Map {
            key,
            direct,
            value,
            max,
        } => {
            let vv = quote_spanned!(value.span()=> <#value as __compat::VMState>);
            let vk = quote_spanned!(key.span()=> <#key as __compat::VMState>);
            let (key_desc, save_key, load_key, key_layout) = if *direct {
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
        Kind::StructVarArray {
            elem,
            len_member,
            len_wire,
            max,
        } => {
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
        Kind::StructArray(elem, len) => {
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
        Kind::Array2D(s, inner, outer) => {
            let (put, get) = slice_methods(*s);
            let sv = scalar_variant(*s);
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
        Kind::Struct => {
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
        Kind::Tmp(view) => {
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
        Kind::Unused(n) => {
            let n = Literal::usize_unsuffixed(*n);
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
        Kind::Skip | Kind::Subsection(..) => FieldCode {
            desc: None,
            save: TokenStream::new(),
            load: TokenStream::new(),
            layout: TokenStream::new(),
        },
    }
}
