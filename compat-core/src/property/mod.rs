//! Property kinds, values, parsing and printing: the model of QEMU's qdev
//! properties (`hw/core/qdev-properties.c`).
//!
//! A [`PropertyKind`] says what a property accepts; [`PropertyKind::parse`]
//! turns user text (`-device`/`-global` values, compat-set entries, defaults
//! in the derive) into a [`PropertyValue`], which prints back in one
//! canonical form that parses to the same value.

use std::borrow::Cow;
use std::fmt;

use crate::text::number::{
    format_size, parse_bool, parse_size, IntKind, BOOL_EXPECTS, SIZE_EXPECTS,
};
use crate::text::{bytes_eq, ConstMsg};

pub mod cmdline;
pub(crate) mod derive_support;

/// A closed set of names a property of enum kind accepts (QEMU's QAPI enums
/// such as `OnOffAuto`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct EnumInfo {
    /// The enum's type name, shown in help and errors (`OnOffAuto`).
    pub name: &'static str,
    /// The accepted names, in declaration order; the first is the value of a
    /// property without a declared default (QEMU zero-initialises).
    pub values: &'static [&'static str],
}

/// What a property accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropertyKind {
    /// `on`/`off` (also `yes`/`no`, `true`/`false`, `y`/`n`).
    Bool,
    /// A boolean stored as bit `bit` of an unsigned integer field `width`
    /// bits wide; several bit properties may share one field
    /// (`DEFINE_PROP_BIT`).
    Bit {
        /// Bit index, `0..width`.
        bit: u8,
        /// Width of the field holding the bit, in bits.
        width: u8,
    },
    /// `uint8`.
    U8,
    /// `uint16`.
    U16,
    /// `uint32`.
    U32,
    /// `uint64`.
    U64,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
    /// A byte count with an optional suffix (`512`, `4K`, `1M`, `2G`, `1T`).
    Size,
    /// Any string.
    Str,
    /// One name of a closed set.
    Enum(&'static EnumInfo),
}

/// A property value, as parsed from text or read from a device.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PropertyValue {
    /// Value of a `Bool` or `Bit` property.
    Bool(bool),
    /// Value of a `U8`..`U64` property.
    Uint(u64),
    /// Value of an `I32`/`I64` property.
    Int(i64),
    /// Value of a `Size` property, in bytes.
    Size(u64),
    /// Value of a `Str` property.
    Str(Cow<'static, str>),
    /// Value of an `Enum` property: one of its names.
    Enum(&'static str),
}

/// Why a text is not a value of a kind: what the kind expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expects {expects}")]
#[non_exhaustive]
pub struct ValueError {
    /// A description of the accepted values, e.g. `uint16 (0..=65535)`.
    pub expects: String,
}

/// An error about one property of one device type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PropertyError {
    /// The text is not a value of the property's kind.
    #[error("Property '{type_name}.{}' doesn't take value '{}': {reason}", crate::text::escape::escaped(.property), crate::text::escape::escaped(.value))]
    InvalidValue {
        /// The device type the property was set on.
        type_name: String,
        /// The property name.
        property: String,
        /// The offending text.
        value: String,
        /// What the property expects.
        reason: ValueError,
    },
    /// The device type has no such property (nor any ancestor).
    #[error("Property '{type_name}.{}' not found{suggestion}", crate::text::escape::escaped(.property))]
    NotFound {
        /// The device type searched.
        type_name: String,
        /// The name that was not found.
        property: String,
        /// `"; did you mean '…'?"` or empty.
        suggestion: String,
    },
    /// An incoming migration would set a property not declared sticky.
    #[error(
        "Property '{type_name}.{}' is not sticky: an incoming migration cannot set it",
        crate::text::escape::escaped(.property)
    )]
    NotSticky {
        /// The device type.
        type_name: String,
        /// The property.
        property: String,
    },
    /// A value of another kind was stored programmatically.
    #[error("Property '{type_name}.{property}' is of kind {expected}, not a {got} value")]
    WrongKind {
        /// The device type.
        type_name: String,
        /// The property name.
        property: String,
        /// The property's kind name.
        expected: String,
        /// The kind name of the value given.
        got: &'static str,
    },
}

