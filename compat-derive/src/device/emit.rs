//! Stage 4 of `#[derive(Device)]`: the code, from the checked model only.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{BitModel, DeviceModel, FieldModel, PropertyModel, Role};

/// When the input has errors, an impl that keeps the rest of the crate from
/// drowning in "trait `Device` is not implemented" after the real errors.
pub fn fallback(input: &syn::DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let name = ident.to_string();
    quote! {
        impl __compat::Device for #ident {
            const TYPE: &'static __compat::DeviceTypeInfo = &__compat::DeviceTypeInfo {
                name: #name,
                parent: __compat::Some(__compat::DEVICE),
                is_abstract: true,
                hotpluggable: true,
                user_creatable: true,
                nic: false,
                child: __compat::None,
                bus: __compat::None,
                provides_bus: __compat::None,
                bus_slots: 32,
                inert: &[],
                properties: &[],
                description: "",
                rust_type: __compat::TypeId::of::<Self>,
                instantiate: __compat::None,
                vmstate: __compat::None,
                erroneous: true,
            };
            fn new_default() -> Self {
                ::core::unreachable!()
            }
            fn property_value(&self, _: &str) -> ::core::option::Option<__compat::PropertyValue> {
                ::core::unreachable!()
            }
            fn set_property_value(
                &mut self,
                _: &str,
                _: &__compat::PropertyValue,
            ) -> ::core::result::Result<(), __compat::SetPropertyError> {
                ::core::unreachable!()
            }
        }
    }
}

