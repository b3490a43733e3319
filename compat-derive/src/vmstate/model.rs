//! The checked model of a `#[derive(VMState)]` struct: what stage 3
//! (`check`) produces and stage 4 (`emit`) reads. Everything in it obeys
//! the rules.

use syn::{Expr, Ident, Path};

pub use super::ast::Scalar;

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
    /// `Vec<T>` of another `VMState` type whose length is field `len`, at
    /// most `max`: QEMU's `VMSTATE_STRUCT_VARRAY_*`.
    StructVarArray {
        elem: Box<syn::Type>,
        len_member: Ident,
        len_wire: String,
        max: usize,
    },
    /// Another `VMState` type.
    Struct,
    /// `[T; N]` of another `VMState` type.
    StructArray(Box<syn::Type>, Expr),
    /// `[[S; N]; M]` of scalars: `M` rows of `N`.
    Array2D(Scalar, Expr, Expr),
    /// `Vec<T>`/`VecDeque<T>` of structs: QEMU's `QTAILQ` or `QLIST`
    /// (`qlist` says which name), at most `max` elements on load.
    List {
        elem: Box<syn::Type>,
        qlist: bool,
        max: usize,
    },
    /// `BTreeMap<K, V>`: QEMU's `GTree`; a `u64` key is direct.
    Map {
        key: Box<syn::Type>,
        direct: bool,
        value: Box<syn::Type>,
        max: usize,
    },
    /// `[Option<T>; N]` or `[Option<Box<T>>; N]`: empty slots are the null
    /// marker on the wire.
    NullableArray {
        /// `Some(ty)` for a nested VMState, `None` for a scalar (`scalar`).
        elem_struct: Option<Box<syn::Type>>,
        scalar: Option<Scalar>,
        boxed: bool,
        len: Expr,
        /// Every slot marked; the stream decides which are filled.
        alloc: bool,
    },
    /// `tmp = View`: the fields of a temporary view of the struct.
    Tmp(Box<syn::Type>),
    /// `unused = N`: N zero bytes, the field not migrated.
    Unused(usize),
    /// A subsection, sent when `needed` says so — and, with a gate, only
    /// while that bool property is on.
    Subsection(Path, Option<syn::LitStr>),
    /// Not migrated.
    Skip,
}

pub struct FieldModel<'a> {
    pub member: &'a Ident,
    pub ty: &'a syn::Type,
    /// The field's name on the wire and in descriptions.
    pub wire: String,
    /// Its name in the stream's description trailer: as QEMU writes it,
    /// `NAME[k]` for the k-th of several fields of one name.
    pub layout_name: String,
    pub kind: Kind,
    pub since: Option<u32>,
    /// `since`, when a load must test it: above the struct's minimum
    /// version (an older stream is refused before any field is read).
    pub gated_since: Option<u32>,
    pub exists: Option<Path>,
    pub must_match: bool,
    pub mask: Option<Path>,
    /// `elements` on a `[u8; N]`: described as N `uint8`s (QEMU's
    /// `VMSTATE_UINT8_ARRAY`), not one buffer.
    pub elements: bool,
    /// `timer` on an `i64`: described as QEMU's `VMSTATE_TIMER_PTR` (type
    /// `timer`, the expiry time in 8 bytes).
    pub timer: bool,
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