/// The static description of one property of a device type, as emitted by
/// `#[derive(Device)]`.
#[derive(Clone, Copy)]
pub struct PropertyDef {
    /// The property name users write (`num-queues`).
    pub name: &'static str,
    /// What it accepts.
    pub kind: PropertyKind,
    /// The declared class default; `None` means the zero value of the kind
    /// (QEMU's zero-initialised field).
    pub default: Option<fn() -> PropertyValue>,
    /// One line of documentation, shown in help.
    pub doc: &'static str,
    /// Whether a destination may take this property's value from an
    /// incoming migration, when its policy allows: a mitigation that must
    /// stay with a running guest until it is powered off (see
    /// `migration::incoming`).
    pub sticky: bool,
    /// Whether the property is a setting of the host rather than of what
    /// the guest sees (a backend, a host CPU feature switch whose effect on
    /// the guest is migrated state of its own): it may differ between a
    /// source and its destination, and a pre-flight does not compare it.
    pub local: bool,
    /// How a release whose type lacks this property behaved, as a value
    /// of it: a property that keeps the old behaviour by default declares
    /// it, so that a pre-flight from such a release finds no difference
    /// while the property holds it. Without it, a property only the
    /// destination has is a difference unless a compat set gave its
    /// value (a forgotten compat entry looks just so).
    pub absent: Option<&'static str>,
    /// A value that behaves as the class default: an older type that held
    /// it by default (QEMU's `rombar`, `1` before 9.2 and `-1` after,
    /// which act alike without a ROM file) is no difference from this
    /// property at its default, and the reverse.
    pub alike: Option<&'static str>,
}

impl fmt::Debug for PropertyDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PropertyDef")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("default", &self.default_value())
            .field("doc", &self.doc)
            .field("sticky", &self.sticky)
            .field("local", &self.local)
            .field("absent", &self.absent)
            .field("alike", &self.alike)
            .finish()
    }
}

impl PropertyDef {
    /// The class default: the declared one, or the kind's zero value.
    pub fn default_value(&self) -> PropertyValue {
        match self.default {
            Some(f) => f(),
            None => self.kind.zero_value(),
        }
    }

    /// [`absent`](Self::absent) as the text of its value, canonical (as a
    /// value of the property prints), to compare with values as text.
    pub fn absent_text(&self) -> Option<String> {
        self.absent
            .and_then(|text| self.kind.parse(text).ok())
            .map(|v| v.to_string())
    }

    /// The values that behave alike, as text, canonical: the class default
    /// and [`alike`](Self::alike); empty without `alike`.
    pub fn alike_texts(&self) -> Vec<String> {
        match self.alike.and_then(|text| self.kind.parse(text).ok()) {
            Some(v) => vec![self.default_value().to_string(), v.to_string()],
            None => Vec::new(),
        }
    }

    /// Whether values `a` and `b` (as text) of this property behave alike:
    /// equal, or both among [`alike_texts`](Self::alike_texts).
    pub fn behave_alike(&self, a: &str, b: &str) -> bool {
        a == b || values_alike(&self.alike_texts(), a, b)
    }

    /// Whether the default was declared (QEMU's `set_default`): help shows
    /// only declared defaults.
    pub fn has_declared_default(&self) -> bool {
        self.default.is_some()
    }

    /// Parse `text` as a value of this property of `type_name`, with an error
    /// naming both.
    pub fn parse(&self, type_name: &str, text: &str) -> Result<PropertyValue, PropertyError> {
        self.kind
            .parse(text)
            .map_err(|reason| PropertyError::InvalidValue {
                type_name: type_name.to_owned(),
                property: self.name.to_owned(),
                value: text.to_owned(),
                reason,
            })
    }
}

