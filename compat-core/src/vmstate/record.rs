//! The description of a VMState as data: what a live type's static
//! [`VmStateDescription`], a lock and a QEMU `-dump-vmstate` file each
//! say of a struct — its fields with their kinds, wire types, sizes,
//! counts, bounds and length fields, the versions that added them, their
//! `exists` tests and must-match flags, and its subsections with when they
//! are sent. One record, serializable, for every source; what a source
//! cannot tell (a dump has no wire types and, before QEMU 8, no array
//! lengths) is recorded as unknown (`FieldKindName::Unknown`, `None`),
//! never guessed.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::desc::{Element, FieldKind, MapKey, VmStateDescription, VmStateField};

/// A VMState description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StateRecord {
    /// Its name.
    pub name: String,
    /// The version saved.
    pub version: u32,
    /// The oldest version loaded.
    pub minimum_version: u32,
    /// Its fields, in wire order.
    pub fields: Vec<FieldRecord>,
    /// Its subsections, each sent when its `needed` test says so.
    pub subsections: Vec<StateRecord>,
    /// For a subsection: its `needed` function, as written.
    pub needed: Option<String>,
    /// For a subsection: the bool property without which it is never sent.
    pub gate: Option<String>,
}

/// One field of a VMState description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FieldRecord {
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: FieldKindName,
    /// The wire type of a scalar or element (`uint32`), if it has one and
    /// the source says.
    pub wire: Option<String>,
    /// Bytes of one element (of a struct whose size does not vary; 0 where
    /// it varies or the source does not say).
    pub size: usize,
    /// The element count of a fixed array, if the source says.
    pub count: Option<usize>,
    /// The most elements a load accepts, for variable arrays, lists, maps.
    pub max: Option<usize>,
    /// The field holding a variable array's length.
    pub len_field: Option<String>,
    /// The version that added it.
    pub since: u32,
    /// Whether an `exists` test decides whether it is sent.
    pub exists: bool,
    /// Whether a load compares it with the destination's own value.
    pub must_match: bool,
    /// The description of a nested struct, element, value or view.
    pub nested: Option<Box<StateRecord>>,
    /// The description of a map's struct key.
    pub key: Option<Box<StateRecord>>,
}

/// What a field is, by name: one of the kinds compat describes
/// ([`FieldKind`]), or unknown where the source does not say (a QEMU dump
/// names no kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FieldKindName {
    /// One scalar.
    Scalar,
    /// A fixed array of scalars.
    Array,
    /// A fixed byte buffer.
    Buffer,
    /// A variable array of scalars.
    VarArray,
    /// A nested struct.
    Struct,
    /// A fixed array of structs.
    StructArray,
    /// A variable array of structs.
    StructVarArray,
    /// A fixed array whose slots may be empty.
    NullableArray,
    /// A fixed array whose every slot is marked.
    MarkedArray,
    /// A list of structs.
    List,
    /// A map.
    Map,
    /// A temporary view's fields.
    Tmp,
    /// Skipped bytes.
    Unused,
    /// The source does not say.
    Unknown,
}

impl FieldKindName {
    /// The name as descriptions and locks write it (`var-array`).
    pub const fn as_str(self) -> &'static str {
        match self {
            FieldKindName::Scalar => "scalar",
            FieldKindName::Array => "array",
            FieldKindName::Buffer => "buffer",
            FieldKindName::VarArray => "var-array",
            FieldKindName::Struct => "struct",
            FieldKindName::StructArray => "struct-array",
            FieldKindName::StructVarArray => "struct-var-array",
            FieldKindName::NullableArray => "nullable-array",
            FieldKindName::MarkedArray => "marked-array",
            FieldKindName::List => "list",
            FieldKindName::Map => "map",
            FieldKindName::Tmp => "tmp",
            FieldKindName::Unused => "unused",
            FieldKindName::Unknown => "unknown",
        }
    }
}

