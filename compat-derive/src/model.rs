//! The checked model of one `#[derive(Device)]` struct: every attribute read,
//! every rule that can be checked at expansion applied, every mistake
//! recorded in the [`Ctxt`] with the span of its token. Code generation
//! (`device.rs`) only reads this model.

use std::collections::HashMap;

use compat_text::number::{parse_size, IntKind, SIZE_EXPECTS};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Ident, Lit, LitInt, LitStr, UnOp};

use crate::attr::{check_name, doc_summary, key_span, type_text, unknown_key, Slot};
use crate::ctxt::Ctxt;

const DEVICE_KEYS: &[&str] = &[
    "name",
    "parent",
    "abstract",
    "hotpluggable",
    "vmstate",
    "realize",
    "crate",
];
const FIELD_DEVICE_KEYS: &[&str] = &["parent"];
const PROPERTY_KEYS: &[&str] = &["name", "default", "bit", "doc", "accessor"];

/// One device type.
pub struct DeviceModel<'a> {
    pub ident: &'a Ident,
    pub name: String,
    /// `parent = T`: the Rust type of the parent device type.
    pub parent: Option<syn::Type>,
    pub is_abstract: bool,
    pub hotpluggable: bool,
    /// `vmstate`: instances migrate with the struct's `#[derive(VMState)]`.
    pub vmstate: bool,
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
}

pub struct BitModel {
    pub name: LitStr,
    /// The bit index, checked to be within the field's width.
    pub bit: u8,
    pub default: bool,
    pub has_default: bool,
    pub doc: String,
    pub accessor: Option<Ident>,
}

/// What a field's type says about the property it may hold, read from the
/// syntax. Types the derive does not recognise are left to the
/// `PropertyType` trait bound (enums, aliases).
#[derive(Clone, Copy)]
enum TypeClass {
    Bool,
    Int(IntKind),
    Size,
    Str,
    Other,
}

const SUPPORTED: &str =
    "property fields are bool, u8, u16, u32, u64, i32, i64, String, compat_core::Size, \
     or an enum deriving PropertyEnum";

fn classify(ty: &syn::Type) -> Result<TypeClass, String> {
    match ty {
        syn::Type::Group(g) => classify(&g.elem),
        syn::Type::Paren(p) => classify(&p.elem),
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last().expect("a path has a segment");
            let ident = last.ident.to_string();
            if !last.arguments.is_none() {
                return Err(format!(
                    "`{}` cannot hold a device property; {SUPPORTED}",
                    type_text(ty)
                ));
            }
            Ok(match ident.as_str() {
                "bool" => TypeClass::Bool,
                "u8" => TypeClass::Int(IntKind::U8),
                "u16" => TypeClass::Int(IntKind::U16),
                "u32" => TypeClass::Int(IntKind::U32),
                "u64" => TypeClass::Int(IntKind::U64),
                "i32" => TypeClass::Int(IntKind::I32),
                "i64" => TypeClass::Int(IntKind::I64),
                "String" => TypeClass::Str,
                "Size" => TypeClass::Size,
                "f32" | "f64" | "usize" | "isize" | "i8" | "i16" | "u128" | "i128" | "char"
                | "str" => {
                    return Err(format!(
                        "`{ident}` cannot hold a device property; {SUPPORTED}"
                    ))
                }
                _ => TypeClass::Other,
            })
        }
        other => Err(format!(
            "`{}` cannot hold a device property; {SUPPORTED}",
            type_text(other)
        )),
    }
}

fn bit_width(class: TypeClass) -> Option<u32> {
    match class {
        TypeClass::Int(IntKind::U8) => Some(8),
        TypeClass::Int(IntKind::U16) => Some(16),
        TypeClass::Int(IntKind::U32) => Some(32),
        TypeClass::Int(IntKind::U64) => Some(64),
        _ => None,
    }
}

/// One `#[property(...)]` as written.
struct RawProperty<'a> {
    attr: &'a syn::Attribute,
    name: Slot<LitStr>,
    default: Slot<Expr>,
    bit: Slot<LitInt>,
    doc: Slot<LitStr>,
    accessor: Slot<Lit>,
}