/// The other value of a boolean property as text (`on` ↔ `off`): the
/// behaviour before a boolean that changed it existed.
pub(crate) fn opposite_switch(value: &str) -> Option<&'static str> {
    match value {
        "on" => Some("off"),
        "off" => Some("on"),
        _ => None,
    }
}

/// Whether values `a` and `b` (as text) are equal or both in `group`, a
/// set of values that behave alike ([`PropertyDef::alike_texts`]).
pub fn values_alike(group: &[String], a: &str, b: &str) -> bool {
    a == b || (group.iter().any(|t| t == a) && group.iter().any(|t| t == b))
}

/// A value parsed without allocating, so that parsing can run in `const`
/// evaluation (compat-set entries are checked by the compiler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    Bool(bool),
    Uint(u64),
    Int(i64),
    Size(u64),
    /// Any text is a string.
    Str,
    /// Index into the enum's values.
    Enum(usize),
}

impl PropertyKind {
    /// The QOM type name of the kind (`bool`, `uint16`, `size`, `str`, or
    /// the enum's name), as QEMU's help shows it.
    pub const fn type_name(&self) -> &'static str {
        match self {
            PropertyKind::Bool | PropertyKind::Bit { .. } => "bool",
            PropertyKind::Size => "size",
            PropertyKind::Str => "str",
            PropertyKind::Enum(info) => info.name,
            int => match int.int_kind() {
                Some(k) => k.type_name(),
                None => "",
            },
        }
    }

    /// The kind QEMU names `name` (`bool`, `uint16`, `size`, `str`: the
    /// inverse of [`type_name`](Self::type_name) for kinds other than enums
    /// and bits).
    pub fn of_type_name(name: &str) -> Option<PropertyKind> {
        use PropertyKind::*;
        [Bool, U8, U16, U32, U64, I32, I64, Size, Str]
            .into_iter()
            .find(|k| k.type_name() == name)
    }

    /// The integer kind, for `U8` … `I64`.
    pub const fn int_kind(&self) -> Option<IntKind> {
        Some(match self {
            PropertyKind::U8 => IntKind::U8,
            PropertyKind::U16 => IntKind::U16,
            PropertyKind::U32 => IntKind::U32,
            PropertyKind::U64 => IntKind::U64,
            PropertyKind::I32 => IntKind::I32,
            PropertyKind::I64 => IntKind::I64,
            _ => return None,
        })
    }

    /// The inclusive range of an integer kind, as `(min, max)`.
    pub const fn int_range(&self) -> Option<(i128, i128)> {
        match self.int_kind() {
            Some(k) => Some(k.range()),
            None => None,
        }
    }

    /// What the kind accepts, in words, for error messages.
    pub fn expects(&self) -> String {
        let mut msg = ConstMsg::<4096>::new();
        self.write_expects(&mut msg);
        msg.as_str().to_owned()
    }

    /// [`expects`](Self::expects), written into a const message.
    pub(crate) const fn write_expects<const N: usize>(&self, msg: &mut ConstMsg<N>) {
        match self {
            PropertyKind::Bool | PropertyKind::Bit { .. } => msg.push(BOOL_EXPECTS),
            PropertyKind::Size => msg.push(SIZE_EXPECTS),
            PropertyKind::Str => msg.push("a string"),
            PropertyKind::Enum(info) => {
                msg.push(info.name);
                msg.push(" (");
                let mut i = 0;
                while i < info.values.len() {
                    if i > 0 {
                        msg.push(", ");
                    }
                    msg.push("'");
                    msg.push(info.values[i]);
                    msg.push("'");
                    i += 1;
                }
                msg.push(")");
            }
            int => {
                if let Some(k) = int.int_kind() {
                    k.write_expects(msg);
                }
            }
        }
    }

    fn error(&self) -> ValueError {
        ValueError {
            expects: self.expects(),
        }
    }

    /// The value of a property of this kind that has no declared default:
    /// what QEMU's zero-initialised field holds.
    pub fn zero_value(&self) -> PropertyValue {
        match self {
            PropertyKind::Bool | PropertyKind::Bit { .. } => PropertyValue::Bool(false),
            PropertyKind::U8 | PropertyKind::U16 | PropertyKind::U32 | PropertyKind::U64 => {
                PropertyValue::Uint(0)
            }
            PropertyKind::I32 | PropertyKind::I64 => PropertyValue::Int(0),
            PropertyKind::Size => PropertyValue::Size(0),
            PropertyKind::Str => PropertyValue::Str(Cow::Borrowed("")),
            PropertyKind::Enum(info) => {
                PropertyValue::Enum(info.values.first().copied().unwrap_or(""))
            }
        }
    }

    /// Parse user text as QEMU does for `-device` and `-global` values.
    ///
    /// * bool: `on`/`yes`/`true`/`y`, `off`/`no`/`false`/`n` (case-sensitive,
    ///   as `qapi_bool_parse`);
    /// * integers: C base-0 syntax as `parse_uint`/`qemu_strtoi64` use it —
    ///   decimal, `0x` hex, and a leading `0` for octal; `-` only for signed
    ///   kinds; no whitespace, no `+`;
    /// * size: as `qemu_strtosz`, a decimal number with an optional fraction
    ///   and suffix `B`/`K`/`M`/`G`/`T`/`P`/`E` (either case, powers of
    ///   1024; a fraction needs a suffix of `K` or more), or `0x` hex without
    ///   a suffix;
    /// * enum: one of its names, exactly.
    pub fn parse(&self, text: &str) -> Result<PropertyValue, ValueError> {
        let value = match self.parse_scalar(text) {
            None => return Err(self.error()),
            Some(Scalar::Bool(b)) => PropertyValue::Bool(b),
            Some(Scalar::Uint(v)) => PropertyValue::Uint(v),
            Some(Scalar::Int(v)) => PropertyValue::Int(v),
            Some(Scalar::Size(v)) => PropertyValue::Size(v),
            Some(Scalar::Str) => PropertyValue::Str(Cow::Owned(text.to_owned())),
            Some(Scalar::Enum(i)) => match self {
                PropertyKind::Enum(info) => PropertyValue::Enum(info.values[i]),
                _ => return Err(self.error()),
            },
        };
        Ok(value)
    }

    /// Whether `text` is a value of this kind; usable in `const`.
    pub const fn accepts_text(&self, text: &str) -> bool {
        self.parse_scalar(text).is_some()
    }

    /// The parser behind [`parse`](Self::parse), without allocation.
    pub(crate) const fn parse_scalar(&self, text: &str) -> Option<Scalar> {
        let b = text.as_bytes();
        match self {
            PropertyKind::Bool | PropertyKind::Bit { .. } => match parse_bool(b) {
                Some(v) => Some(Scalar::Bool(v)),
                None => None,
            },
            PropertyKind::Size => match parse_size(b) {
                Some(v) => Some(Scalar::Size(v)),
                None => None,
            },
            PropertyKind::Str => Some(Scalar::Str),
            PropertyKind::Enum(info) => {
                let mut i = 0;
                while i < info.values.len() {
                    if bytes_eq(info.values[i].as_bytes(), b) {
                        return Some(Scalar::Enum(i));
                    }
                    i += 1;
                }
                None
            }
            int => {
                let Some(k) = int.int_kind() else {
                    return None;
                };
                match k.parse(b) {
                    Some(v) if k.is_unsigned() => Some(Scalar::Uint(v as u64)),
                    Some(v) => Some(Scalar::Int(v as i64)),
                    None => None,
                }
            }
        }
    }

    /// Whether `value` is a value of this kind (right variant, in range, a
    /// known enum name).
    pub fn accepts(&self, value: &PropertyValue) -> bool {
        match (self, value) {
            (PropertyKind::Bool | PropertyKind::Bit { .. }, PropertyValue::Bool(_)) => true,
            (PropertyKind::Size, PropertyValue::Size(_)) => true,
            (PropertyKind::Str, PropertyValue::Str(_)) => true,
            (PropertyKind::Enum(info), PropertyValue::Enum(name)) => info.values.contains(name),
            (kind, PropertyValue::Uint(v)) if kind.is_unsigned() => kind
                .int_range()
                .is_some_and(|(_, max)| i128::from(*v) <= max),
            (PropertyKind::I32, PropertyValue::Int(v)) => i32::try_from(*v).is_ok(),
            (PropertyKind::I64, PropertyValue::Int(_)) => true,
            _ => false,
        }
    }

    fn is_unsigned(&self) -> bool {
        self.int_kind().is_some_and(IntKind::is_unsigned)
    }
}

