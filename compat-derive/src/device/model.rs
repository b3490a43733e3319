//! The checked model of a `#[derive(Device)]` struct: what stage 3
//! (`check`) produces and stage 4 (`emit`) reads. Everything in it obeys
//! the rules.

use proc_macro2::TokenStream;
use syn::{Ident, LitStr};

/// One device type.
pub struct DeviceModel<'a> {
    pub ident: &'a Ident,
    pub name: String,
    /// `parent = T`: the Rust type of the parent device type.
    pub parent: Option<syn::Type>,
    pub is_abstract: bool,
    pub hotpluggable: bool,
    /// `user_creatable = false`: only a machine creates it, never `-device`.
    pub user_creatable: bool,
    /// `nic`: a network card model, created once at start-up to list the
    /// models.
    pub nic: bool,
    /// `child = T`: the device type whose instance this one holds and
    /// whose properties it forwards (QEMU's virtio PCI proxies).
    pub child: Option<syn::Type>,
    /// `bus = "KIND"`: the kind of bus instances plug into.
    pub bus: Option<String>,
    /// `inert = "a, b"`: inherited properties without effect on this type,
    /// with the literal to span errors on.
    pub inert: Option<(Vec<String>, syn::LitStr)>,
    /// `provides_bus = "KIND"`: instances provide a bus of that kind,
    /// named by their id.
    pub provides_bus: Option<String>,
    /// `bus_slots = N`: how many slots the provided bus has.
    pub bus_slots: u8,
    /// `vmstate`: instances migrate with the struct's `#[derive(VMState)]`.
    /// The span of the key, where a missing derive is reported.
    pub vmstate: Option<proc_macro2::Span>,
    /// `realize = path`: `fn(&mut Self, &Board) -> Result<(), E>` where `E`
    /// converts into `RealizeError` (a `String` does).
    pub realize: Option<syn::Path>,
    pub description: String,
    pub fields: Vec<FieldModel<'a>>,
    /// `false` for a unit struct.
    pub braced: bool,
}

pub struct FieldModel<'a> {
    pub member: &'a Ident,
    pub ty: &'a syn::Type,
    pub vis: &'a syn::Visibility,
    pub role: Role,
}

pub enum Role {
    /// The embedded parent instance (`#[device(parent)]`).
    Parent,
    /// A field holding one property.
    Property(PropertyModel),
    /// An unsigned integer field holding one or more bit properties.
    Bits(Vec<BitModel>),
    /// Any other state: initialised with `Default::default()`.
    State,
}

pub struct PropertyModel {
    pub name: LitStr,
    /// The expression that initialises the field, typed by the field.
    pub default: Option<TokenStream>,
    pub doc: String,
    /// The getter's name (the setter adds `set_`); `None` with
    /// `accessor = false`.
    pub accessor: Option<Ident>,
    /// The field is a `String`: the getter returns `&str`.
    pub is_string: bool,
    /// An incoming migration may carry its value onto this device.
    pub sticky: bool,
    /// A setting of the host, which may differ between the two sides.
    pub local: bool,
    /// `absent = "VALUE"`: how a release without the property behaved.
    pub absent: Option<LitStr>,
    /// `alike = "VALUE"`: a value that behaves as the default.
    pub alike: Option<LitStr>,
}

pub struct BitModel {
    pub name: LitStr,
    /// The bit index, checked to be within the field's width.
    pub bit: u8,
    pub default: bool,
    pub has_default: bool,
    pub doc: String,
    pub accessor: Option<Ident>,
    /// An incoming migration may carry its value onto this device.
    pub sticky: bool,
    /// A setting of the host, which may differ between the two sides.
    pub local: bool,
    /// `absent = "on"|"off"`: how a release without the property behaved.
    pub absent: Option<LitStr>,
}
