//! Stage 3 of `#[derive(VMState)]`: the rules, applied to the model as
//! written. Each rule records its mistake on the token it is about; the
//! checked model comes out of the fields that pass.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Ident, LitInt};

use super::ast::{Container, Field, Nullable, Shape};
use super::attrs::FieldAttrs;
use super::model::{FieldModel, Kind, Scalar, VmStateModel};
use crate::attr::type_text;
use crate::ctxt::Ctxt;

const SUPPORTED: &str =
    "VMState fields are bool, u8..u64, i8..i64, fixed arrays of them ([u8; N] is a \
                         byte buffer), Vec of them with `len = field, max = N`, another type \
                         deriving VMState (or a Box of one), a fixed array of those \
                         structs or a Vec of them with `len`, a 2-D array of scalars, a \
                         fixed array of nullable \
                         elements ([Option<T>; N] or [Option<Box<T>>; N]), or a list or \
                         map of structs";

pub fn check<'a>(cx: &Ctxt, mut c: Container<'a>) -> VmStateModel<'a> {
    let a = &c.attrs;
    if let Some(lit) = a.krate.get() {
        if let Err(e) = crate::krate::parse(lit) {
            cx.syn_error(e);
        }
    }
    let name = match a.name.get() {
        Some(lit) => {
            check_wire_name(cx, lit, "VMState name");
            lit.value()
        }
        None => {
            cx.error_spanned_by(
                c.ident,
                "missing `name` in #[vmstate(...)]: every VMState needs the name it has \
                 in the stream, e.g. #[vmstate(name = \"my-device\", version = 1)]",
            );
            String::new()
        }
    };
    let version = a.version.get().map(|l| parse_u32(cx, l)).unwrap_or(1);
    let minimum = a.minimum.get().map(|l| parse_u32(cx, l)).unwrap_or(version);
    if let Some(lit) = a.minimum.get() {
        if minimum > version {
            cx.error_spanned_by(
                lit,
                format!(
                    "minimum_version {minimum} is above version {version}: \
                     no stream could ever load"
                ),
            );
        }
    }

    // Properties are configuration, not state (QEMU never migrates them): a
    // field holding one migrates only if a #[vmstate(...)] on it says so.
    for f in &mut c.fields {
        if f.is_property && !f.attrs.present {
            f.attrs.skip.set(cx, Span::call_site(), ());
        }
    }

    let mut fields = Vec::new();
    // Wire name → (member, whether a nested struct).
    let mut wires: HashMap<String, (String, bool)> = HashMap::new();
    for (index, f) in c.fields.iter().enumerate() {
        let Some(mut model) = field(cx, f, version, &c.fields[..index], &c.fields) else {
            continue;
        };
        model.gated_since = model.since.filter(|&v| v > minimum);
        let on_wire = !matches!(
            model.kind,
            // QEMU names every temporary view "tmp".
            Kind::Skip | Kind::Unused(_) | Kind::Subsection(..) | Kind::Tmp(_)
        );
        if on_wire {
            // QEMU names a device's parts by the C member they sit in: two
            // nested structs may share one (e1000e's PCI function and its
            // MSI-X state are both `parent_obj`); anything else is a
            // mistake.
            let nested = matches!(model.kind, Kind::Struct);
            let entry = (f.member.to_string(), nested);
            if let Some((other, other_nested)) = wires.insert(model.wire.clone(), entry) {
                if nested && other_nested {
                    fields.push(model);
                    continue;
                }
                cx.error_spanned_by(
                    f.member,
                    format!(
                        "field `{}` has the wire name `{}` of field `{other}`; \
                         give one a `name = \"...\"`",
                        f.member, model.wire
                    ),
                );
            }
        }
        fields.push(model);
    }
    number_repeated_names(&mut fields);
    let a = c.attrs;
    VmStateModel {
        ident: c.ident,
        name,
        version,
        minimum_version: minimum,
        pre_save: a.pre_save.take().map(|(p, _)| p),
        pre_load: a.pre_load.take().map(|(p, _)| p),
        post_load: a.post_load.take().map(|(p, _)| p),
        fields,
    }
}

