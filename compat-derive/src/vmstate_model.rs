//! The checked model of one `#[derive(VMState)]` struct.

use std::collections::HashMap;

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Expr, Ident, LitInt, LitStr, Path};

use crate::attr::{check_name, key_span, type_text, unknown_key, Slot};
use crate::ctxt::Ctxt;

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
];

/// The Rust primitive a scalar field is; the generated code names the
/// runtime's wire scalar of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Bool,
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
}

/// The scalar a Rust primitive type name stands for.
fn scalar_from_ident(ident: &str) -> Option<Scalar> {
    Some(match ident {
        "bool" => Scalar::Bool,
        "u8" => Scalar::U8,
        "u16" => Scalar::U16,
        "u32" => Scalar::U32,
        "u64" => Scalar::U64,
        "i8" => Scalar::I8,
        "i16" => Scalar::I16,
        "i32" => Scalar::I32,
        "i64" => Scalar::I64,
        _ => return None,
    })
}

/// The suffix of the reader/writer methods (`put_u16`, `get_u16_slice`).
pub fn method(s: Scalar) -> &'static str {
    match s {
        Scalar::Bool => "bool",
        Scalar::U8 => "u8",
        Scalar::U16 => "u16",
        Scalar::U32 => "u32",
        Scalar::U64 => "u64",
        Scalar::I8 => "i8",
        Scalar::I16 => "i16",
        Scalar::I32 => "i32",
        Scalar::I64 => "i64",
    }
}

fn is_unsigned_int(s: Scalar) -> bool {
    matches!(s, Scalar::U8 | Scalar::U16 | Scalar::U32 | Scalar::U64)
}

/// What a field is on the wire.
pub enum Kind {
    Scalar(Scalar),
    /// `[T; N]` of scalars (`[u8; N]` is a byte buffer).
    Array(Scalar, Expr),
    /// `Vec<T>` whose length is field `len`, at most `max`.
    VarArray {
        elem: Scalar,
        len_member: Ident,
        len_wire: String,
        max: usize,
    },
    /// Another `VMState` type.
    Struct,
    /// `unused = N`: N zero bytes, the field not migrated.
    Unused(usize),
    /// A subsection, sent when `needed` says so.
    Subsection(Path),
    /// `skip`: not migrated.
    Skip,
}

pub struct FieldModel<'a> {
    pub member: &'a Ident,
    pub ty: &'a syn::Type,
    /// The field's name on the wire and in descriptions.
    pub wire: String,
    pub kind: Kind,
    pub since: Option<u32>,
    pub exists: Option<Path>,
    pub must_match: bool,
    pub mask: Option<Path>,
}

pub struct VmStateModel<'a> {
    pub ident: &'a Ident,
    pub name: String,
    pub version: u32,
    pub minimum_version: u32,
    pub pre_save: Option<Path>,
    pub pre_load: Option<Path>,
    pub post_load: Option<Path>,
    pub fields: Vec<FieldModel<'a>>,
}

struct RawField {
    name: Slot<LitStr>,
    since: Slot<LitInt>,
    exists: Slot<Path>,
    must_match: Slot<()>,
    mask: Slot<Path>,
    skip: Slot<()>,
    unused: Slot<LitInt>,
    subsection: Slot<()>,
    needed: Slot<Path>,
    len: Slot<Ident>,
    max: Slot<LitInt>,
}

impl RawField {
    fn new() -> Self {
        let a = "vmstate";
        RawField {
            name: Slot::new(a, "name"),
            since: Slot::new(a, "since"),
            exists: Slot::new(a, "exists"),
            must_match: Slot::new(a, "must_match"),
            mask: Slot::new(a, "mask"),
            skip: Slot::new(a, "skip"),
            unused: Slot::new(a, "unused"),
            subsection: Slot::new(a, "subsection"),
            needed: Slot::new(a, "needed"),
            len: Slot::new(a, "len"),
            max: Slot::new(a, "max"),
        }
    }
}