impl<'a> DeviceModel<'a> {
    pub fn from_ast(cx: &Ctxt, input: &'a syn::DeriveInput) -> Option<Self> {
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &input.generics,
                "#[derive(Device)] does not support generic parameters: a device type is one concrete type",
            );
        }
        let (named, braced) = match &input.data {
            syn::Data::Struct(s) => match &s.fields {
                syn::Fields::Named(f) => (Some(&f.named), true),
                syn::Fields::Unit => (None, false),
                syn::Fields::Unnamed(f) => {
                    cx.error_spanned_by(
                        f,
                        "#[derive(Device)] needs a struct with named fields (or a unit struct): \
                         properties and the parent are found by field name",
                    );
                    return None;
                }
            },
            syn::Data::Enum(e) => {
                cx.error_spanned_by(
                    e.enum_token,
                    "#[derive(Device)] needs a struct with named fields, not an enum \
                     (for an enum property type, derive `PropertyEnum`)",
                );
                return None;
            }
            syn::Data::Union(u) => {
                cx.error_spanned_by(
                    u.union_token,
                    "#[derive(Device)] needs a struct with named fields, not a union",
                );
                return None;
            }
        };

        let mut name: Slot<LitStr> = Slot::new("device", "name");
        let mut parent: Slot<syn::Type> = Slot::new("device", "parent");
        let mut is_abstract: Slot<bool> = Slot::new("device", "abstract");
        let mut hotpluggable: Slot<bool> = Slot::new("device", "hotpluggable");
        let mut vmstate: Slot<bool> = Slot::new("device", "vmstate");
        let mut realize: Slot<syn::Path> = Slot::new("device", "realize");
        for attr in &input.attrs {
            if attr.path().is_ident("property") {
                cx.error_spanned_by(attr, "#[property(...)] goes on a field, not on the struct");
                continue;
            }
            if !attr.path().is_ident("device") {
                continue;
            }
            let parsed = attr.parse_nested_meta(|meta| {
                let span = key_span(&meta);
                if meta.path.is_ident("name") {
                    name.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("parent") {
                    parent.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("abstract") {
                    is_abstract.set(cx, span, parse_flag(&meta)?);
                } else if meta.path.is_ident("hotpluggable") {
                    hotpluggable.set(cx, span, parse_flag(&meta)?);
                } else if meta.path.is_ident("vmstate") {
                    vmstate.set(cx, span, parse_flag(&meta)?);
                } else if meta.path.is_ident("realize") {
                    realize.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("crate") {
                    let lit: LitStr = meta.value()?.parse()?;
                    if let Err(e) = crate::krate::parse(&lit) {
                        cx.syn_error(e);
                    }
                } else {
                    unknown_key(cx, "device", &meta, DEVICE_KEYS)?;
                }
                Ok(())
            });
            if let Err(e) = parsed {
                cx.syn_error(e);
            }
        }
        let type_name = match name.get() {
            Some(lit) => {
                check_name(cx, lit, "device type name", &['.']);
                lit.value()
            }
            None => {
                cx.error_spanned_by(
                    &input.ident,
                    "missing `name` in #[device(...)]: every device type needs one, \
                     e.g. #[device(name = \"my-device\")]",
                );
                input.ident.to_string()
            }
        };

        let mut fields = Vec::new();
        let mut props_seen: HashMap<String, String> = HashMap::new();
        let mut accessors_seen: HashMap<String, String> = HashMap::new();
        let mut parent_field: Option<&Ident> = None;
        for field in named.into_iter().flatten() {
            let member = field.ident.as_ref().expect("named field");
            let role = field_role(cx, field, &mut parent_field);
            let names: Vec<(&LitStr, Option<&Ident>)> = match &role {
                Role::Property(p) => vec![(&p.name, p.accessor.as_ref())],
                Role::Bits(bits) => bits
                    .iter()
                    .map(|b| (&b.name, b.accessor.as_ref()))
                    .collect(),
                Role::Parent | Role::State => vec![],
            };
            for (lit, accessor) in names {
                let prop = lit.value();
                if let Some(other) = props_seen.insert(prop.clone(), member.to_string()) {
                    cx.error_spanned_by(
                        lit,
                        format!(
                            "duplicate property name `{prop}` (already declared on field `{other}`)"
                        ),
                    );
                    continue;
                }
                let Some(accessor) = accessor else {
                    continue;
                };
                let acc = accessor.to_string();
                let acc = acc.trim_start_matches("r#");
                for method in [acc.to_owned(), format!("set_{acc}")] {
                    if let Some(other) = accessors_seen.insert(method.clone(), prop.clone()) {
                        cx.error_spanned_by(
                            lit,
                            format!(
                                "properties `{other}` and `{prop}` would both generate the \
                                 accessor `{method}()`; rename one with `accessor = \"...\"`"
                            ),
                        );
                        break;
                    }
                }
            }
            fields.push(FieldModel {
                member,
                ty: &field.ty,
                vis: &field.vis,
                role,
            });
        }

        let parent = parent.take().map(|(ty, _)| ty);
        match (&parent, parent_field) {
            (Some(ty), None) => cx.error_spanned_by(
                ty,
                format!(
                    "a device with `parent = {}` holds its parent's state: add a field of that \
                     type marked #[device(parent)]",
                    ty.to_token_stream()
                ),
            ),
            (None, Some(member)) => cx.error_spanned_by(
                member,
                "#[device(parent)] needs the parent type named on the struct: \
                 #[device(name = \"...\", parent = ParentType)]",
            ),
            _ => {}
        }

        Some(DeviceModel {
            ident: &input.ident,
            name: type_name,
            parent,
            is_abstract: is_abstract.get().copied().unwrap_or(false),
            hotpluggable: hotpluggable.get().copied().unwrap_or(true),
            vmstate: vmstate.get().copied().unwrap_or(false),
            realize: realize.take().map(|(p, _)| p),
            description: doc_summary(&input.attrs),
            fields,
            braced,
        })
    }
}

/// `key` alone means true; `key = true|false` says so explicitly.
fn parse_flag(meta: &syn::meta::ParseNestedMeta) -> syn::Result<bool> {
    if meta.input.peek(syn::Token![=]) {
        let lit: syn::LitBool = meta.value()?.parse()?;
        Ok(lit.value)
    } else {
        Ok(true)
    }
}

fn field_role<'a>(cx: &Ctxt, field: &'a syn::Field, parent_field: &mut Option<&'a Ident>) -> Role {
    let member = field.ident.as_ref().expect("named field");
    let mut is_parent: Slot<()> = Slot::new("device", "parent");
    let mut raws: Vec<RawProperty<'a>> = Vec::new();
    for attr in &field.attrs {
        if attr.path().is_ident("device") {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("parent") {
                    is_parent.set(cx, key_span(&meta), ());
                    Ok(())
                } else {
                    unknown_key(cx, "device", &meta, FIELD_DEVICE_KEYS)
                }
            });
            if let Err(e) = parsed {
                cx.syn_error(e);
            }
        } else if attr.path().is_ident("property") {
            let mut raw = RawProperty {
                attr,
                name: Slot::new("property", "name"),
                default: Slot::new("property", "default"),
                bit: Slot::new("property", "bit"),
                doc: Slot::new("property", "doc"),
                accessor: Slot::new("property", "accessor"),
            };
            let parsed = attr.parse_nested_meta(|meta| {
                let span = key_span(&meta);
                if meta.path.is_ident("name") {
                    raw.name.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("default") {
                    raw.default.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("bit") {
                    raw.bit.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("doc") {
                    raw.doc.set(cx, span, meta.value()?.parse()?);
                } else if meta.path.is_ident("accessor") {
                    raw.accessor.set(cx, span, meta.value()?.parse()?);
                } else {
                    unknown_key(cx, "property", &meta, PROPERTY_KEYS)?;
                }
                Ok(())
            });
            match parsed {
                Ok(()) => raws.push(raw),
                Err(e) => cx.syn_error(e),
            }
        }
    }

    if let Some(span) = is_parent.span() {
        if let Some(first) = parent_field {
            cx.error_at(
                span,
                format!("only one field can hold the parent; `{first}` already does"),
            );
        } else {
            *parent_field = Some(member);
        }
        if let Some(raw) = raws.first() {
            cx.error_spanned_by(
                raw.attr,
                "the parent field holds the parent's properties; it cannot be a property itself",
            );
        }
        return Role::Parent;
    }
    if raws.is_empty() {
        return Role::State;
    }

    let class = match classify(&field.ty) {
        Ok(class) => class,
        Err(message) => {
            cx.error_spanned_by(&field.ty, message);
            return Role::State;
        }
    };
    let field_doc = doc_summary(&field.attrs);
    let bits = raws.iter().filter(|r| r.bit.get().is_some()).count();
    if bits == 0 {
        if let Some(second) = raws.get(1) {
            cx.error_spanned_by(
                second.attr,
                "a field holds one property, unless each of its properties is a bit \
                 (`bit = N`)",
            );
        }
        let raw = raws.swap_remove(0);
        let Some(name) = property_name(cx, &raw) else {
            return Role::State;
        };
        let default = raw
            .default
            .get()
            .and_then(|expr| default_init(cx, class, &field.ty, expr, &name));
        return Role::Property(PropertyModel {
            accessor: accessor(cx, &raw, &name),
            doc: raw.doc.get().map(LitStr::value).unwrap_or(field_doc),
            is_string: matches!(class, TypeClass::Str),
            name,
            default,
        });
    }
    if bits != raws.len() {
        let plain = raws
            .iter()
            .find(|r| r.bit.get().is_none())
            .expect("a plain one");
        cx.error_spanned_by(
            plain.attr,
            "a field holding bit properties holds only bit properties: add `bit = N`",
        );
    }
    let Some(width) = bit_width(class) else {
        cx.error_spanned_by(
            &field.ty,
            format!(
                "bit properties live in an unsigned integer field (u8, u16, u32 or u64), \
                 not `{}`",
                type_text(&field.ty)
            ),
        );
        return Role::State;
    };
    let single = raws.len() == 1;
    let mut models = Vec::new();
    let mut bits_seen: HashMap<u32, String> = HashMap::new();
    for raw in &raws {
        let (Some(name), Some(bit)) = (property_name(cx, raw), raw.bit.get()) else {
            continue;
        };
        let mut index = 0;
        match bit.base10_parse::<u32>() {
            Ok(n) if n < width => {
                index = n as u8;
                if let Some(other) = bits_seen.insert(n, name.value()) {
                    cx.error_spanned_by(
                        bit,
                        format!("bit {n} of `{member}` already holds property `{other}`"),
                    );
                }
            }
            Ok(n) => cx.error_spanned_by(
                bit,
                format!(
                    "bit {n} is beyond the width of the u{width} field `{member}` (bits 0..={})",
                    width - 1
                ),
            ),
            Err(e) => cx.error_spanned_by(bit, e),
        }
        let default = match raw.default.get() {
            None => false,
            Some(Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            })) => b.value,
            Some(other) => {
                cx.error_spanned_by(
                    other,
                    format!(
                        "expected `true` or `false` as the default of bit property `{}`",
                        name.value()
                    ),
                );
                false
            }
        };
        models.push(BitModel {
            accessor: accessor(cx, raw, &name),
            doc: raw.doc.get().map(LitStr::value).unwrap_or_else(|| {
                if single {
                    field_doc.clone()
                } else {
                    String::new()
                }
            }),
            bit: index,
            default,
            has_default: raw.default.get().is_some(),
            name,
        });
    }
    Role::Bits(models)
}