/// A name that goes on the wire with a one-byte length (QEMU's idstrs and
/// VMState names may hold any bytes, spaces included): not empty, at most
/// 255 bytes.
fn check_wire_name(cx: &Ctxt, lit: &syn::LitStr, what: &str) {
    let name = lit.value();
    if name.is_empty() {
        cx.error_spanned_by(lit, format!("{what} must not be empty"));
    } else if name.len() > 255 {
        cx.error_spanned_by(
            lit,
            format!(
                "{what} is {} bytes long; the stream carries at most 255",
                name.len()
            ),
        );
    }
}

fn parse_u32(cx: &Ctxt, lit: &LitInt) -> u32 {
    lit.base10_parse::<u32>().unwrap_or_else(|e| {
        cx.error_spanned_by(lit, e);
        0
    })
}

fn err_span(cx: &Ctxt, span: Option<Span>, fallback: &dyn ToTokens, msg: String) {
    match span {
        Some(s) => cx.error_at(s, msg),
        None => cx.error_spanned_by(fallback, msg),
    }
}

/// One field's rules: its keys together, then its kind.
fn field<'a>(
    cx: &Ctxt,
    f: &Field<'a>,
    version: u32,
    before: &[Field<'a>],
    all: &[Field<'a>],
) -> Option<FieldModel<'a>> {
    let (member, raw) = (f.member, &f.attrs);
    let wire = match raw.name.get() {
        Some(lit) => {
            check_wire_name(cx, lit, "field name");
            lit.value()
        }
        // QEMU names a temporary view's field "tmp".
        None if raw.tmp.get().is_some() => "tmp".to_owned(),
        None => member.to_string(),
    };
    let since = since(cx, member, raw, version);
    // `len` and `max` pair up on a variable array only; other shapes say
    // their own word about them.
    let var_array = matches!(f.shape, Shape::Vec(_));
    key_combinations(cx, member, raw, var_array);
    let kind = kind(cx, f, before, all)?;
    if let Some(span) = raw.elements.span() {
        if !matches!(kind, Kind::Array(Scalar::U8, _)) {
            err_span(
                cx,
                Some(span),
                member,
                "`elements` applies to byte arrays ([u8; N]), which are otherwise one buffer"
                    .into(),
            );
        } else if raw.mask.get().is_some() {
            err_span(
                cx,
                Some(span),
                member,
                "`elements` and `mask`: a check mask applies to a buffer".into(),
            );
        }
    }
    if let Some(span) = raw.timer.span() {
        if !matches!(kind, Kind::Scalar(Scalar::I64)) || raw.must_match.get().is_some() {
            err_span(
                cx,
                Some(span),
                member,
                "`timer` applies to an i64 expiry time (QEMU's VMSTATE_TIMER_PTR), not compared \
                 on load"
                    .into(),
            );
        }
    }
    if raw.mask.get().is_some() && !matches!(kind, Kind::Array(Scalar::U8, _)) {
        err_span(
            cx,
            raw.mask.span(),
            member,
            "`mask` applies to byte buffers ([u8; N])".into(),
        );
    }
    Some(FieldModel {
        member,
        ty: f.ty,
        layout_name: wire.clone(),
        wire,
        kind,
        since,
        gated_since: since,
        exists: raw.exists.get().cloned(),
        must_match: raw.must_match.get().is_some(),
        mask: raw.mask.get().cloned(),
        elements: raw.elements.get().is_some(),
        timer: raw.timer.get().is_some(),
    })
}

/// QEMU's trailer names the k-th of several fields of one name `NAME[k]`
/// (e1000e's `parent_obj[0]` and `parent_obj[1]`, `unused[0]`): each
/// field's trailer name, counting the fields written under each name.
fn number_repeated_names(fields: &mut [FieldModel]) {
    let written = |f: &FieldModel| -> Option<String> {
        match f.kind {
            Kind::Skip | Kind::Subsection(..) => None,
            Kind::Unused(_) => Some("unused".to_owned()),
            _ => Some(f.wire.clone()),
        }
    };
    let names: Vec<Option<String>> = fields.iter().map(written).collect();
    for (i, f) in fields.iter_mut().enumerate() {
        let Some(name) = &names[i] else { continue };
        let same = |n: &Option<String>| n.as_ref() == Some(name);
        if names.iter().filter(|n| same(n)).count() > 1 {
            let k = names[..i].iter().filter(|n| same(n)).count();
            f.layout_name = format!("{name}[{k}]");
        } else {
            f.layout_name = name.clone();
        }
    }
}