pub fn emit(m: &DeviceModel) -> TokenStream {
    let ident = m.ident;
    let name = &m.name;
    let description = &m.description;
    let is_abstract = m.is_abstract;
    let hotpluggable = m.hotpluggable;
    let user_creatable = m.user_creatable;
    let nic = m.nic;
    let option = |v: &Option<String>| match v {
        Some(s) => quote!(__compat::Some(#s)),
        None => quote!(__compat::None),
    };
    let (bus, provides_bus, bus_slots) = (option(&m.bus), option(&m.provides_bus), m.bus_slots);
    let inert: Vec<&String> = m.inert.iter().flat_map(|(names, _)| names).collect();
    let inert_checks = inert_checks(m);
    let child = match &m.child {
        Some(ty) => quote!(__compat::Some(<#ty as __compat::Device>::TYPE)),
        None => quote!(__compat::None),
    };
    let parent_info = match &m.parent {
        Some(ty) => quote!(<#ty as __compat::Device>::TYPE),
        None => quote!(__compat::DEVICE),
    };
    let instantiate = if m.is_abstract {
        quote!(__compat::None)
    } else {
        quote!(__compat::Some(|| {
            __compat::Box::new(<Self as __compat::Device>::new_default())
        }))
    };

    // The field holding the parent's state, if the type has a parent.
    let parent_member = m.fields.iter().find_map(|f| match f.role {
        Role::Parent => Some(f.member),
        _ => None,
    });
    let (vmstate, migratable) = migration(m, parent_member);
    let realize = realize(m, parent_member);
    let out = field_pieces(m);
    let construct = if m.braced {
        let inits = &out.inits;
        quote!(Self { #(#inits,)* })
    } else {
        quote!(Self)
    };
    let (get_rest, set_rest) = match parent_member {
        Some(pm) => (
            quote!(__compat::Device::property_value(&self.#pm, name)),
            quote!(__compat::Device::set_property_value(&mut self.#pm, name, value)),
        ),
        None => (
            quote!(__compat::None),
            quote!(__compat::Err(__compat::SetPropertyError::NotFound)),
        ),
    };
    let clash_checks = clash_checks(m);

    // Wrapped in an anonymous const so the default helpers stay private to
    // the expansion.
    let Pieces {
        helpers,
        defs,
        gets,
        sets,
        accessors,
        ..
    } = out;
    quote! {
        const _: () = {
        #(#helpers)*

        #[automatically_derived]
        impl __compat::Device for #ident {
            const TYPE: &'static __compat::DeviceTypeInfo = &__compat::DeviceTypeInfo {
                name: #name,
                parent: __compat::Some(#parent_info),
                is_abstract: #is_abstract,
                hotpluggable: #hotpluggable,
                user_creatable: #user_creatable,
                nic: #nic,
                child: #child,
                bus: #bus,
                provides_bus: #provides_bus,
                bus_slots: #bus_slots,
                inert: &[#(#inert),*],
                properties: &[#(#defs),*],
                description: #description,
                rust_type: __compat::TypeId::of::<Self>,
                instantiate: #instantiate,
                vmstate: #vmstate,
                erroneous: false,
            };

            fn new_default() -> Self {
                #construct
            }

            fn property_value(
                &self,
                name: &str,
            ) -> ::core::option::Option<__compat::PropertyValue> {
                match name {
                    #(#gets)*
                    _ => #get_rest,
                }
            }

            fn set_property_value(
                &mut self,
                name: &str,
                value: &__compat::PropertyValue,
            ) -> ::core::result::Result<(), __compat::SetPropertyError> {
                match name {
                    #(#sets)*
                    _ => #set_rest,
                }
            }

            #migratable
            #realize
        }

        impl #ident {
            #(#accessors)*
        }

        #(#clash_checks)*
        #(#inert_checks)*
        };
    }
}

/// What each field gives the expansion: its initializer, and for a
/// property its declaration, accessors and helpers.
fn field_pieces(m: &DeviceModel) -> Pieces {
    let mut out = Pieces::default();
    for f in &m.fields {
        let member = f.member;
        let ty = f.ty;
        match &f.role {
            Role::Parent => {
                let parent = m
                    .parent
                    .as_ref()
                    .expect("checked: a parent field has a parent type");
                // Spanned on the field's type: a field of another type than
                // `parent = T` is a type mismatch reported there.
                out.inits.push(quote_spanned!(ty.span()=>
                    #member: <#parent as __compat::Device>::new_default()
                ));
            }
            Role::State => {
                let init = state_default(ty);
                out.inits.push(quote_spanned!(ty.span()=> #member: #init));
            }
            Role::Property(p) => emit_property(f, p, &mut out),
            Role::Bits(bits) => emit_bits(f, bits, &mut out),
        }
    }
    out
}

/// One compile-time check per `inert` name: a property of the type's chain.
fn inert_checks(m: &DeviceModel) -> Vec<TokenStream> {
    let ident = m.ident;
    // Each one a property of the type's chain, checked by the compiler.
    let inert_checks = m.inert.iter().flat_map(|(names, lit)| {
        names.iter().map(move |n| {
            quote_spanned! {lit.span()=>
                const _: () = __compat::check_inert_property(
                    <#ident as __compat::Device>::TYPE,
                    #n,
                );
            }
        })
    });
    inert_checks.collect()
}

/// The type's VMState and how an instance hands out its state.
fn migration(m: &DeviceModel, parent_member: Option<&syn::Ident>) -> (TokenStream, TokenStream) {
    // `#[device(vmstate)]`: instances migrate with the type's VMState. A
    // subtype without one migrates its parent's state under the parent's
    // description, as a QOM subclass inherits its parent's `vmsd` (real
    // QEMU's `dc390` has `am53c974`'s).
    match (m.vmstate, parent_member, &m.parent) {
        // Both uses spanned on the key: a struct that does not derive
        // VMState gets one error, there.
        (Some(key), _, _) => (
            quote_spanned!(key=> __compat::Some(<Self as __compat::OwnState>::OWN_DESCRIPTION)),
            quote_spanned! {key=>
                fn migratable(&mut self) -> ::core::option::Option<&mut dyn __compat::Migratable> {
                    ::core::option::Option::Some(<Self as __compat::OwnState>::own_state(self))
                }
            },
        ),
        (None, Some(pm), Some(parent)) => (
            quote!(<#parent as __compat::Device>::TYPE.vmstate),
            quote! {
                fn migratable(&mut self) -> ::core::option::Option<&mut dyn __compat::Migratable> {
                    __compat::Device::migratable(&mut self.#pm)
                }
            },
        ),
        _ => (quote!(__compat::None), TokenStream::new()),
    }
}

/// `realize`: the parent's first, then the type's own.
fn realize(m: &DeviceModel, parent_member: Option<&syn::Ident>) -> Option<TokenStream> {
    // The parent's `realize` first, then the type's own, as a QOM
    // subclass's realize calls its parent's before its own work.
    let own_realize = m.realize.as_ref().map(|path| {
        quote! {
            ::core::result::Result::map_err(
                #path(self, board),
                ::core::convert::Into::<__compat::RealizeError>::into,
            )
        }
    });
    let parent_realize =
        parent_member.map(|pm| quote!(__compat::Device::realize(&mut self.#pm, board)?;));
    (own_realize.is_some() || parent_realize.is_some()).then(|| {
        let own = own_realize.unwrap_or_else(|| quote!(::core::result::Result::Ok(())));
        quote! {
            fn realize(
                &mut self,
                board: &__compat::Board<'_>,
            ) -> ::core::result::Result<(), __compat::RealizeError> {
                #parent_realize
                #own
            }
        }
    })
}

/// A property an ancestor already declares is a compile-time error,
/// spanned on the property's name.
fn clash_checks(m: &DeviceModel) -> Vec<TokenStream> {
    let name = &m.name;
    let clash_checks = m.parent.as_ref().map(|parent| {
        m.fields
            .iter()
            .flat_map(|f| property_names(f))
            .map(move |lit| {
                let message = format!(
                    "property `{}` of device type `{name}` is already declared by an ancestor \
                 type; property names are unique along the inheritance chain",
                    lit.value()
                );
                quote_spanned!(lit.span()=>
                    const _: () = if __compat::chain_declares(
                        <#parent as __compat::Device>::TYPE, #lit
                    ) {
                        ::core::panic!(#message)
                    };
                )
            })
            .collect::<Vec<_>>()
    });
    clash_checks.into_iter().flatten().collect()
}

fn property_names<'a>(f: &'a FieldModel) -> Vec<&'a syn::LitStr> {
    match &f.role {
        Role::Property(p) => vec![&p.name],
        Role::Bits(bits) => bits.iter().map(|b| &b.name).collect(),
        Role::Parent | Role::State => vec![],
    }
}

/// The pieces of the expansion each field contributes to.
#[derive(Default)]
struct Pieces {
    /// Functions computing declared defaults.
    helpers: Vec<TokenStream>,
    /// `PropertyDef` entries of the type's table.
    defs: Vec<TokenStream>,
    /// Field initialisers of `new_default`.
    inits: Vec<TokenStream>,
    /// Match arms of `property_value`.
    gets: Vec<TokenStream>,
    /// Match arms of `set_property_value`.
    sets: Vec<TokenStream>,
    /// Typed getters and setters.
    accessors: Vec<TokenStream>,
}

/// The starting value of a state field: `Default::default()`, element by
/// element for an array (the standard library's `Default` stops at 32
/// elements; a device's register file is longer).
fn state_default(ty: &syn::Type) -> TokenStream {
    match ty {
        syn::Type::Array(a) => {
            let element = state_default(&a.elem);
            quote_spanned!(ty.span()=> ::core::array::from_fn(|_| #element))
        }
        syn::Type::Paren(p) => state_default(&p.elem),
        syn::Type::Group(g) => state_default(&g.elem),
        _ => quote_spanned!(ty.span()=> ::core::default::Default::default()),
    }
}

fn emit_property(f: &FieldModel, p: &PropertyModel, out: &mut Pieces) {
    let (member, vis, name, doc) = (f.member, f.vis, &p.name, &p.doc);
    // Every use of the field's type as a property type is spanned on the
    // type, so an unsupported type is reported there, once.
    let ty = f.ty;
    let pt = quote_spanned!(ty.span()=> <#ty as __compat::PropertyType>);
    // A declared default is written once, in a function typed by the field,
    // so a default of the wrong type is reported once, at the user's
    // expression; the instance and the type's table both call it.
    let (init, default) = match &p.default {
        Some(expr) => {
            let helper = format_ident!("__default_{}", member);
            out.helpers.push(quote! {
                #[allow(non_snake_case)]
                fn #helper() -> #ty {
                    #expr
                }
            });
            (
                quote!(#helper()),
                quote!(__compat::Some(|| #pt::to_value(&#helper()))),
            )
        }
        None => (quote!(#pt::zero()), quote!(__compat::None)),
    };
    let (sticky, local) = (p.sticky, p.local);
    // Checked by the compiler with the runtime's own parser.
    let mut value_text = |key: &str, text: &Option<syn::LitStr>| match text {
        Some(text) => {
            let message = format!(
                "`{key}` of property `{}` is not a value of its kind",
                name.value()
            );
            out.helpers.push(quote_spanned! {text.span()=>
                const _: () = ::core::assert!(#pt::KIND.accepts_text(#text), #message);
            });
            quote!(__compat::Some(#text))
        }
        None => quote!(__compat::None),
    };
    let absent = value_text("absent", &p.absent);
    let alike = value_text("alike", &p.alike);
    out.defs.push(quote! {
        __compat::PropertyDef {
            name: #name,
            kind: #pt::KIND,
            default: #default,
            doc: #doc,
            sticky: #sticky,
            local: #local,
            absent: #absent,
            alike: #alike,
        }
    });
    out.inits.push(quote!(#member: #init));
    out.gets.push(quote! {
        #name => __compat::Some(#pt::to_value(&self.#member)),
    });
    out.sets.push(quote! {
        #name => {
            self.#member = #pt::from_value(value).ok_or(
                __compat::SetPropertyError::WrongKind(#pt::KIND),
            )?;
            __compat::Ok(())
        }
    });
    let Some(getter) = &p.accessor else {
        return;
    };
    let setter = format_ident!("set_{}", getter);
    let get_doc = format!("The value of property `{}`.", name.value());
    let set_doc = format!("Set property `{}`.", name.value());
    if p.is_string {
        out.accessors.push(quote! {
            #[doc = #get_doc]
            #vis fn #getter(&self) -> &str {
                &self.#member
            }
            #[doc = #set_doc]
            #vis fn #setter(&mut self, value: impl ::core::convert::Into<::std::string::String>) {
                self.#member = value.into();
            }
        });
    } else {
        let clone = quote!(#pt::clone_property);
        out.accessors.push(quote! {
            #[doc = #get_doc]
            #vis fn #getter(&self) -> #ty {
                #clone(&self.#member)
            }
            #[doc = #set_doc]
            #vis fn #setter(&mut self, value: #ty) {
                self.#member = value;
            }
        });
    }
}

fn emit_bits(f: &FieldModel, bits: &[BitModel], out: &mut Pieces) {
    let (member, vis, ty) = (f.member, f.vis, f.ty);
    let bf = quote!(<#ty as __compat::BitField>);
    let mut set_defaults = Vec::new();
    for b in bits {
        let (name, doc, on) = (&b.name, &b.doc, b.default);
        let bit = Literal::u8_unsuffixed(b.bit);
        let kind = quote!(__compat::PropertyKind::Bit { bit: #bit, width: #bf::WIDTH });
        let default = if b.has_default {
            quote!(__compat::Some(|| __compat::PropertyValue::Bool(#on)))
        } else {
            quote!(__compat::None)
        };
        let (sticky, local) = (b.sticky, b.local);
        let absent = match &b.absent {
            Some(text) => quote!(__compat::Some(#text)),
            None => quote!(__compat::None),
        };
        out.defs.push(quote! {
            __compat::PropertyDef {
                name: #name,
                kind: #kind,
                default: #default,
                doc: #doc,
                sticky: #sticky,
                local: #local,
                absent: #absent,
                alike: __compat::None,
            }
        });
        set_defaults.push(quote!(bits = #bf::with_bit(bits, #bit, #on);));
        out.gets.push(quote! {
            #name => __compat::Some(
                __compat::PropertyValue::Bool(#bf::bit(self.#member, #bit)),
            ),
        });
        out.sets.push(quote! {
            #name => match value {
                __compat::PropertyValue::Bool(on) => {
                    self.#member = #bf::with_bit(self.#member, #bit, *on);
                    __compat::Ok(())
                }
                _ => __compat::Err(
                    __compat::SetPropertyError::WrongKind(#kind),
                ),
            },
        });
        let Some(getter) = &b.accessor else {
            continue;
        };
        let setter = format_ident!("set_{}", getter);
        let get_doc = format!("Whether bit property `{}` is on.", name.value());
        let set_doc = format!("Set bit property `{}`.", name.value());
        out.accessors.push(quote! {
            #[doc = #get_doc]
            #vis fn #getter(&self) -> bool {
                #bf::bit(self.#member, #bit)
            }
            #[doc = #set_doc]
            #vis fn #setter(&mut self, on: bool) {
                self.#member = #bf::with_bit(self.#member, #bit, on);
            }
        });
    }
    out.inits.push(quote! {
        #member: {
            let mut bits: #ty = 0;
            #(#set_defaults)*
            bits
        }
    });
}