fn property_name(cx: &Ctxt, raw: &RawProperty) -> Option<LitStr> {
    match raw.name.get() {
        Some(lit) => {
            check_name(cx, lit, "property name", &[]);
            Some(lit.clone())
        }
        None => {
            cx.error_spanned_by(
                raw.attr,
                "missing `name` in #[property(...)], e.g. #[property(name = \"num-queues\")]",
            );
            None
        }
    }
}

/// An integer literal, possibly negated, as the text a user would type.
fn int_literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => Some(i.base10_digits().to_owned()),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => int_literal(expr).map(|digits| format!("-{digits}")),
        Expr::Group(g) => int_literal(&g.expr),
        Expr::Paren(p) => int_literal(&p.expr),
        _ => None,
    }
}

fn literal_kind(expr: &Expr) -> Option<&'static str> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(match lit {
            Lit::Str(_) => "a string literal",
            Lit::Int(_) => "an integer literal",
            Lit::Float(_) => "a float literal",
            Lit::Bool(_) => "a bool literal",
            Lit::Char(_) => "a char literal",
            _ => "a literal",
        }),
        _ => None,
    }
}

/// The expression initialising a property field to its default, checked
/// against the field's kind with the runtime's own parser where it is a
/// literal; other expressions are left to the type checker, spanned on the
/// user's tokens.
fn default_init(
    cx: &Ctxt,
    class: TypeClass,
    ty: &syn::Type,
    expr: &Expr,
    name: &LitStr,
) -> Option<TokenStream> {
    let prop = name.value();
    let mismatch = |want: &str| {
        let found = literal_kind(expr).unwrap_or("an expression");
        cx.error_spanned_by(
            expr,
            format!("expected {want} as the default of property `{prop}`, found {found}"),
        );
        None
    };
    match class {
        TypeClass::Bool => match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Bool(_), ..
            }) => Some(expr.to_token_stream()),
            _ => mismatch("`true` or `false`"),
        },
        TypeClass::Int(kind) => match int_literal(expr) {
            Some(text) => match kind.parse(text.as_bytes()) {
                Some(_) => Some(expr.to_token_stream()),
                None => {
                    cx.error_spanned_by(
                        expr,
                        format!(
                            "default `{text}` of property `{prop}` is out of range: expects {}",
                            kind.expects()
                        ),
                    );
                    None
                }
            },
            None if literal_kind(expr).is_some() => {
                mismatch(&format!("an integer literal ({})", kind.expects()))
            }
            None => Some(expr.to_token_stream()),
        },
        TypeClass::Size => {
            let text = match expr {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => int_literal(expr),
            };
            match text {
                Some(text) => match parse_size(text.as_bytes()) {
                    Some(bytes) => Some(quote_spanned!(expr.span()=> __compat::Size(#bytes))),
                    None => {
                        cx.error_spanned_by(
                            expr,
                            format!(
                                "default `{text}` of property `{prop}` is not a size: expects \
                                 {SIZE_EXPECTS}"
                            ),
                        );
                        None
                    }
                },
                None if literal_kind(expr).is_some() => {
                    mismatch("a byte count or a size string like \"4K\"")
                }
                None => Some(expr.to_token_stream()),
            }
        }
        TypeClass::Str => match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Str(_), ..
            }) => Some(quote_spanned!(expr.span()=> ::std::string::String::from(#expr))),
            _ if literal_kind(expr).is_some() => mismatch("a string literal"),
            _ => Some(quote_spanned!(expr.span()=> ::std::string::String::from(#expr))),
        },
        TypeClass::Other => match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Str(_), ..
            }) => {
                cx.error_spanned_by(
                    expr,
                    format!(
                        "the default of property `{prop}` is a value of `{}`, \
                         e.g. a variant path like `OnOffAuto::Auto`, not a string",
                        type_text(ty)
                    ),
                );
                None
            }
            _ => Some(quote!(#expr)),
        },
    }
}

/// The getter of property `name`: `accessor = "ident"` names it,
/// `accessor = false` drops both getter and setter (for a property whose
/// snake-case name is a method the type already has, such as `set_irq`),
/// and without the key it is the property's name in snake case.
fn accessor(cx: &Ctxt, raw: &RawProperty, name: &LitStr) -> Option<Ident> {
    match raw.accessor.get() {
        None | Some(Lit::Bool(syn::LitBool { value: true, .. })) => {
            Some(accessor_ident(&name.value(), name.span()))
        }
        Some(Lit::Bool(_)) => None,
        Some(Lit::Str(s)) => match s.parse::<Ident>() {
            Ok(ident) => Some(ident),
            Err(_) => {
                cx.error_spanned_by(s, "`accessor` names a method: a Rust identifier");
                None
            }
        },
        Some(other) => {
            cx.error_spanned_by(
                other,
                "`accessor` is a method name (\"irq_line\") or `false` for no accessors",
            );
            None
        }
    }
}

/// The accessor method name for a property: its name in snake case
/// (`x-pcie-err-unc-mask` → `x_pcie_err_unc_mask`).
fn accessor_ident(name: &str, span: Span) -> Ident {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if syn::parse_str::<Ident>(&s).is_ok() {
        Ident::new(&s, span)
    } else if matches!(s.as_str(), "self" | "Self" | "super" | "crate" | "_") {
        Ident::new(&format!("{s}_"), span)
    } else {
        Ident::new_raw(&s, span)
    }
}