/// `since = V`: at most the struct's version, and not with `exists`.
fn since(cx: &Ctxt, member: &syn::Ident, raw: &FieldAttrs, version: u32) -> Option<u32> {
    let since = raw.since.get().map(|lit| {
        let v = parse_u32(cx, lit);
        if v > version {
            cx.error_spanned_by(
                lit,
                format!(
                    "field `{member}` is added in version {v}, above the struct's version \
                     {version}: raise `version` to {v} or more"
                ),
            );
        }
        v
    });
    if let (Some(_), Some(span)) = (raw.since.get(), raw.exists.span()) {
        cx.error_at(
            span,
            "`exists` decides alone whether a field is in the stream; drop `since` or `exists`",
        );
    }
    since
}

/// Keys that need another key.
fn key_combinations(cx: &Ctxt, member: &syn::Ident, raw: &FieldAttrs, var_array: bool) {
    if raw.mask.get().is_some() && raw.must_match.get().is_none() {
        err_span(
            cx,
            raw.mask.span(),
            member,
            "`mask` selects the bits `must_match` compares; add `must_match`".into(),
        );
    }
    if let (Some(span), None) = (raw.gate.span(), raw.subsection.get()) {
        cx.error_at(span, "`gate` belongs to a subsection: add `subsection`");
    }
    if raw.needed.get().is_some() && raw.subsection.get().is_none() {
        err_span(
            cx,
            raw.needed.span(),
            member,
            "`needed` belongs to a subsection: add `subsection`".into(),
        );
    }
    if var_array && (raw.len.get().is_some()) != (raw.max.get().is_some()) {
        let span = raw.len.span().or(raw.max.span());
        err_span(
            cx,
            span,
            member,
            "a variable array needs both `len = field` and `max = N` (the most elements a \
             stream may announce)"
                .into(),
        );
    }
}

/// What the field is on the wire: its role (`skip`, `unused`, a
/// subsection) or what its type says.
fn kind(cx: &Ctxt, f: &Field, before: &[Field], all: &[Field]) -> Option<Kind> {
    let raw = &f.attrs;
    if let (Some(span), false) = (
        raw.alloc.span(),
        matches!(f.shape, Shape::NullableArray { .. } | Shape::Unsupported),
    ) {
        cx.error_at(
            span,
            "`alloc` belongs on an array of nullable elements ([Option<T>; N])",
        );
    }
    match role(cx, f) {
        Some(kind) => kind,
        None => shape(cx, f, before, all),
    }
}

/// The kind of a field that has a role (`skip`, `unused`, `tmp`, a
/// subsection), itself `None` when the role is misused; `None` for a field
/// with no role, whose type says what it is.
fn role(cx: &Ctxt, f: &Field) -> Option<Option<Kind>> {
    let (member, raw) = (f.member, &f.attrs);
    let roles = [
        raw.skip.span().map(|s| ("skip", s)),
        raw.unused.span().map(|s| ("unused", s)),
        raw.subsection.span().map(|s| ("subsection", s)),
        raw.tmp.span().map(|s| ("tmp", s)),
    ];
    let roles: Vec<(&str, Span)> = roles.into_iter().flatten().collect();
    if let [(first, _), (second, span), ..] = roles.as_slice() {
        cx.error_at(
            *span,
            format!("`{second}` and `{first}` exclude each other"),
        );
        return Some(None);
    }
    // Keys of a field's own bytes, meaningless on a field that has none of
    // its own; a temporary view may still say whether it `exists` (QEMU's
    // `VMSTATE_WITH_TMP_TEST`).
    let plain_only = |what: &str| {
        let exists = if what == "`tmp`" {
            None
        } else {
            raw.exists.span()
        };
        for (key, span) in [
            ("since", raw.since.span()),
            ("exists", exists),
            ("must_match", raw.must_match.span()),
            ("len", raw.len.span()),
            ("max", raw.max.span()),
            ("qtailq", raw.qtailq.span()),
            ("qlist", raw.qlist.span()),
            ("gtree", raw.gtree.span()),
        ] {
            if let Some(span) = span {
                cx.error_at(span, format!("`{key}` has no meaning on a {what} field"));
            }
        }
    };
    if raw.skip.get().is_some() {
        plain_only("`skip`");
        return Some(Some(Kind::Skip));
    }
    if let Some(lit) = raw.unused.get() {
        plain_only("`unused`");
        return Some(Some(Kind::Unused(
            lit.base10_parse::<usize>().unwrap_or_else(|e| {
                cx.error_spanned_by(lit, e);
                0
            }),
        )));
    }
    if let Some(view) = raw.tmp.get() {
        plain_only("`tmp`");
        if !matches!(f.ty, syn::Type::Tuple(t) if t.elems.is_empty()) {
            cx.error_spanned_by(
                f.ty,
                "a `tmp` field only marks where the view's fields go: give it the type `()`",
            );
            return Some(None);
        }
        return Some(Some(Kind::Tmp(Box::new(view.clone()))));
    }
    if raw.subsection.get().is_some() {
        plain_only("subsection");
        return Some(match raw.needed.get() {
            Some(path) => Some(Kind::Subsection(path.clone(), raw.gate.get().cloned())),
            None => {
                err_span(
                    cx,
                    raw.subsection.span(),
                    member,
                    "a subsection needs `needed = path`: a fn(&Self) -> bool saying when to send it"
                        .into(),
                );
                None
            }
        });
    }
    None
}

