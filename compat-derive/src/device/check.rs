//! Stage 3 of `#[derive(Device)]`: the rules, applied to the model as
//! written — names, the parent field, one property per field or bits in
//! range, defaults of the field's kind (checked with the runtime's own
//! parsers), unique property names and accessors. Each rule records its
//! mistake on the token it is about.

use std::collections::HashMap;

use compat_text::number::{parse_size, IntKind, SIZE_EXPECTS};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Ident, Lit, LitStr, UnOp};

use super::ast::{Container, Field};
use super::attrs::PropertyAttrs;
use super::model::{BitModel, DeviceModel, FieldModel, PropertyModel, Role};
use crate::attr::{check_name, type_text, ungrouped};
use crate::ctxt::Ctxt;

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

/// The width of an unsigned integer field, which can hold bit properties.
fn bit_width(class: TypeClass) -> Option<u32> {
    match class {
        TypeClass::Int(k) if k.is_unsigned() => Some(k.bits()),
        _ => None,
    }
}

pub fn check<'a>(cx: &Ctxt, c: Container<'a>) -> DeviceModel<'a> {
    for attr in &c.misplaced {
        cx.error_spanned_by(attr, "#[property(...)] goes on a field, not on the struct");
    }
    let a = &c.attrs;
    if let Some(lit) = a.krate.get() {
        if let Err(e) = crate::krate::parse(lit) {
            cx.syn_error(e);
        }
    }
    let type_name = match a.name.get() {
        Some(lit) => {
            check_name(cx, lit, "device type name", &['.']);
            lit.value()
        }
        None => {
            cx.error_spanned_by(
                c.ident,
                "missing `name` in #[device(...)]: every device type needs one, \
                 e.g. #[device(name = \"my-device\")]",
            );
            c.ident.to_string()
        }
    };

    let mut fields = Vec::new();
    let mut props_seen: HashMap<String, String> = HashMap::new();
    let mut accessors_seen: HashMap<String, String> = HashMap::new();
    let mut parent_field: Option<&Ident> = None;
    for field in &c.fields {
        let role = field_role(cx, field, &mut parent_field);
        unique_names(
            cx,
            field.member,
            &role,
            &mut props_seen,
            &mut accessors_seen,
        );
        fields.push(FieldModel {
            member: field.member,
            ty: field.ty,
            vis: field.vis,
            role,
        });
    }

    let parent = a.parent.get().cloned();
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

    DeviceModel {
        ident: c.ident,
        name: type_name,
        parent,
        is_abstract: a.is_abstract.get().copied().unwrap_or(false),
        hotpluggable: a.hotpluggable.get().copied().unwrap_or(true),
        user_creatable: a.user_creatable.get().copied().unwrap_or(true),
        nic: a.nic.get().copied().unwrap_or(false),
        child: a.child.get().cloned(),
        bus: a.bus.get().map(LitStr::value),
        provides_bus: a.provides_bus.get().map(LitStr::value),
        inert: a.inert.get().map(|lit| {
            let names: Vec<String> = lit
                .value()
                .split(',')
                .map(|n| n.trim().to_owned())
                .collect();
            if names.iter().any(String::is_empty) {
                cx.error_spanned_by(
                    lit,
                    "`inert` lists property names separated by commas, e.g. \
                     inert = \"x-pcie-err-unc-mask, x-pcie-ext-tag\"",
                );
            }
            (names, lit.clone())
        }),
        bus_slots: match a.bus_slots.get() {
            None => 32,
            Some(n) => match n.base10_parse::<u8>() {
                Ok(n) if (1..=32).contains(&n) => n,
                _ => {
                    cx.error_spanned_by(n, "a bus has 1 to 32 slots");
                    32
                }
            },
        },
        vmstate: a.vmstate.get().copied().unwrap_or(false).then(|| {
            let span = a.vmstate.span().unwrap_or_else(Span::call_site);
            Span::call_site().located_at(span)
        }),
        realize: a.realize.get().cloned(),
        description: c.description,
        fields,
        braced: c.braced,
    }
}