impl fmt::Display for PropertyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropertyKind::Bit { bit, width } => write!(f, "bool (bit {bit} of a u{width})"),
            other => f.write_str(other.type_name()),
        }
    }
}

impl PropertyValue {
    /// The name of the value's variant, for kind-mismatch errors.
    pub fn variant_name(&self) -> &'static str {
        match self {
            PropertyValue::Bool(_) => "bool",
            PropertyValue::Uint(_) => "unsigned integer",
            PropertyValue::Int(_) => "signed integer",
            PropertyValue::Size(_) => "size",
            PropertyValue::Str(_) => "string",
            PropertyValue::Enum(_) => "enum",
        }
    }
}

/// The canonical text of a value: `on`/`off`, decimal integers, sizes with
/// the largest suffix that divides them exactly (`4K`, `1536`), strings and
/// enum names as they are. Parsing the text with the value's kind gives the
/// value back.
impl fmt::Display for PropertyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropertyValue::Bool(b) => f.write_str(if *b { "on" } else { "off" }),
            PropertyValue::Uint(v) => write!(f, "{v}"),
            PropertyValue::Int(v) => write!(f, "{v}"),
            PropertyValue::Size(v) => f.write_str(&format_size(*v)),
            PropertyValue::Str(s) => f.write_str(s),
            PropertyValue::Enum(name) => f.write_str(name),
        }
    }
}