/// The kind of a field with no role: what its type says.
fn shape(cx: &Ctxt, f: &Field, before: &[Field], all: &[Field]) -> Option<Kind> {
    let raw = &f.attrs;
    match &f.shape {
        Shape::Scalar(s) => {
            no_len(cx, raw);
            container_keys(cx, raw, None);
            Some(Kind::Scalar(*s))
        }
        Shape::Array(s, len) => {
            no_len(cx, raw);
            container_keys(cx, raw, None);
            Some(Kind::Array(*s, (*len).clone()))
        }
        Shape::Path => {
            no_len(cx, raw);
            container_keys(cx, raw, None);
            if let Some(span) = raw.must_match.span() {
                cx.error_at(
                    span,
                    "`must_match` compares scalars, arrays and byte buffers, not nested structs",
                );
            }
            Some(Kind::Struct)
        }
        Shape::StructArray(ty, len) => {
            no_len(cx, raw);
            container_keys(cx, raw, None);
            if let Some(span) = raw.must_match.span() {
                cx.error_at(
                    span,
                    "`must_match` compares scalars, arrays and byte buffers, not nested structs",
                );
            }
            Some(Kind::StructArray(Box::new((*ty).clone()), (*len).clone()))
        }
        Shape::Array2D(s, inner, outer) => {
            no_len(cx, raw);
            container_keys(cx, raw, None);
            if let Some(span) = raw.must_match.span() {
                cx.error_at(span, "`must_match` on a 2-D array is not supported");
            }
            Some(Kind::Array2D(*s, (*inner).clone(), (*outer).clone()))
        }
        Shape::Vec(elem) => {
            container_keys(cx, raw, None);
            var_array(cx, f, *elem, before, all)
        }
        Shape::StructList { elem } => struct_list(cx, f, elem, before, all),
        Shape::Map {
            key,
            key_scalar,
            value,
        } => map(cx, f, key, *key_scalar, value),
        Shape::NullableArray { elem, boxed, len } => {
            no_len(cx, raw);
            container_keys(cx, raw, None);
            if let Some(span) = raw.must_match.span() {
                cx.error_at(
                    span,
                    "`must_match` compares scalars, arrays and byte buffers, not arrays of \
                     nullable elements",
                );
            }
            let (elem_struct, scalar) = match elem {
                Nullable::Scalar(s) => (None, Some(*s)),
                Nullable::Struct(ty) => (Some(Box::new((*ty).clone())), None),
            };
            Some(Kind::NullableArray {
                elem_struct,
                scalar,
                boxed: *boxed,
                len: (*len).clone(),
                alloc: raw.alloc.get().is_some(),
            })
        }
        Shape::Unsupported => {
            cx.error_spanned_by(f.ty, format!("`{}`: {SUPPORTED}", type_text(f.ty)));
            None
        }
    }
}