fn parse_u32(cx: &Ctxt, lit: &LitInt) -> u32 {
    lit.base10_parse::<u32>().unwrap_or_else(|e| {
        cx.error_spanned_by(lit, e);
        0
    })
}

/// The syntactic shape of a field type.
enum Shape<'a> {
    Scalar(Scalar),
    Array(Scalar, &'a Expr),
    Vec(Option<Scalar>),
    Path,
    Unsupported,
}

fn shape(ty: &syn::Type) -> Shape<'_> {
    match ty {
        syn::Type::Group(g) => shape(&g.elem),
        syn::Type::Paren(p) => shape(&p.elem),
        syn::Type::Array(a) => match shape(&a.elem) {
            Shape::Scalar(s) => Shape::Array(s, &a.len),
            _ => Shape::Unsupported,
        },
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last().expect("a path has a segment");
            let ident = last.ident.to_string();
            if let Some(s) = scalar_from_ident(&ident) {
                return Shape::Scalar(s);
            }
            match (ident.as_str(), &last.arguments) {
                ("Vec", syn::PathArguments::AngleBracketed(args)) => {
                    let elem = args.args.first().and_then(|a| match a {
                        syn::GenericArgument::Type(t) => match shape(t) {
                            Shape::Scalar(s) => Some(s),
                            _ => None,
                        },
                        _ => None,
                    });
                    Shape::Vec(elem)
                }
                (
                    "f32" | "f64" | "usize" | "isize" | "u128" | "i128" | "char" | "str" | "String"
                    | "Option" | "Box" | "HashMap" | "BTreeMap",
                    _,
                ) => Shape::Unsupported,
                (_, syn::PathArguments::None) => Shape::Path,
                _ => Shape::Unsupported,
            }
        }
        _ => Shape::Unsupported,
    }
}

const SUPPORTED: &str =
    "VMState fields are bool, u8..u64, i8..i64, fixed arrays of them ([u8; N] is a \
                         byte buffer), Vec of them with `len = field, max = N`, or another type \
                         deriving VMState";

