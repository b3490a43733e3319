//! The description of a VMState as data: what a live type's static
//! [`VmStateDescription`], a lock, a QEMU `-dump-vmstate` file and a
//! stream's vmdesc trailer each say of a struct — its fields with their
//! kinds, wire types, sizes, counts, bounds and length fields, the versions
//! that added them, their `exists` tests and must-match flags, and its
//! subsections with when they are sent. One record, serializable, for
//! every source; what a source cannot tell (a dump has no wire types and,
//! before QEMU 8, no array lengths; a trailer lists what was sent, not
//! when it came) is recorded as unknown (`FieldKindName::Unknown`,
//! `None`), never guessed.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::desc::{Element, FieldKind, MapKey, VmStateDescription, VmStateField};
use super::layout::{FieldLayout, Layout};

/// A VMState description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StateRecord {
    /// Its name.
    pub name: String,
    /// The version saved.
    pub version: u32,
    /// The oldest version loaded, if the source says (a stream does not).
    pub minimum_version: Option<u32>,
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
    /// The version that added it, if the source says (a stream lists the
    /// fields it sent, not when they came).
    pub since: Option<u32>,
    /// Whether an `exists` test decides whether it is sent, if the source
    /// says (a stream lists only what was sent).
    pub exists: Option<bool>,
    /// Whether a load compares it with the destination's own value, if the
    /// source says (a QEMU dump does not).
    pub must_match: Option<bool>,
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
            minimum_version: Some(d.minimum_version_id),
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

    /// The record of what one stream's vmdesc trailer (read as a
    /// [`Layout`]) says was sent: every field it lists was on the wire, with
    /// QEMU's type name, its size and its array length as sent (elements of
    /// an array written one by one, which a trailer lists as entries of one
    /// name, are one field of that count when they are alike), and the
    /// subsections that were sent. A trailer does not say fields' kinds,
    /// the versions that added them, their tests, the oldest version
    /// loaded, nor when a subsection is sent: those are unknown here.
    pub fn sent(layout: &Layout) -> StateRecord {
        StateRecord {
            name: layout.name.to_string(),
            version: layout.version,
            minimum_version: None,
            fields: sent_fields(&layout.fields),
            subsections: layout.subsections.iter().map(StateRecord::sent).collect(),
            needed: None,
            gate: None,
        }
    }

    /// The oldest version it is known to load: 0 where the source does not
    /// say, so that no refusal is claimed that the source cannot show.
    pub fn loads_from(&self) -> u32 {
        self.minimum_version.unwrap_or(0)
    }

    /// The subsection called `name`.
    pub fn subsection(&self, name: &str) -> Option<&StateRecord> {
        self.subsections.iter().find(|s| s.name == name)
    }
}

/// The fields a trailer lists, consecutive entries of one name and one
/// description (an array's elements written one by one) taken together.
fn sent_fields(fields: &[FieldLayout]) -> Vec<FieldRecord> {
    let mut out: Vec<FieldRecord> = Vec::with_capacity(fields.len());
    for f in fields {
        let record = FieldRecord::sent(f);
        if let Some(last) = out.last_mut().filter(|l| l.name == record.name) {
            let one = FieldRecord {
                count: None,
                ..last.clone()
            };
            if record.count.is_none() && one == record {
                last.count = Some(last.count.unwrap_or(1) + 1);
                continue;
            }
        }
        out.push(record);
    }
    out
}

impl FieldRecord {
    /// The record of one field of a live type's description.
    pub fn of(f: &VmStateField) -> FieldRecord {
        let mut r = FieldRecord {
            name: f.name.to_owned(),
            kind: f.kind.kind_name(),
            wire: None,
            size: f.element_size(),
            // A fixed array's; a buffer's length is set below.
            count: f.kind.count(),
            max: f.kind.bound(),
            len_field: f.kind.len_field().map(str::to_owned),
            since: Some(f.version_id),
            exists: Some(f.has_exists_test),
            must_match: Some(f.must_match),
            nested: f.kind.nested().map(|d| Box::new(StateRecord::of(d))),
            key: None,
        };
        match f.kind {
            FieldKind::Scalar(s) => r.wire = Some(s.info_name(f.must_match).to_owned()),
            FieldKind::Array { elem, .. } => {
                r.wire = Some(elem.info_name(f.must_match).to_owned());
            }
            FieldKind::Buffer { len } => r.count = Some(len),
            FieldKind::VarArray { elem, .. } => r.wire = Some(elem.info_name(false).to_owned()),
            FieldKind::NullableArray { elem, .. } => {
                if let Element::Scalar(s) = elem {
                    r.wire = Some(s.info_name(false).to_owned());
                }
            }
            FieldKind::List { kind, .. } => r.wire = Some(kind.info_name().to_owned()),
            FieldKind::Map { key, .. } => match key {
                MapKey::Direct => r.wire = Some("uint64".into()),
                MapKey::Struct(d) => r.key = Some(Box::new(StateRecord::of(d))),
            },
            FieldKind::Struct(_)
            | FieldKind::StructArray { .. }
            | FieldKind::StructVarArray { .. }
            | FieldKind::Tmp(_)
            | FieldKind::Unused { .. } => {}
        }
        r
    }

