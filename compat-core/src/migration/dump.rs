//! `-dump-vmstate`: QEMU's JSON encoding of VMState descriptions
//! (`migration/savevm.c` `dump_vmstate_json`), both ways. A release's
//! descriptions are written as QEMU writes its own, so QEMU's
//! `scripts/vmstate-static-checker.py` compares two of ours as it compares
//! two of QEMU's; a dump QEMU wrote is read into the same description
//! record ([`StateRecord`]) a release and a lock produce, with what a dump
//! does not say — wire types, field kinds, and array lengths before QEMU 8
//! — left unknown.
//!
//! Like QEMU's, the dump is class-level: one entry per device type that
//! migrates, the same for every machine type but for `vmschkmachine`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::release::{Release, UnknownMachine};
use crate::text::escape::escaped as esc;
use crate::vmstate::{FieldKindName, FieldRecord, StateRecord};

/// The dump of `release` for machine type `machine`, as JSON text with
/// QEMU's two-space indentation.
pub fn dump_vmstate(release: &Release, machine: &str) -> Result<String, UnknownMachine> {
    let machine = release.machine(machine)?;
    let mut top = Map::new();
    let mut name = Map::new();
    name.insert("Name".into(), machine.name.clone().into());
    top.insert("vmschkmachine".into(), Value::Object(name));
    for ty in release.registry().types() {
        let Some(desc) = ty.vmstate else { continue };
        let mut entry = Map::new();
        entry.insert("Name".into(), ty.name.into());
        entry.insert("version_id".into(), desc.version_id.into());
        entry.insert("minimum_version_id".into(), desc.minimum_version_id.into());
        entry.insert("Description".into(), description(&StateRecord::of(desc)));
        top.insert(ty.name.into(), Value::Object(entry));
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(top)).expect("JSON serializes");
    text.push('\n');
    Ok(text)
}

/// One description: `name`, versions, `Fields`, and `Subsections` when it
/// has any.
pub fn description(record: &StateRecord) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), record.name.clone().into());
    m.insert("version_id".into(), record.version.into());
    m.insert("minimum_version_id".into(), record.minimum_version.into());
    m.insert(
        "Fields".into(),
        Value::Array(record.fields.iter().map(field).collect()),
    );
    if !record.subsections.is_empty() {
        m.insert(
            "Subsections".into(),
            Value::Array(record.subsections.iter().map(description).collect()),
        );
    }
    Value::Object(m)
}

/// One field: `field`, `version_id`, `field_exists`, `num` for arrays (as
/// QEMU 10 writes it; a buffer is one element of its size), `size` (of one
/// element), and the nested `Description` of a struct.
fn field(f: &FieldRecord) -> Value {
    let mut m = Map::new();
    m.insert("field".into(), f.name.clone().into());
    m.insert("version_id".into(), f.since.into());
    m.insert("field_exists".into(), f.exists.into());
    if let Some(len) = f.count.filter(|_| f.kind != FieldKindName::Buffer) {
        m.insert("num".into(), len.into());
    }
    m.insert("size".into(), f.size.into());
    if let Some(d) = &f.nested {
        m.insert("Description".into(), description(d));
    }
    Value::Object(m)
}

/// One `-dump-vmstate` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmStateDump {
    /// The machine type it was dumped with (`vmschkmachine`).
    pub machine: String,
    /// Every device type that migrates, by type name.
    pub types: BTreeMap<String, DumpType>,
}

/// A device type of a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpType {
    /// The type name.
    pub name: String,
    /// Its VMState version.
    pub version_id: u32,
    /// The oldest version it loads.
    pub minimum_version_id: u32,
    /// Its VMState description.
    pub description: StateRecord,
}

/// Why a dump could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DumpError {
    /// Not JSON, or not a dump's shape.
    #[error("not a -dump-vmstate file: {0}")]
    Json(#[from] serde_json::Error),
    /// No `vmschkmachine` entry.
    #[error("not a -dump-vmstate file: no \"vmschkmachine\" entry")]
    NoMachine,
    /// A device type's entry is malformed.
    #[error("not a -dump-vmstate file: device type '{}': {error}", esc(.type_name))]
    Type {
        /// The entry's key.
        type_name: String,
        /// What is wrong.
        error: serde_json::Error,
    },
}