impl<'a> VmStateModel<'a> {
    pub fn from_ast(cx: &Ctxt, input: &'a syn::DeriveInput) -> Option<Self> {
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &input.generics,
                "#[derive(VMState)] does not support generic parameters",
            );
        }
        let named = match &input.data {
            syn::Data::Struct(s) => match &s.fields {
                syn::Fields::Named(f) => Some(&f.named),
                syn::Fields::Unit => None,
                syn::Fields::Unnamed(f) => {
                    cx.error_spanned_by(
                        f,
                        "#[derive(VMState)] needs a struct with named fields: each field's name \
                         is its name in the stream's description",
                    );
                    return None;
                }
            },
            syn::Data::Enum(e) => {
                cx.error_spanned_by(
                    e.enum_token,
                    "#[derive(VMState)] needs a struct with named fields, not an enum",
                );
                return None;
            }
            syn::Data::Union(u) => {
                cx.error_spanned_by(
                    u.union_token,
                    "#[derive(VMState)] needs a struct with named fields, not a union",
                );
                return None;
            }
        };

        let a = "vmstate";
        let mut name: Slot<LitStr> = Slot::new(a, "name");
        let mut version: Slot<LitInt> = Slot::new(a, "version");
        let mut minimum: Slot<LitInt> = Slot::new(a, "minimum_version");
        let mut pre_save: Slot<Path> = Slot::new(a, "pre_save");
        let mut pre_load: Slot<Path> = Slot::new(a, "pre_load");
        let mut post_load: Slot<Path> = Slot::new(a, "post_load");
        let mut krate: Slot<LitStr> = Slot::new(a, "crate");
        for attr in input.attrs.iter().filter(|x| x.path().is_ident("vmstate")) {
            let parsed = attr.parse_nested_meta(|meta| {
                let span = key_span(&meta);
                if meta.path.is_ident("name") {
                    name.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("version") {
                    version.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("minimum_version") {
                    minimum.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("pre_save") {
                    pre_save.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("pre_load") {
                    pre_load.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("post_load") {
                    post_load.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("crate") {
                    krate.set(cx, span, meta.value()?.parse()?);
                } else {
                    unknown_key(cx, a, &meta, STRUCT_KEYS)?;
                }
                Ok(())
            });
            if let Err(e) = parsed {
                cx.syn_error(e);
            }
        }
        if let Some(lit) = krate.get() {
            if let Err(e) = crate::krate::parse(lit) {
                cx.syn_error(e);
            }
        }
        let vmsd_name = match name.get() {
            Some(lit) => {
                check_name(cx, lit, "VMState name", &[]);
                lit.value()
            }
            None => {
                cx.error_spanned_by(
                    &input.ident,
                    "missing `name` in #[vmstate(...)]: every VMState needs the name it has \
                     in the stream, e.g. #[vmstate(name = \"my-device\", version = 1)]",
                );
                String::new()
            }
        };
        let version_n = version.get().map(|l| parse_u32(cx, l)).unwrap_or(1);
        let minimum_n = minimum.get().map(|l| parse_u32(cx, l)).unwrap_or(version_n);
        if let Some(lit) = minimum.get() {
            if minimum_n > version_n {
                cx.error_spanned_by(
                    lit,
                    format!(
                        "minimum_version {minimum_n} is above version {version_n}: \
                         no stream could ever load"
                    ),
                );
            }
        }

        let fields_ast: Vec<&syn::Field> = named.into_iter().flatten().collect();
        let members: Vec<String> = fields_ast
            .iter()
            .map(|f| f.ident.as_ref().expect("named").to_string())
            .collect();
        let mut fields = Vec::new();
        let mut wires: HashMap<String, String> = HashMap::new();
        for (index, field) in fields_ast.iter().enumerate() {
            let member = field.ident.as_ref().expect("named field");
            let mut raw = RawField::new();
            for attr in field.attrs.iter().filter(|x| x.path().is_ident("vmstate")) {
                let parsed = attr.parse_nested_meta(|meta| {
                    let span = key_span(&meta);
                    let p = &meta.path;
                    if p.is_ident("name") {
                        raw.name.set(cx, span, meta.value()?.parse()?);
                    } else if p.is_ident("since") {
                        raw.since.set(cx, span, meta.value()?.parse()?);
                    } else if p.is_ident("exists") {
                        raw.exists.set(cx, span, meta.value()?.parse()?);
                    } else if p.is_ident("must_match") {
                        raw.must_match.set(cx, span, ());
                    } else if p.is_ident("mask") {
                        raw.mask.set(cx, span, meta.value()?.parse()?);
                    } else if p.is_ident("skip") {
                        raw.skip.set(cx, span, ());
                    } else if p.is_ident("unused") {
                        raw.unused.set(cx, span, meta.value()?.parse()?);
                    } else if p.is_ident("subsection") {
                        raw.subsection.set(cx, span, ());
                    } else if p.is_ident("needed") {
                        raw.needed.set(cx, span, meta.value()?.parse()?);
                    } else if p.is_ident("len") {
                        raw.len.set(cx, span, meta.value()?.parse()?);
                    } else if p.is_ident("max") {
                        raw.max.set(cx, span, meta.value()?.parse()?);
                    } else {
                        unknown_key(cx, a, &meta, FIELD_KEYS)?;
                    }
                    Ok(())
                });
                if let Err(e) = parsed {
                    cx.syn_error(e);
                }
            }
            // Properties are configuration, not state (QEMU never migrates
            // them): a field holding one migrates only if a #[vmstate(...)]
            // on it says so.
            let is_property = field.attrs.iter().any(|a| a.path().is_ident("property"));
            let says_so = field.attrs.iter().any(|a| a.path().is_ident("vmstate"));
            if is_property && !says_so {
                raw.skip.set(cx, proc_macro2::Span::call_site(), ());
            }
            let Some(model) = field_model(
                cx,
                field,
                member,
                raw,
                version_n,
                &fields_ast[..index],
                &members,
            ) else {
                continue;
            };
            if !matches!(
                model.kind,
                Kind::Skip | Kind::Unused(_) | Kind::Subsection(_)
            ) {
                if let Some(other) = wires.insert(model.wire.clone(), member.to_string()) {
                    cx.error_spanned_by(
                        member,
                        format!(
                            "field `{member}` has the wire name `{}` of field `{other}`; \
                             give one a `name = \"...\"`",
                            model.wire
                        ),
                    );
                }
            }
            fields.push(model);
        }
        Some(VmStateModel {
            ident: &input.ident,
            name: vmsd_name,
            version: version_n,
            minimum_version: minimum_n,
            pre_save: pre_save.take().map(|(p, _)| p),
            pre_load: pre_load.take().map(|(p, _)| p),
            post_load: post_load.take().map(|(p, _)| p),
            fields,
        })
    }
}

fn err_span(cx: &Ctxt, span: Option<Span>, fallback: &dyn ToTokens, msg: String) {
    match span {
        Some(s) => cx.error_at(s, msg),
        None => cx.error_spanned_by(fallback, msg),
    }
}

fn field_model<'a>(
    cx: &Ctxt,
    field: &'a syn::Field,
    member: &'a Ident,
    raw: RawField,
    version: u32,
    before: &[&syn::Field],
    members: &[String],
) -> Option<FieldModel<'a>> {
    let wire = match raw.name.get() {
        Some(lit) => {
            check_name(cx, lit, "field name", &[]);
            lit.value()
        }
        None => member.to_string(),
    };
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
    if raw.mask.get().is_some() && raw.must_match.get().is_none() {
        err_span(
            cx,
            raw.mask.span(),
            member,
            "`mask` selects the bits `must_match` compares; add `must_match`".into(),
        );
    }
    if raw.needed.get().is_some() && raw.subsection.get().is_none() {
        err_span(
            cx,
            raw.needed.span(),
            member,
            "`needed` belongs to a subsection: add `subsection`".into(),
        );
    }
    if (raw.len.get().is_some()) != (raw.max.get().is_some()) {
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

    let roles = [
        raw.skip.span().map(|s| ("skip", s)),
        raw.unused.span().map(|s| ("unused", s)),
        raw.subsection.span().map(|s| ("subsection", s)),
    ];
    let roles: Vec<(&str, Span)> = roles.into_iter().flatten().collect();
    if let [(first, _), (second, span), ..] = roles.as_slice() {
        cx.error_at(
            *span,
            format!("`{second}` and `{first}` exclude each other"),
        );
        return None;
    }
    let plain_only = |what: &str| {
        for (key, span) in [
            ("since", raw.since.span()),
            ("exists", raw.exists.span()),
            ("must_match", raw.must_match.span()),
            ("len", raw.len.span()),
        ] {
            if let Some(span) = span {
                cx.error_at(span, format!("`{key}` has no meaning on a {what} field"));
            }
        }
    };

    let kind = if raw.skip.get().is_some() {
        plain_only("`skip`");
        Kind::Skip
    } else if let Some(lit) = raw.unused.get() {
        plain_only("`unused`");
        Kind::Unused(lit.base10_parse::<usize>().unwrap_or_else(|e| {
            cx.error_spanned_by(lit, e);
            0
        }))
    } else if raw.subsection.get().is_some() {
        plain_only("subsection");
        match raw.needed.take() {
            Some((path, _)) => Kind::Subsection(path),
            None => {
                err_span(
                    cx,
                    raw.subsection.span(),
                    member,
                    "a subsection needs `needed = path`: a fn(&Self) -> bool saying when to send it"
                        .into(),
                );
                return None;
            }
        }
    } else {
        match shape(&field.ty) {
            Shape::Scalar(s) => {
                no_len(cx, &raw);
                Kind::Scalar(s)
            }
            Shape::Array(s, len) => {
                no_len(cx, &raw);
                Kind::Array(s, len.clone())
            }
            Shape::Path => {
                no_len(cx, &raw);
                if let Some(span) = raw.must_match.span() {
                    cx.error_at(span, "`must_match` compares scalars, arrays and byte buffers, not nested structs");
                }
                Kind::Struct
            }
            Shape::Vec(elem) => {
                let Some(elem) = elem else {
                    cx.error_spanned_by(
                        &field.ty,
                        format!("`{}`: {SUPPORTED}", type_text(&field.ty)),
                    );
                    return None;
                };
                if let Some(span) = raw.must_match.span() {
                    cx.error_at(span, "`must_match` on a variable array is not supported");
                }
                let (Some(len), Some(max)) = (raw.len.get(), raw.max.get()) else {
                    if raw.len.get().is_none() && raw.max.get().is_none() {
                        cx.error_spanned_by(
                            &field.ty,
                            "a Vec field is a variable array: say which field holds its length \
                             and its maximum, #[vmstate(len = field, max = N)]",
                        );
                    }
                    return None;
                };
                let max = max.base10_parse::<usize>().unwrap_or_else(|e| {
                    cx.error_spanned_by(max, e);
                    0
                });
                let Some(len_field) = before.iter().find(|f| f.ident.as_ref() == Some(len)) else {
                    let later = members.iter().any(|m| len == m);
                    let msg = if later {
                        format!(
                            "the length field `{len}` must come before `{member}`: a \
                             destination reads the length first"
                        )
                    } else {
                        format!(
                            "`len = {len}` names no field of this struct{}",
                            compat_text::suggest::closest(
                                &len.to_string(),
                                members.iter().map(String::as_str)
                            )
                            .map(|c| format!("; did you mean `{c}`?"))
                            .unwrap_or_default()
                        )
                    };
                    cx.error_spanned_by(len, msg);
                    return None;
                };
                match shape(&len_field.ty) {
                    Shape::Scalar(s) if is_unsigned_int(s) => {}
                    _ => {
                        cx.error_spanned_by(
                            len,
                            format!(
                                "the length field `{len}` is `{}`; it must be an unsigned \
                                 integer (u8, u16, u32 or u64)",
                                type_text(&len_field.ty)
                            ),
                        );
                        return None;
                    }
                }
                let len_wire = vmstate_wire_name(len_field).unwrap_or_else(|| len.to_string());
                Kind::VarArray {
                    elem,
                    len_member: len.clone(),
                    len_wire,
                    max,
                }
            }
            Shape::Unsupported => {
                cx.error_spanned_by(
                    &field.ty,
                    format!("`{}`: {SUPPORTED}", type_text(&field.ty)),
                );
                return None;
            }
        }
    };
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
        ty: &field.ty,
        wire,
        kind,
        since,
        exists: raw.exists.take().map(|(p, _)| p),
        must_match: raw.must_match.get().is_some(),
        mask: raw.mask.take().map(|(p, _)| p),
    })
}

fn no_len(cx: &Ctxt, raw: &RawField) {
    if let Some(span) = raw.len.span() {
        cx.error_at(
            span,
            "`len` and `max` belong on a Vec field (a variable array)",
        );
    }
}

/// The wire name a field's own `#[vmstate(name = "...")]` gives it.
fn vmstate_wire_name(field: &syn::Field) -> Option<String> {
    let mut out = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("vmstate")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let lit: LitStr = meta.value()?.parse()?;
                out = Some(lit.value());
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<Expr>()?;
            }
            Ok(())
        });
    }
    out
}