    /// The record of one field a stream's trailer lists: see
    /// [`StateRecord::sent`]. QEMU's type names tell skipped bytes
    /// (`unused_buffer`) and must-match scalars (`uint32 equal`); other
    /// kinds are unknown.
    pub fn sent(f: &FieldLayout) -> FieldRecord {
        let info = f.info.as_ref();
        FieldRecord {
            name: f.name.to_string(),
            kind: match info {
                "unused_buffer" => FieldKindName::Unused,
                _ => FieldKindName::Unknown,
            },
            wire: f.nested.is_none().then(|| info.to_owned()),
            size: f.size,
            count: f.array_len,
            max: None,
            len_field: None,
            since: None,
            exists: None,
            must_match: (f.must_match.is_some() || info.ends_with(" equal")).then_some(true),
            nested: f.nested.as_deref().map(|n| Box::new(StateRecord::sent(n))),
            key: None,
        }
    }

    /// Whether an `exists` test decides whether it is sent (a field whose
    /// source does not say was sent: a stream lists only what it sent).
    pub fn tested(&self) -> bool {
        self.exists == Some(true)
    }

    /// Whether a description of version `version` has it (a field whose
    /// source does not say when it came is in the version it was sent
    /// with).
    pub fn in_version(&self, version: u32) -> bool {
        self.since.is_none_or(|since| since <= version)
    }

    /// Skipped bytes (`VMSTATE_UNUSED`) of a known size.
    pub fn is_unused(&self) -> bool {
        self.kind == FieldKindName::Unused && self.nested.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trailer as QEMU writes one: an array's elements one by one (each
    /// with its `index`), skipped bytes, a must-match scalar, and a
    /// subsection sent.
    #[test]
    fn a_trailer_is_the_record_of_what_was_sent() {
        let element = serde_json::json!({"vmsd_name": "port", "version": 1, "fields": [
            {"name": "cmd", "type": "uint32", "size": 4}]});
        let trailer = serde_json::json!({"vmsd_name": "ahci", "version": 1, "fields": [
            {"name": "dev", "index": 0, "type": "struct", "struct": element, "size": 4},
            {"name": "dev", "index": 1, "type": "struct", "struct": element, "size": 4},
            {"name": "unused", "type": "unused_buffer", "size": 2},
            {"name": "ports", "type": "int32 equal", "size": 4},
            {"name": "regs", "type": "uint8", "size": 1, "array_len": 8}],
            "subsections": [{"vmsd_name": "ahci/x", "version": 2, "fields": []}]});
        let sent = StateRecord::sent(&Layout::from_json(&trailer).unwrap());
        assert_eq!((sent.version, sent.minimum_version), (1, None));
        let names: Vec<_> = sent
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.count))
            .collect();
        assert_eq!(
            names,
            [
                ("dev", Some(2)),
                ("unused", None),
                ("ports", None),
                ("regs", Some(8))
            ]
        );
        let [dev, unused, ports, regs] = &sent.fields[..] else {
            unreachable!()
        };
        assert_eq!(
            dev.nested.as_ref().unwrap().fields[0].wire.as_deref(),
            Some("uint32")
        );
        assert_eq!(
            (dev.kind, dev.wire.as_deref()),
            (FieldKindName::Unknown, None)
        );
        assert!(unused.is_unused());
        assert_eq!((ports.must_match, regs.must_match), (Some(true), None));
        // What a trailer does not say is unknown, not guessed.
        assert!(sent
            .fields
            .iter()
            .all(|f| f.since.is_none() && f.exists.is_none()));
        assert!(!regs.tested() && regs.in_version(0));
        assert_eq!(sent.subsections[0].name, "ahci/x");
        // Elements that differ stay apart.
        let mut other = trailer.clone();
        other["fields"][1]["struct"]["fields"][0]["size"] = 8.into();
        let sent = StateRecord::sent(&Layout::from_json(&other).unwrap());
        assert_eq!(sent.fields[0].count, None);
        assert_eq!(sent.fields[1].name, "dev");
    }
}