/// A byte count held by a property of kind [`PropertyKind::Size`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_size(self.0))
    }
}

/// QEMU's `OnOffAuto`, the most common enum property kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum OnOffAuto {
    /// `auto` (the zero value, as in QEMU).
    #[default]
    Auto,
    /// `on`.
    On,
    /// `off`.
    Off,
}

/// A Rust type that can hold a property: it names its kind and converts to
/// and from [`PropertyValue`]. `#[derive(Device)]` uses it for every
/// property field; `#[derive(PropertyEnum)]` implements it for enums.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a device property",
    label = "not a property type",
    note = "property fields are bool, u8, u16, u32, u64, i32, i64, String, compat_core::Size, \
            or an enum deriving `PropertyEnum`"
)]
pub trait PropertyType: Sized + Clone {
    /// The kind of a property held in this type.
    const KIND: PropertyKind;
    /// The value of `self` as a property value.
    fn to_value(&self) -> PropertyValue;
    /// `Some` when `value` is of this type's kind and in range.
    fn from_value(value: &PropertyValue) -> Option<Self>;
    /// The value of a property without a declared default.
    fn zero() -> Self;

    /// A copy of the value. The derive's getters call this rather than
    /// `Clone::clone`, so that a field type that is not a property type
    /// gets one error (this trait is missing), not a second about `Clone`.
    #[doc(hidden)]
    fn clone_property(&self) -> Self {
        self.clone()
    }
}

macro_rules! unsigned_property {
    ($($ty:ty => $kind:ident),*) => {$(
        impl PropertyType for $ty {
            const KIND: PropertyKind = PropertyKind::$kind;
            fn to_value(&self) -> PropertyValue {
                PropertyValue::Uint(u64::from(*self))
            }
            fn from_value(value: &PropertyValue) -> Option<Self> {
                match value {
                    PropertyValue::Uint(v) => <$ty>::try_from(*v).ok(),
                    _ => None,
                }
            }
            fn zero() -> Self {
                0
            }
        }
    )*};
}
unsigned_property!(u8 => U8, u16 => U16, u32 => U32, u64 => U64);

