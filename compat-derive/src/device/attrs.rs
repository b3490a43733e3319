//! Stage 1 of `#[derive(Device)]`: the `#[device(...)]` and
//! `#[property(...)]` keys as written, each in a slot that refuses a second
//! value. No rules here beyond the syntax of each key.

use syn::{Expr, Lit, LitInt, LitStr, Path};

use crate::attr::{parse_flag, read_keys, value, Slot};
use crate::ctxt::Ctxt;

const DEVICE_KEYS: &[&str] = &[
    "name",
    "parent",
    "abstract",
    "hotpluggable",
    "user_creatable",
    "nic",
    "child",
    "bus",
    "provides_bus",
    "inert",
    "bus_slots",
    "vmstate",
    "realize",
    "crate",
];
const FIELD_DEVICE_KEYS: &[&str] = &["parent"];
const PROPERTY_KEYS: &[&str] = &[
    "name", "default", "bit", "doc", "accessor", "sticky", "local", "absent", "alike",
];

/// `#[device(...)]` on the struct.
pub struct DeviceAttrs {
    pub name: Slot<LitStr>,
    pub parent: Slot<syn::Type>,
    pub is_abstract: Slot<bool>,
    pub hotpluggable: Slot<bool>,
    pub user_creatable: Slot<bool>,
    pub nic: Slot<bool>,
    pub child: Slot<syn::Type>,
    pub bus: Slot<LitStr>,
    pub provides_bus: Slot<LitStr>,
    pub inert: Slot<LitStr>,
    pub bus_slots: Slot<LitInt>,
    pub vmstate: Slot<bool>,
    pub realize: Slot<Path>,
    pub krate: Slot<LitStr>,
}

impl DeviceAttrs {
    pub fn read(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let d = "device";
        let mut a = DeviceAttrs {
            name: Slot::new(d, "name"),
            parent: Slot::new(d, "parent"),
            is_abstract: Slot::new(d, "abstract"),
            hotpluggable: Slot::new(d, "hotpluggable"),
            user_creatable: Slot::new(d, "user_creatable"),
            nic: Slot::new(d, "nic"),
            child: Slot::new(d, "child"),
            bus: Slot::new(d, "bus"),
            provides_bus: Slot::new(d, "provides_bus"),
            inert: Slot::new(d, "inert"),
            bus_slots: Slot::new(d, "bus_slots"),
            vmstate: Slot::new(d, "vmstate"),
            realize: Slot::new(d, "realize"),
            krate: Slot::new(d, "crate"),
        };
        let _ = read_keys(cx, attrs, d, DEVICE_KEYS, |key, span, meta| {
            match key {
                "name" => a.name.set(cx, span, value(meta)?),
                "parent" => a.parent.set(cx, span, value(meta)?),
                "abstract" => a.is_abstract.set(cx, span, parse_flag(meta)?),
                "hotpluggable" => a.hotpluggable.set(cx, span, parse_flag(meta)?),
                "user_creatable" => a.user_creatable.set(cx, span, parse_flag(meta)?),
                "nic" => a.nic.set(cx, span, parse_flag(meta)?),
                "child" => a.child.set(cx, span, value(meta)?),
                "bus" => a.bus.set(cx, span, value(meta)?),
                "provides_bus" => a.provides_bus.set(cx, span, value(meta)?),
                "inert" => a.inert.set(cx, span, value(meta)?),
                "bus_slots" => a.bus_slots.set(cx, span, value(meta)?),
                "vmstate" => a.vmstate.set(cx, span, parse_flag(meta)?),
                "realize" => a.realize.set(cx, span, value(meta)?),
                _ => a.krate.set(cx, span, value(meta)?),
            }
            Ok(())
        });
        a
    }
}

/// One `#[property(...)]` as written.
pub struct PropertyAttrs<'a> {
    pub attr: &'a syn::Attribute,
    pub name: Slot<LitStr>,
    pub default: Slot<Expr>,
    pub bit: Slot<LitInt>,
    pub doc: Slot<LitStr>,
    pub accessor: Slot<Lit>,
    pub sticky: Slot<bool>,
    pub local: Slot<bool>,
    pub absent: Slot<LitStr>,
    pub alike: Slot<LitStr>,
}

/// The attributes of one field.
pub struct FieldAttrs<'a> {
    /// `#[device(parent)]`.
    pub parent: Slot<()>,
    /// Each `#[property(...)]` that parsed, in order.
    pub properties: Vec<PropertyAttrs<'a>>,
}

impl<'a> FieldAttrs<'a> {
    pub fn read(cx: &Ctxt, attrs: &'a [syn::Attribute]) -> Self {
        let mut parent = Slot::new("device", "parent");
        let _ = read_keys(cx, attrs, "device", FIELD_DEVICE_KEYS, |_, span, _| {
            parent.set(cx, span, ());
            Ok(())
        });
        let mut properties = Vec::new();
        for attr in attrs.iter().filter(|a| a.path().is_ident("property")) {
            let p = "property";
            let mut raw = PropertyAttrs {
                attr,
                name: Slot::new(p, "name"),
                default: Slot::new(p, "default"),
                bit: Slot::new(p, "bit"),
                doc: Slot::new(p, "doc"),
                accessor: Slot::new(p, "accessor"),
                sticky: Slot::new(p, "sticky"),
                local: Slot::new(p, "local"),
                absent: Slot::new(p, "absent"),
                alike: Slot::new(p, "alike"),
            };
            let parsed = read_keys(
                cx,
                std::slice::from_ref(attr),
                p,
                PROPERTY_KEYS,
                |key, span, meta| {
                    match key {
                        "name" => raw.name.set(cx, span, value(meta)?),
                        "default" => raw.default.set(cx, span, value(meta)?),
                        "bit" => raw.bit.set(cx, span, value(meta)?),
                        "doc" => raw.doc.set(cx, span, value(meta)?),
                        "sticky" => raw.sticky.set(cx, span, parse_flag(meta)?),
                        "absent" => raw.absent.set(cx, span, value(meta)?),
                        "alike" => raw.alike.set(cx, span, value(meta)?),
                        "local" => raw.local.set(cx, span, parse_flag(meta)?),
                        _ => raw.accessor.set(cx, span, value(meta)?),
                    }
                    Ok(())
                },
            );
            if parsed {
                properties.push(raw);
            }
        }
        FieldAttrs { parent, properties }
    }
}