/// Property names are unique in the struct, and so are the accessors they
/// generate.
fn unique_names(
    cx: &Ctxt,
    member: &Ident,
    role: &Role,
    props_seen: &mut HashMap<String, String>,
    accessors_seen: &mut HashMap<String, String>,
) {
    let names: Vec<(&LitStr, Option<&Ident>)> = match role {
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
                format!("duplicate property name `{prop}` (already declared on field `{other}`)"),
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
}

/// What a field is: the parent, a property, bit properties, or state.
fn field_role<'a>(cx: &Ctxt, field: &'a Field<'a>, parent_field: &mut Option<&'a Ident>) -> Role {
    let raws = &field.attrs.properties;
    if let Some(span) = field.attrs.parent.span() {
        if let Some(first) = parent_field {
            cx.error_at(
                span,
                format!("only one field can hold the parent; `{first}` already does"),
            );
        } else {
            *parent_field = Some(field.member);
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
    let class = match classify(field.ty) {
        Ok(class) => class,
        Err(message) => {
            cx.error_spanned_by(field.ty, message);
            return Role::State;
        }
    };
    let bits = raws.iter().filter(|r| r.bit.get().is_some()).count();
    if bits == 0 {
        return property(cx, field, class);
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
    bit_properties(cx, field, class)
}

/// A field holding one property.
fn property(cx: &Ctxt, field: &Field, class: TypeClass) -> Role {
    let raws = &field.attrs.properties;
    if let Some(second) = raws.get(1) {
        cx.error_spanned_by(
            second.attr,
            "a field holds one property, unless each of its properties is a bit \
             (`bit = N`)",
        );
    }
    let raw = &raws[0];
    let Some(name) = property_name(cx, raw) else {
        return Role::State;
    };
    let default = raw
        .default
        .get()
        .and_then(|expr| default_init(cx, class, field.ty, ungrouped(expr), &name));
    for (key, slot) in [("absent", &raw.absent), ("alike", &raw.alike)] {
        if let Some(text) = slot.get() {
            check_value_text(cx, class, key, text, &name);
        }
    }
    Role::Property(PropertyModel {
        accessor: accessor(cx, raw, &name),
        doc: raw
            .doc
            .get()
            .map(LitStr::value)
            .unwrap_or_else(|| field.doc.clone()),
        is_string: matches!(class, TypeClass::Str),
        sticky: raw.sticky.get().copied().unwrap_or(false),
        local: raw.local.get().copied().unwrap_or(false),
        absent: raw.absent.get().cloned(),
        alike: raw.alike.get().cloned(),
        name,
        default,
    })
}

/// An unsigned integer field holding bit properties, each bit within its
/// width and held once.
fn bit_properties(cx: &Ctxt, field: &Field, class: TypeClass) -> Role {
    let (member, raws) = (field.member, &field.attrs.properties);
    let Some(width) = bit_width(class) else {
        cx.error_spanned_by(
            field.ty,
            format!(
                "bit properties live in an unsigned integer field (u8, u16, u32 or u64), \
                 not `{}`",
                type_text(field.ty)
            ),
        );
        return Role::State;
    };
    let single = raws.len() == 1;
    let mut models = Vec::new();
    let mut bits_seen: HashMap<u32, String> = HashMap::new();
    for raw in raws {
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
        let default = match raw.default.get().map(ungrouped) {
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
        if let Some(text) = raw.alike.get() {
            cx.error_spanned_by(
                text,
                format!(
                    "`alike` does not apply to bit property `{}`: its two values never \
                     behave alike",
                    name.value()
                ),
            );
        }
        let absent = raw.absent.get().cloned();
        if let Some(text) = &absent {
            if compat_text::number::parse_bool(text.value().as_bytes()).is_none() {
                cx.error_spanned_by(
                    text,
                    format!(
                        "`absent` of bit property `{}` is not a boolean: expects {}",
                        name.value(),
                        compat_text::number::BOOL_EXPECTS
                    ),
                );
            }
        }
        models.push(BitModel {
            absent,
            sticky: raw.sticky.get().copied().unwrap_or(false),
            local: raw.local.get().copied().unwrap_or(false),
            accessor: accessor(cx, raw, &name),
            doc: raw.doc.get().map(LitStr::value).unwrap_or_else(|| {
                if single {
                    field.doc.clone()
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

/// `absent = "TEXT"` or `alike = "TEXT"` (`key`) of a property whose kind
/// the field's type tells: checked here with the runtime's parsers (an
/// enum's is checked by the compiler, from the emitted code).
fn check_value_text(cx: &Ctxt, class: TypeClass, key: &str, text: &LitStr, prop: &LitStr) {
    let value = text.value();
    let expects = match class {
        TypeClass::Bool => compat_text::number::parse_bool(value.as_bytes())
            .is_none()
            .then(|| compat_text::number::BOOL_EXPECTS.to_owned()),
        TypeClass::Int(kind) => kind
            .parse(value.as_bytes())
            .is_none()
            .then(|| kind.expects()),
        TypeClass::Size => parse_size(value.as_bytes())
            .is_none()
            .then(|| SIZE_EXPECTS.to_owned()),
        TypeClass::Str | TypeClass::Other => None,
    };
    if let Some(expects) = expects {
        cx.error_spanned_by(
            text,
            format!(
                "`{key}` of property `{}` is not a value of its kind: expects {expects}",
                prop.value()
            ),
        );
    }
}

fn property_name(cx: &Ctxt, raw: &PropertyAttrs) -> Option<LitStr> {
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
fn accessor(cx: &Ctxt, raw: &PropertyAttrs, name: &LitStr) -> Option<Ident> {
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