/// A `Vec` or `VecDeque` of structs: a variable array or a list.
fn struct_list(
    cx: &Ctxt,
    f: &Field,
    elem: &syn::Type,
    before: &[Field],
    all: &[Field],
) -> Option<Kind> {
    let raw = &f.attrs;
    // With `len`, QEMU's `VMSTATE_STRUCT_VARRAY_*`: as many
    // elements as an earlier field says, one after another.
    if let Some(span) = raw.len.span() {
        if raw.qtailq.get().is_some() || raw.qlist.get().is_some() {
            cx.error_at(
                span,
                "`len` makes a Vec of structs a variable array (QEMU's \
                 VMSTATE_STRUCT_VARRAY); a list (`qtailq`, `qlist`) carries no \
                 length field: say one or the other",
            );
            return None;
        }
        container_keys(cx, raw, None);
        let (len_member, len_wire, max) = var_len(cx, f, before, all)?;
        return Some(Kind::StructVarArray {
            elem: Box::new(elem.clone()),
            len_member,
            len_wire,
            max,
        });
    }
    container_keys(cx, raw, Some("list"));
    let said = raw.qtailq.get().is_some() || raw.qlist.get().is_some();
    let max = container_max(
        cx,
        f,
        if said {
            "a list needs `max = N`: the most elements a load accepts"
        } else {
            "a Vec of structs is a list: say which of QEMU's encodings and the most \
             elements a load accepts, #[vmstate(qtailq, max = N)] or \
             #[vmstate(qlist, max = N)]"
        },
    )?;
    let qlist = raw.qlist.get().is_some();
    if raw.qtailq.get().is_none() && !qlist {
        cx.error_spanned_by(
            f.ty,
            "a Vec of structs is a list: add `qtailq` or `qlist` (QEMU's two \
             encodings' names)",
        );
        return None;
    }
    Some(Kind::List {
        elem: Box::new(elem.clone()),
        qlist,
        max,
    })
}

/// A `BTreeMap`: QEMU's `GTree`, its key a `u64` (direct) or a struct.
fn map(
    cx: &Ctxt,
    f: &Field,
    key: &syn::Type,
    key_scalar: Option<Scalar>,
    value: &syn::Type,
) -> Option<Kind> {
    let raw = &f.attrs;
    container_keys(cx, raw, Some("map"));
    let max = container_max(
        cx,
        f,
        if raw.gtree.get().is_some() {
            "a map needs `max = N`: the most entries a load accepts"
        } else {
            "a BTreeMap is QEMU's GTree: say so and the most entries a load accepts, \
             #[vmstate(gtree, max = N)]"
        },
    )?;
    if raw.gtree.get().is_none() {
        cx.error_spanned_by(f.ty, "a BTreeMap is QEMU's GTree: add `gtree`");
        return None;
    }
    let direct = match key_scalar {
        None => false,
        Some(Scalar::U64) => true,
        Some(_) => {
            cx.error_spanned_by(
                key,
                "a map's key is a u64 (QEMU's direct key) or a struct deriving VMState",
            );
            return None;
        }
    };
    Some(Kind::Map {
        key: Box::new(key.clone()),
        direct,
        value: Box::new(value.clone()),
        max,
    })
}

/// A `Vec` field: its element, and its length field — declared earlier,
/// an unsigned integer — with the maximum a stream may announce.
fn var_array(
    cx: &Ctxt,
    f: &Field,
    elem: Option<Scalar>,
    before: &[Field],
    all: &[Field],
) -> Option<Kind> {
    let Some(elem) = elem else {
        cx.error_spanned_by(f.ty, format!("`{}`: {SUPPORTED}", type_text(f.ty)));
        return None;
    };
    let (len_member, len_wire, max) = var_len(cx, f, before, all)?;
    Some(Kind::VarArray {
        elem,
        len_member,
        len_wire,
        max,
    })
}