/// A kind compares with its name as written (`kind == "struct"`).
impl PartialEq<&str> for FieldKindName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for FieldKindName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FieldKind {
    /// The kind's name in records.
    pub const fn kind_name(&self) -> FieldKindName {
        match *self {
            FieldKind::Scalar(_) => FieldKindName::Scalar,
            FieldKind::Array { .. } => FieldKindName::Array,
            FieldKind::Buffer { .. } => FieldKindName::Buffer,
            FieldKind::VarArray { .. } => FieldKindName::VarArray,
            FieldKind::Struct(_) => FieldKindName::Struct,
            FieldKind::StructArray { .. } => FieldKindName::StructArray,
            FieldKind::StructVarArray { .. } => FieldKindName::StructVarArray,
            FieldKind::NullableArray { alloc: true, .. } => FieldKindName::MarkedArray,
            FieldKind::NullableArray { alloc: false, .. } => FieldKindName::NullableArray,
            FieldKind::List { .. } => FieldKindName::List,
            FieldKind::Map { .. } => FieldKindName::Map,
            FieldKind::Tmp(_) => FieldKindName::Tmp,
            FieldKind::Unused { .. } => FieldKindName::Unused,
        }
    }
}

impl StateRecord {
    /// The record of a live type's description.
    pub fn of(d: &VmStateDescription) -> StateRecord {
        StateRecord {
            name: d.name.to_owned(),
            version: d.version_id,
            minimum_version: d.minimum_version_id,
            fields: d.fields.iter().map(FieldRecord::of).collect(),
            subsections: d
                .subsections
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut sub = StateRecord::of(s);
                    if let Some(n) = d.needs.get(i) {
                        sub.needed = Some(n.function.to_owned());
                        sub.gate = n.gate.map(str::to_owned);
                    }
                    sub
                })
                .collect(),
            needed: None,
            gate: None,
        }
    }

    /// The subsection called `name`.
    pub fn subsection(&self, name: &str) -> Option<&StateRecord> {
        self.subsections.iter().find(|s| s.name == name)
    }
}

impl FieldRecord {
    /// The record of one field of a live type's description.
    pub fn of(f: &VmStateField) -> FieldRecord {
        let mut r = FieldRecord {
            name: f.name.to_owned(),
            kind: f.kind.kind_name(),
            wire: None,
            size: f.element_size(),
            count: None,
            max: f.kind.bound(),
            len_field: f.kind.len_field().map(str::to_owned),
            since: f.version_id,
            exists: f.has_exists_test,
            must_match: f.must_match,
            nested: f.kind.nested().map(|d| Box::new(StateRecord::of(d))),
            key: None,
        };
        match f.kind {
            FieldKind::Scalar(s) => r.wire = Some(s.info_name(f.must_match).to_owned()),
            FieldKind::Array { elem, len } => {
                r.wire = Some(elem.info_name(f.must_match).to_owned());
                r.count = Some(len);
            }
            FieldKind::Buffer { len } => r.count = Some(len),
            FieldKind::VarArray { elem, .. } => r.wire = Some(elem.info_name(false).to_owned()),
            FieldKind::StructArray { len, .. } => r.count = Some(len),
            FieldKind::NullableArray { elem, len, .. } => {
                if let Element::Scalar(s) = elem {
                    r.wire = Some(s.info_name(false).to_owned());
                }
                r.count = Some(len);
            }
            FieldKind::List { kind, .. } => r.wire = Some(kind.info_name().to_owned()),
            FieldKind::Map { key, .. } => match key {
                MapKey::Direct => r.wire = Some("uint64".into()),
                MapKey::Struct(d) => r.key = Some(Box::new(StateRecord::of(d))),
            },
            FieldKind::Struct(_)
            | FieldKind::StructVarArray { .. }
            | FieldKind::Tmp(_)
            | FieldKind::Unused { .. } => {}
        }
        r
    }

    /// Skipped bytes (`VMSTATE_UNUSED`) of a known size.
    pub fn is_unused(&self) -> bool {
        self.kind == FieldKindName::Unused && self.nested.is_none()
    }
}