/// A device type's entry as QEMU writes it.
#[derive(Deserialize)]
struct QemuType {
    #[serde(rename = "Name")]
    name: String,
    version_id: u32,
    minimum_version_id: u32,
    #[serde(rename = "Description")]
    description: QemuDescription,
}

/// A description as QEMU writes it.
#[derive(Deserialize)]
struct QemuDescription {
    name: String,
    version_id: u32,
    minimum_version_id: u32,
    #[serde(rename = "Fields", default)]
    fields: Vec<QemuField>,
    #[serde(rename = "Subsections", default)]
    subsections: Vec<QemuDescription>,
}

/// A field as QEMU writes it.
#[derive(Deserialize)]
struct QemuField {
    #[serde(rename = "field")]
    name: String,
    version_id: u32,
    field_exists: bool,
    /// Newer dumps only.
    #[serde(default)]
    num: Option<u64>,
    /// 0: variable or custom.
    size: u64,
    #[serde(rename = "Description", default)]
    description: Option<Box<QemuDescription>>,
}

/// Whether a dump's record says array lengths anywhere (`num`, QEMU 8.x
/// and later; a dump's records of one binary all do or none does).
pub fn records_lengths(d: &StateRecord) -> bool {
    d.fields
        .iter()
        .any(|f| f.count.is_some() || f.nested.as_deref().is_some_and(records_lengths))
        || d.subsections.iter().any(records_lengths)
}

/// What QEMU's `-dump-vmstate` would say of `record`: its JSON encoding
/// read back, so that it compares with a dump's record on the same terms
/// (no kinds, no wire types).
pub fn as_dumped(record: &StateRecord) -> StateRecord {
    let decoded = QemuDescription::deserialize(description(record))
        .expect("a description's own encoding reads back");
    StateRecord::from(decoded)
}

impl From<QemuDescription> for StateRecord {
    fn from(d: QemuDescription) -> StateRecord {
        StateRecord {
            name: d.name,
            version: d.version_id,
            minimum_version: Some(d.minimum_version_id),
            fields: d.fields.into_iter().map(FieldRecord::from).collect(),
            subsections: d.subsections.into_iter().map(StateRecord::from).collect(),
            // A dump says nothing of when a subsection is sent.
            needed: None,
            gate: None,
        }
    }
}

impl From<QemuField> for FieldRecord {
    fn from(f: QemuField) -> FieldRecord {
        let as_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        FieldRecord {
            name: f.name,
            // A dump names no kinds and no wire types.
            kind: FieldKindName::Unknown,
            wire: None,
            size: as_usize(f.size),
            count: f.num.map(as_usize),
            max: None,
            len_field: None,
            since: Some(f.version_id),
            exists: Some(f.field_exists),
            // A dump names no wire types, so no must-match ones.
            must_match: None,
            nested: f.description.map(|d| Box::new(StateRecord::from(*d))),
            key: None,
        }
    }
}

impl VmStateDump {
    /// Read a dump from its JSON text.
    pub fn parse(text: &str) -> Result<VmStateDump, DumpError> {
        let top: BTreeMap<String, Value> = serde_json::from_str(text)?;
        let mut machine = None;
        let mut types = BTreeMap::new();
        for (key, value) in top {
            if key == "vmschkmachine" {
                #[derive(Deserialize)]
                struct Machine {
                    #[serde(rename = "Name")]
                    name: String,
                }
                let m: Machine = serde_json::from_value(value)?;
                machine = Some(m.name);
                continue;
            }
            let ty: QemuType = serde_json::from_value(value).map_err(|error| DumpError::Type {
                type_name: key.clone(),
                error,
            })?;
            let ty = DumpType {
                name: ty.name,
                version_id: ty.version_id,
                minimum_version_id: ty.minimum_version_id,
                description: ty.description.into(),
            };
            types.insert(key, ty);
        }
        Ok(VmStateDump {
            machine: machine.ok_or(DumpError::NoMachine)?,
            types,
        })
    }

    /// Whether the dump records array lengths (`num`, QEMU 8.x and later):
    /// without them a field's size is its element size.
    pub fn records_lengths(&self) -> bool {
        self.types.values().any(|t| records_lengths(&t.description))
    }

    /// Whether `text` looks like a dump (a JSON object with a
    /// `vmschkmachine` entry), without reading it all.
    pub fn looks_like(text: &str) -> bool {
        text.trim_start().starts_with('{') && text.contains("\"vmschkmachine\"")
    }
}
