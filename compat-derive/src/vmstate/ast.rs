//! Stage 2 of `#[derive(VMState)]`: the struct as a model — its attributes
//! as written and each field's type read for its wire shape — with no
//! rules applied yet.

use syn::{Expr, Ident};

use super::attrs::{FieldAttrs, StructAttrs};
use crate::attr::{struct_fields, StructDerive};
use crate::ctxt::Ctxt;

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

impl Scalar {
    /// The scalar a Rust primitive type name stands for.
    fn from_ident(ident: &str) -> Option<Scalar> {
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

    /// Bytes on the wire.
    pub fn size(self) -> usize {
        match self {
            Scalar::Bool | Scalar::U8 | Scalar::I8 => 1,
            Scalar::U16 | Scalar::I16 => 2,
            Scalar::U32 | Scalar::I32 => 4,
            Scalar::U64 | Scalar::I64 => 8,
        }
    }

    /// The suffix of the reader/writer methods (`put_u16`, `get_u16_slice`).
    pub fn method(self) -> &'static str {
        match self {
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

    pub fn is_unsigned_int(self) -> bool {
        matches!(self, Scalar::U8 | Scalar::U16 | Scalar::U32 | Scalar::U64)
    }
}

/// What a present slot of an array of nullable elements holds.
pub enum Nullable<'a> {
    Scalar(Scalar),
    /// Another type: a nested VMState.
    Struct(&'a syn::Type),
}

/// The wire shape a field's type has, read from its syntax.
pub enum Shape<'a> {
    Scalar(Scalar),
    Array(Scalar, &'a Expr),
    /// `[T; N]` of structs.
    StructArray(&'a syn::Type, &'a Expr),
    /// `[[S; N]; M]` of scalars: rows one after another.
    Array2D(Scalar, &'a Expr, &'a Expr),
    /// `[Option<T>; N]` or `[Option<Box<T>>; N]`: slots that may be empty.
    NullableArray {
        elem: Nullable<'a>,
        boxed: bool,
        len: &'a Expr,
    },
    Vec(Option<Scalar>),
    /// `Vec<T>` or `VecDeque<T>` of structs: a list.
    StructList {
        elem: &'a syn::Type,
    },
    /// `BTreeMap<K, V>`: a map; `key_scalar` when the key is a scalar.
    Map {
        key: &'a syn::Type,
        key_scalar: Option<Scalar>,
        value: &'a syn::Type,
    },
    /// Another type: a nested VMState.
    Path,
    Unsupported,
}

impl<'a> Shape<'a> {
    pub fn of(ty: &'a syn::Type) -> Shape<'a> {
        match ty {
            syn::Type::Group(g) => Shape::of(&g.elem),
            syn::Type::Paren(p) => Shape::of(&p.elem),
            syn::Type::Array(a) => {
                if let Some((inner, boxed)) = option_of(&a.elem) {
                    let elem = match Shape::of(inner) {
                        Shape::Scalar(s) => Nullable::Scalar(s),
                        Shape::Path => Nullable::Struct(inner),
                        _ => return Shape::Unsupported,
                    };
                    return Shape::NullableArray {
                        elem,
                        boxed,
                        len: &a.len,
                    };
                }
                match Shape::of(&a.elem) {
                    Shape::Scalar(s) => Shape::Array(s, &a.len),
                    Shape::Path => Shape::StructArray(&a.elem, &a.len),
                    Shape::Array(s, inner) => Shape::Array2D(s, inner, &a.len),
                    _ => Shape::Unsupported,
                }
            }
            syn::Type::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last().expect("a path has a segment");
                let ident = last.ident.to_string();
                if let Some(s) = Scalar::from_ident(&ident) {
                    return Shape::Scalar(s);
                }
                if ident == "VecDeque" {
                    return match generic_arg(ty, "VecDeque").map(Shape::of) {
                        Some(Shape::Path) => Shape::StructList {
                            elem: generic_arg(ty, "VecDeque").expect("checked"),
                        },
                        _ => Shape::Unsupported,
                    };
                }
                if ident == "BTreeMap" {
                    return match map_args(ty) {
                        Some((key, value)) if matches!(Shape::of(value), Shape::Path) => {
                            let key_scalar = match Shape::of(key) {
                                Shape::Scalar(s) => Some(s),
                                Shape::Path => None,
                                _ => return Shape::Unsupported,
                            };
                            Shape::Map {
                                key,
                                key_scalar,
                                value,
                            }
                        }
                        _ => Shape::Unsupported,
                    };
                }
                // `Box<T>` of a struct: QEMU's struct pointer, inline.
                if let Some(inner) = generic_arg(ty, "Box") {
                    return match Shape::of(inner) {
                        Shape::Path => Shape::Path,
                        _ => Shape::Unsupported,
                    };
                }
                if let Some(elem) = generic_arg(ty, "Vec") {
                    if matches!(Shape::of(elem), Shape::Path) {
                        return Shape::StructList { elem };
                    }
                }
                match (ident.as_str(), &last.arguments) {
                    ("Vec", syn::PathArguments::AngleBracketed(args)) => {
                        let elem = args.args.first().and_then(|a| match a {
                            syn::GenericArgument::Type(t) => match Shape::of(t) {
                                Shape::Scalar(s) => Some(s),
                                _ => None,
                            },
                            _ => None,
                        });
                        Shape::Vec(elem)
                    }
                    (
                        "f32" | "f64" | "usize" | "isize" | "u128" | "i128" | "char" | "str"
                        | "String" | "Option" | "Box" | "HashMap" | "BTreeMap",
                        _,
                    ) => Shape::Unsupported,
                    (_, syn::PathArguments::None) => Shape::Path,
                    _ => Shape::Unsupported,
                }
            }
            _ => Shape::Unsupported,
        }
    }
}

/// `T` of `Option<T>`, or of `Option<Box<T>>` (then `true`).
fn option_of(ty: &syn::Type) -> Option<(&syn::Type, bool)> {
    let inner = generic_arg(ty, "Option")?;
    match generic_arg(inner, "Box") {
        Some(boxed) => Some((boxed, true)),
        None => Some((inner, false)),
    }
}

/// The one type argument of `ty` when `ty` is `name<T>`.
fn generic_arg<'a>(ty: &'a syn::Type, name: &str) -> Option<&'a syn::Type> {
    let syn::Type::Path(p) = ty else {
        return None;
    };
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

/// `K` and `V` of `BTreeMap<K, V>`.
fn map_args(ty: &syn::Type) -> Option<(&syn::Type, &syn::Type)> {
    let syn::Type::Path(p) = ty else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    match (args.args.first()?, args.args.get(1)?) {
        (syn::GenericArgument::Type(k), syn::GenericArgument::Type(v)) if args.args.len() == 2 => {
            Some((k, v))
        }
        _ => None,
    }
}

/// The struct as written.
pub struct Container<'a> {
    pub ident: &'a Ident,
    pub attrs: StructAttrs,
    pub fields: Vec<Field<'a>>,
}

/// One field as written.
pub struct Field<'a> {
    pub member: &'a Ident,
    pub ty: &'a syn::Type,
    pub attrs: FieldAttrs,
    pub shape: Shape<'a>,
    /// It holds a `#[property]`.
    pub is_property: bool,
}

impl<'a> Container<'a> {
    pub fn from_input(cx: &Ctxt, input: &'a syn::DeriveInput) -> Option<Self> {
        let fields = struct_fields(
            cx,
            input,
            &StructDerive {
                derive: "#[derive(VMState)]",
                why_named: "a struct with named fields: each field's name is its name in the \
                            stream's description",
                enum_hint: "",
                generic_hint: "",
            },
        )?;
        let attrs = StructAttrs::read(cx, &input.attrs);
        let fields = fields
            .into_iter()
            .map(|f| Field {
                member: f.ident.as_ref().expect("named field"),
                ty: &f.ty,
                attrs: FieldAttrs::read(cx, &f.attrs),
                shape: Shape::of(&f.ty),
                is_property: f.attrs.iter().any(|a| a.path().is_ident("property")),
            })
            .collect();
        Some(Container {
            ident: &input.ident,
            attrs,
            fields,
        })
    }
}