macro_rules! signed_property {
    ($($ty:ty => $kind:ident),*) => {$(
        impl PropertyType for $ty {
            const KIND: PropertyKind = PropertyKind::$kind;
            fn to_value(&self) -> PropertyValue {
                PropertyValue::Int(i64::from(*self))
            }
            fn from_value(value: &PropertyValue) -> Option<Self> {
                match value {
                    PropertyValue::Int(v) => <$ty>::try_from(*v).ok(),
                    _ => None,
                }
            }
            fn zero() -> Self {
                0
            }
        }
    )*};
}
signed_property!(i32 => I32, i64 => I64);

impl PropertyType for bool {
    const KIND: PropertyKind = PropertyKind::Bool;
    fn to_value(&self) -> PropertyValue {
        PropertyValue::Bool(*self)
    }
    fn from_value(value: &PropertyValue) -> Option<Self> {
        match value {
            PropertyValue::Bool(b) => Some(*b),
            _ => None,
        }
    }
    fn zero() -> Self {
        false
    }
}

impl PropertyType for Size {
    const KIND: PropertyKind = PropertyKind::Size;
    fn to_value(&self) -> PropertyValue {
        PropertyValue::Size(self.0)
    }
    fn from_value(value: &PropertyValue) -> Option<Self> {
        match value {
            PropertyValue::Size(v) => Some(Size(*v)),
            _ => None,
        }
    }
    fn zero() -> Self {
        Size(0)
    }
}

impl PropertyType for String {
    const KIND: PropertyKind = PropertyKind::Str;
    fn to_value(&self) -> PropertyValue {
        PropertyValue::Str(Cow::Owned(self.clone()))
    }
    fn from_value(value: &PropertyValue) -> Option<Self> {
        match value {
            PropertyValue::Str(s) => Some(s.to_string()),
            _ => None,
        }
    }
    fn zero() -> Self {
        String::new()
    }
}

/// A closed enum usable as a property: `#[derive(PropertyEnum)]` implements
/// it (and [`PropertyType`]) from the variants.
pub trait PropertyEnum: Sized + Copy + 'static {
    /// The enum's name and its value names, by variant index.
    const INFO: &'static EnumInfo;
    /// The index of `self` in [`EnumInfo::values`].
    fn index(self) -> usize;
    /// The variant at `index`.
    fn from_index(index: usize) -> Option<Self>;

    /// The name of `self`.
    fn as_str(self) -> &'static str {
        Self::INFO.values[self.index()]
    }

    /// `self` as a property value.
    fn enum_value(self) -> PropertyValue {
        PropertyValue::Enum(self.as_str())
    }

    /// The variant a property value names, if it names one of this enum.
    fn from_enum_value(value: &PropertyValue) -> Option<Self> {
        match value {
            PropertyValue::Enum(name) => Self::INFO
                .values
                .iter()
                .position(|v| v == name)
                .and_then(Self::from_index),
            _ => None,
        }
    }
}

impl PropertyEnum for OnOffAuto {
    const INFO: &'static EnumInfo = &EnumInfo {
        name: "OnOffAuto",
        values: &["auto", "on", "off"],
    };
    fn index(self) -> usize {
        self as usize
    }
    fn from_index(index: usize) -> Option<Self> {
        [OnOffAuto::Auto, OnOffAuto::On, OnOffAuto::Off]
            .get(index)
            .copied()
    }
}

impl PropertyType for OnOffAuto {
    const KIND: PropertyKind = PropertyKind::Enum(<Self as PropertyEnum>::INFO);
    fn to_value(&self) -> PropertyValue {
        self.enum_value()
    }
    fn from_value(value: &PropertyValue) -> Option<Self> {
        Self::from_enum_value(value)
    }
    fn zero() -> Self {
        OnOffAuto::Auto
    }
}

#[cfg(test)]
mod tests;
