//! Stage 1 of `#[derive(VMState)]`: the `#[vmstate(...)]` keys as written,
//! each in a slot that refuses a second value. No rules here beyond the
//! syntax of each key.

use syn::{Ident, LitInt, LitStr, Path};

use crate::attr::{read_keys, value, Slot};
use crate::ctxt::Ctxt;

const A: &str = "vmstate";

const STRUCT_KEYS: &[&str] = &[
    "name",
    "version",
    "minimum_version",
    "pre_save",
    "pre_load",
    "post_load",
    "crate",
];

const FIELD_KEYS: &[&str] = &[
    "name",
    "since",
    "exists",
    "must_match",
    "mask",
    "skip",
    "unused",
    "subsection",
    "needed",
    "len",
    "max",
    "qtailq",
    "qlist",
    "gtree",
    "tmp",
    "alloc",
    "gate",
    "elements",
    "timer",
];

/// `#[vmstate(...)]` on the struct.
pub struct StructAttrs {
    pub name: Slot<LitStr>,
    pub version: Slot<LitInt>,
    pub minimum: Slot<LitInt>,
    pub pre_save: Slot<Path>,
    pub pre_load: Slot<Path>,
    pub post_load: Slot<Path>,
    pub krate: Slot<LitStr>,
}

impl StructAttrs {
    pub fn read(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut a = StructAttrs {
            name: Slot::new(A, "name"),
            version: Slot::new(A, "version"),
            minimum: Slot::new(A, "minimum_version"),
            pre_save: Slot::new(A, "pre_save"),
            pre_load: Slot::new(A, "pre_load"),
            post_load: Slot::new(A, "post_load"),
            krate: Slot::new(A, "crate"),
        };
        let _ = read_keys(cx, attrs, A, STRUCT_KEYS, |key, span, meta| {
            match key {
                "name" => a.name.set(cx, span, value(meta)?),
                "version" => a.version.set(cx, span, value(meta)?),
                "minimum_version" => a.minimum.set(cx, span, value(meta)?),
                "pre_save" => a.pre_save.set(cx, span, value(meta)?),
                "pre_load" => a.pre_load.set(cx, span, value(meta)?),
                "post_load" => a.post_load.set(cx, span, value(meta)?),
                _ => a.krate.set(cx, span, value(meta)?),
            }
            Ok(())
        });
        a
    }
}

/// `#[vmstate(...)]` on a field.
pub struct FieldAttrs {
    /// Whether the field has any `#[vmstate(...)]` at all.
    pub present: bool,
    pub name: Slot<LitStr>,
    pub since: Slot<LitInt>,
    pub exists: Slot<Path>,
    pub must_match: Slot<()>,
    pub mask: Slot<Path>,
    pub skip: Slot<()>,
    pub unused: Slot<LitInt>,
    pub subsection: Slot<()>,
    pub needed: Slot<Path>,
    pub len: Slot<Ident>,
    pub max: Slot<LitInt>,
    pub qtailq: Slot<()>,
    pub qlist: Slot<()>,
    pub gtree: Slot<()>,
    pub tmp: Slot<syn::Type>,
    pub alloc: Slot<()>,
    pub gate: Slot<syn::LitStr>,
    pub elements: Slot<()>,
    pub timer: Slot<()>,
}

impl FieldAttrs {
    pub fn read(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut a = FieldAttrs {
            present: attrs.iter().any(|x| x.path().is_ident(A)),
            name: Slot::new(A, "name"),
            since: Slot::new(A, "since"),
            exists: Slot::new(A, "exists"),
            must_match: Slot::new(A, "must_match"),
            elements: Slot::new(A, "elements"),
            timer: Slot::new(A, "timer"),
            mask: Slot::new(A, "mask"),
            skip: Slot::new(A, "skip"),
            unused: Slot::new(A, "unused"),
            subsection: Slot::new(A, "subsection"),
            needed: Slot::new(A, "needed"),
            len: Slot::new(A, "len"),
            max: Slot::new(A, "max"),
            qtailq: Slot::new(A, "qtailq"),
            qlist: Slot::new(A, "qlist"),
            gtree: Slot::new(A, "gtree"),
            tmp: Slot::new(A, "tmp"),
            alloc: Slot::new(A, "alloc"),
            gate: Slot::new(A, "gate"),
        };
        let _ = read_keys(cx, attrs, A, FIELD_KEYS, |key, span, meta| {
            match key {
                "name" => a.name.set(cx, span, value(meta)?),
                "since" => a.since.set(cx, span, value(meta)?),
                "exists" => a.exists.set(cx, span, value(meta)?),
                "must_match" => a.must_match.set(cx, span, ()),
                "elements" => a.elements.set(cx, span, ()),
                "timer" => a.timer.set(cx, span, ()),
                "mask" => a.mask.set(cx, span, value(meta)?),
                "skip" => a.skip.set(cx, span, ()),
                "unused" => a.unused.set(cx, span, value(meta)?),
                "subsection" => a.subsection.set(cx, span, ()),
                "needed" => a.needed.set(cx, span, value(meta)?),
                "len" => a.len.set(cx, span, value(meta)?),
                "qtailq" => a.qtailq.set(cx, span, ()),
                "qlist" => a.qlist.set(cx, span, ()),
                "gtree" => a.gtree.set(cx, span, ()),
                "tmp" => a.tmp.set(cx, span, value(meta)?),
                "alloc" => a.alloc.set(cx, span, ()),
                "gate" => a.gate.set(cx, span, value(meta)?),
                _ => a.max.set(cx, span, value(meta)?),
            }
            Ok(())
        });
        a
    }
}