/// The length of a variable array (`len = field, max = N`): its length
/// field — declared earlier, an unsigned integer — as member and wire
/// name, and the maximum a stream may announce.
fn var_len(
    cx: &Ctxt,
    f: &Field,
    before: &[Field],
    all: &[Field],
) -> Option<(Ident, String, usize)> {
    let (member, raw) = (f.member, &f.attrs);
    if let Some(span) = raw.must_match.span() {
        cx.error_at(span, "`must_match` on a variable array is not supported");
    }
    let (Some(len), Some(max)) = (raw.len.get(), raw.max.get()) else {
        if raw.len.get().is_none() && raw.max.get().is_none() {
            cx.error_spanned_by(
                f.ty,
                "a Vec field is a variable array: say which field holds its length \
                 and its maximum, #[vmstate(len = field, max = N)]",
            );
        }
        return None;
    };
    let max = declared_max(cx, max);
    let Some(len_field) = before.iter().find(|x| x.member == len) else {
        let later = all.iter().any(|x| x.member == len);
        let msg = if later {
            format!(
                "the length field `{len}` must come before `{member}`: a \
                 destination reads the length first"
            )
        } else {
            let members: Vec<String> = all.iter().map(|x| x.member.to_string()).collect();
            format!(
                "`len = {len}` names no field of this struct{}",
                compat_text::suggest::closest(&len.to_string(), members.iter().map(String::as_str))
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default()
            )
        };
        cx.error_spanned_by(len, msg);
        return None;
    };
    match len_field.shape {
        Shape::Scalar(s) if s.is_unsigned_int() => {}
        _ => {
            cx.error_spanned_by(
                len,
                format!(
                    "the length field `{len}` is `{}`; it must be an unsigned \
                     integer (u8, u16, u32 or u64)",
                    type_text(len_field.ty)
                ),
            );
            return None;
        }
    }
    let len_wire = len_field
        .attrs
        .name
        .get()
        .map(|lit| lit.value())
        .unwrap_or_else(|| len.to_string());
    Some((len.clone(), len_wire, max))
}

/// `qtailq`, `qlist` and `gtree` say which container a field is: one of
/// them, and only on a list (`what` = "list") or a map ("map").
fn container_keys(cx: &Ctxt, raw: &FieldAttrs, what: Option<&str>) {
    let list_keys = [("qtailq", raw.qtailq.span()), ("qlist", raw.qlist.span())];
    for (key, span) in list_keys {
        if let (Some(span), false) = (span, what == Some("list")) {
            cx.error_at(
                span,
                format!("`{key}` belongs on a Vec or VecDeque of structs"),
            );
        }
    }
    if let (Some(span), false) = (raw.gtree.span(), what == Some("map")) {
        cx.error_at(span, "`gtree` belongs on a BTreeMap");
    }
    if let (Some(_), Some(span)) = (raw.qtailq.span(), raw.qlist.span()) {
        cx.error_at(span, "`qlist` and `qtailq` exclude each other");
    }
    if what.is_some() {
        for (key, span) in [
            ("len", raw.len.span()),
            ("must_match", raw.must_match.span()),
        ] {
            if let Some(span) = span {
                cx.error_at(
                    span,
                    format!("`{key}` has no meaning on a {} field", what.unwrap_or("")),
                );
            }
        }
    }
}

/// The `max = N` a list or map needs.
fn container_max(cx: &Ctxt, f: &Field, missing: &str) -> Option<usize> {
    match f.attrs.max.get() {
        Some(lit) => Some(declared_max(cx, lit)),
        None => {
            cx.error_spanned_by(f.ty, missing);
            None
        }
    }
}

/// A `max = N`: a number no larger than the ceiling every load obeys, since
/// a stream may announce `N` elements and the load allocates for them.
fn declared_max(cx: &Ctxt, lit: &LitInt) -> usize {
    let ceiling = compat_text::limits::MAX_ELEMENTS;
    match lit.base10_parse::<u128>() {
        Ok(n) if n <= ceiling as u128 => n as usize,
        Ok(n) => {
            cx.error_spanned_by(
                lit,
                format!(
                    "`max = {n}` is above {ceiling}, the most elements a load may take from \
                     one length a stream announces"
                ),
            );
            0
        }
        Err(e) => {
            cx.error_spanned_by(lit, e);
            0
        }
    }
}

fn no_len(cx: &Ctxt, raw: &FieldAttrs) {
    if let Some(span) = raw.len.span().or(raw.max.span()) {
        cx.error_at(
            span,
            "`len` and `max` belong on a variable array (a Vec of scalars); `max` also \
             on a list or map",
        );
    }
}
