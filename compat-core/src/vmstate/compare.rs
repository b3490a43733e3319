//! One comparison of two description records: where a destination that
//! reads with one parts from what a source writes with the other, field by
//! field in wire order, by the one rule of how a destination reads a field
//! ([`reading()`](super::reading::reading())). The checker and `verify` ask it
//! and say what it finds in their own words.

use super::field_path;
use super::reading::{reading, FieldShape, Reading};
use super::record::{FieldKindName, FieldRecord, StateRecord};

/// Where the two sides part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldMismatch<'a> {
    /// Both have a field here, and the destination reads the source's
    /// otherwise: another shape, or — `misread` — the same shape into a
    /// field the source also writes.
    ReadsOtherwise {
        /// The source's field.
        written: &'a FieldRecord,
        /// The destination's.
        read: &'a FieldRecord,
        /// Whether the load completes with the state in the wrong field.
        misread: bool,
    },
    /// The source writes a field the destination does not read.
    NotRead(&'a FieldRecord),
    /// The destination reads a field the source does not write.
    NotWritten(&'a FieldRecord),
}

/// Which fields count as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compared {
    /// The version of the stream: the destination reads its fields added at
    /// that version or before.
    pub version: u32,
    /// Whether fields an `exists` test decides count as sent (the test is
    /// taken to hold on both sides), or are left out (what fresh devices
    /// send covers them).
    pub tested: bool,
    /// Whether the fields of nested structs both sides have are compared
    /// too (a nested struct carries no version: its own is used).
    pub nested: bool,
}

/// The first place, with its path (`esp.lun`), where a destination
/// reading with `read` parts from what a source writing with `written`
/// sends. With `how.nested`, nested structs are compared as the wire has
/// them: their fields inline, each side's at its own version (no version
/// is on the wire), so a struct on one side and its fields on the other
/// (`esp` against `esp.rregs`, `esp.rseq`…) read alike.
pub fn first_field_mismatch<'a>(
    written: &'a StateRecord,
    read: &'a StateRecord,
    how: Compared,
) -> Option<(String, FieldMismatch<'a>)> {
    let (mut writes, mut reads) = (Vec::new(), Vec::new());
    leaves("", written, how.version, how, &mut writes);
    leaves("", read, how.version, how, &mut reads);
    let source_has = |n: &str| writes.iter().any(|l| l.path == n);
    let destination_has = |n: &str| reads.iter().any(|l| l.path == n);
    for i in 0..writes.len().max(reads.len()) {
        let (a, b) = match (writes.get(i), reads.get(i)) {
            (Some(a), Some(b)) => (a, b),
            (Some(a), None) => return Some((a.path.clone(), FieldMismatch::NotRead(a.field))),
            (None, Some(b)) => return Some((b.path.clone(), FieldMismatch::NotWritten(b.field))),
            (None, None) => return None,
        };
        match leaf_reading(a, b, source_has, destination_has) {
            Reading::Alike | Reading::Renamed => {}
            r @ (Reading::Misread | Reading::Differs) => {
                let mismatch = FieldMismatch::ReadsOtherwise {
                    written: a.field,
                    read: b.field,
                    misread: r == Reading::Misread,
                };
                return Some((a.path.clone(), mismatch));
            }
        }
    }
    None
}

/// A field as the wire has it: its path, and the field.
struct Leaf<'a> {
    path: String,
    field: &'a FieldRecord,
}

/// The fields of `record` on the wire of a stream at `version`, in order;
/// with `how.nested`, a nested struct (or a temporary view) is its fields,
/// at its own version.
fn leaves<'a>(
    prefix: &str,
    record: &'a StateRecord,
    version: u32,
    how: Compared,
    out: &mut Vec<Leaf<'a>>,
) {
    for f in &record.fields {
        let on_wire = match f.tested() {
            true => how.tested,
            false => f.in_version(version),
        };
        if !on_wire {
            continue;
        }
        let path = field_path(prefix, &f.name);
        let inline = match f.kind {
            FieldKindName::Struct | FieldKindName::Tmp => true,
            // A dump does not say kinds: a description with no count.
            FieldKindName::Unknown => f.count.is_none(),
            _ => false,
        };
        match (&f.nested, how.nested && inline) {
            (Some(inner), true) => leaves(&path, inner, inner.version, how, out),
            _ => out.push(Leaf { path, field: f }),
        }
    }
}

/// How leaf `b` reads what leaf `a` wrote in the same place, by the one
/// rule, with their paths for names.
fn leaf_reading(
    a: &Leaf<'_>,
    b: &Leaf<'_>,
    source_has: impl Fn(&str) -> bool,
    destination_has: impl Fn(&str) -> bool,
) -> Reading {
    let written = FieldShape {
        name: &a.path,
        ..a.field.as_shape()
    };
    let read = FieldShape {
        name: &b.path,
        ..b.field.as_shape()
    };
    shapes_reading(a.field, b.field, written, read, source_has, destination_has)
}

/// Why a destination refuses the version a source wrote of a VMState (QEMU's
/// check in `vmstate_load_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRefused {
    /// Newer than the destination's own version.
    TooNew,
    /// Older than the oldest version the destination loads.
    TooOld,
}

/// Whether a destination that writes version `current` and loads back to
/// `minimum` refuses a stream at `version`.
pub const fn version_refused(version: u32, minimum: u32, current: u32) -> Option<VersionRefused> {
    if version > current {
        Some(VersionRefused::TooNew)
    } else if version < minimum {
        Some(VersionRefused::TooOld)
    } else {
        None
    }
}

/// A field two records both have, by name and kind, whose bound (the most
/// elements a load accepts) differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundChange<'a> {
    /// Its path (`ring.events`).
    pub path: String,
    /// The field in the first record.
    pub this: &'a FieldRecord,
    /// Its bound there.
    pub this_max: usize,
    /// The field in the second record.
    pub other: &'a FieldRecord,
    /// Its bound there.
    pub other_max: usize,
}

/// Every field of `this` that `other` has by name and kind with another
/// bound, in `this`'s order; with `nested`, also inside nested structs
/// both have (subsections are the caller's: each is a record of its own).
pub fn bound_changes<'a>(
    this: &'a StateRecord,
    other: &'a StateRecord,
    nested: bool,
) -> Vec<BoundChange<'a>> {
    let mut out = Vec::new();
    bounds_from("", this, other, nested, &mut out);
    out
}

fn bounds_from<'a>(
    path: &str,
    this: &'a StateRecord,
    other: &'a StateRecord,
    nested: bool,
    out: &mut Vec<BoundChange<'a>>,
) {
    for a in &this.fields {
        let Some(b) = other
            .fields
            .iter()
            .find(|b| b.name == a.name && b.kind == a.kind)
        else {
            continue;
        };
        if let (Some(this_max), Some(other_max)) = (a.max, b.max) {
            if this_max != other_max {
                out.push(BoundChange {
                    path: field_path(path, &a.name),
                    this: a,
                    this_max,
                    other: b,
                    other_max,
                });
            }
        }
        let structs = a.kind == FieldKindName::Struct;
        if let (true, true, Some(x), Some(y)) = (nested, structs, &a.nested, &b.nested) {
            bounds_from(&field_path(path, &a.name), x, y, nested, out);
        }
    }
}

/// How field `b` reads what field `a` wrote in the same place, by the one
/// rule, each as the caller names it (its path). Fields of other kinds with
/// the same wire type (an array and a variable array of `uint16`) differ,
/// but for skipped bytes; where one side does not know kinds (a dump),
/// sizes, counts and nesting decide.
fn shapes_reading<'s>(
    a: &FieldRecord,
    b: &FieldRecord,
    mut written: FieldShape<'s>,
    read: FieldShape<'s>,
    source_has: impl Fn(&str) -> bool,
    destination_has: impl Fn(&str) -> bool,
) -> Reading {
    // A side that does not know kinds and wire types (a `-dump-vmstate`)
    // is compared by what it says: sizes, counts, nesting.
    let unknown = a.kind == FieldKindName::Unknown || b.kind == FieldKindName::Unknown;
    if unknown {
        written.info = read.info;
    }
    let r = reading(written, read, source_has, destination_has);
    let skipped = a.kind == FieldKindName::Unused || b.kind == FieldKindName::Unused;
    match r {
        Reading::Alike | Reading::Renamed | Reading::Misread
            if a.kind != b.kind && !skipped && !unknown =>
        {
            Reading::Differs
        }
        other => other,
    }
}

impl StateRecord {
    /// Why this description, as a destination, refuses a stream of
    /// `version`; where the source does not say its oldest version (a
    /// stream), only a version newer than its own is refused.
    pub fn refuses(&self, version: u32) -> Option<VersionRefused> {
        version_refused(version, self.loads_from(), self.version)
    }
}

impl FieldRecord {
    /// What the rule of how a destination reads a field needs of it: its
    /// wire type, or its kind where it has none.
    pub fn as_shape(&self) -> FieldShape<'_> {
        FieldShape {
            name: &self.name,
            info: self.wire.as_deref().unwrap_or(self.kind.as_str()),
            size: self.size,
            // A buffer's size is all its bytes; its count says the same.
            count: self.count.filter(|_| self.kind != FieldKindName::Buffer),
            unused: self.is_unused(),
            nested: self.nested.is_some(),
        }
    }

    /// `4 x uint32, 4 bytes each` or `uint16, 2 bytes`: the field's shape
    /// in words.
    pub fn shape(&self) -> String {
        let wire = self.wire.as_deref().unwrap_or(self.kind.as_str());
        match self.count {
            Some(n) => format!("{n} x {wire}, {} bytes each", self.size),
            None => format!("{wire}, {} bytes", self.size),
        }
    }
}

/// A subsection a source writing with one record may send — one of the
/// VMState's own, of a nested struct, or of another subsection — with the
/// destination's subsection of that name where it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsectionPair<'a> {
    /// Where it hangs: empty for the VMState's own subsections, else the
    /// path of the nested struct or subsection that lists it (`esp`,
    /// `sub.inner`).
    pub path: String,
    /// The record that lists it, on the source's side.
    pub owner: &'a StateRecord,
    /// The subsection as the source writes it.
    pub written: &'a StateRecord,
    /// The destination's subsection of that name, if it knows one.
    pub read: Option<&'a StateRecord>,
}

/// How a destination reads a subsection the source sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubsectionReading<'a> {
    /// The destination does not know it: the load fails.
    Unknown,
    /// It knows it and refuses the version sent.
    Refused {
        /// Why.
        why: VersionRefused,
        /// The destination's subsection.
        read: &'a StateRecord,
    },
    /// It knows it and parts from the source at a field, with its path
    /// inside the subsection (fields an `exists` test decides counted as
    /// sent, nested structs compared with their own versions).
    Otherwise(String, FieldMismatch<'a>),
    /// It reads it as the source writes it.
    Alike,
}

/// Every subsection a source writing with `written` may send, each with
/// the destination's of that name: first the VMState's own, then, depth
/// first, those of nested structs both sides have and those inside
/// subsections both sides have. The one walk of which subsections exist
/// on which side; each tool frames what it finds.
pub fn subsection_pairs<'a>(
    written: &'a StateRecord,
    read: &'a StateRecord,
) -> Vec<SubsectionPair<'a>> {
    let mut out = Vec::new();
    subsections_from("", written, read, &mut out);
    out
}

fn subsections_from<'a>(
    path: &str,
    written: &'a StateRecord,
    read: &'a StateRecord,
    out: &mut Vec<SubsectionPair<'a>>,
) {
    for sub in &written.subsections {
        out.push(SubsectionPair {
            path: path.to_owned(),
            owner: written,
            written: sub,
            read: read.subsection(&sub.name),
        });
    }
    for a in &written.fields {
        let Some(b) = read.fields.iter().find(|b| b.name == a.name) else {
            continue;
        };
        if let (Some(x), Some(y)) = (&a.nested, &b.nested) {
            subsections_from(&field_path(path, &a.name), x, y, out);
        }
    }
    for sub in &written.subsections {
        if let Some(theirs) = read.subsection(&sub.name) {
            subsections_from(&field_path(path, &sub.name), sub, theirs, out);
        }
    }
}

impl<'a> SubsectionPair<'a> {
    /// How the destination reads this subsection when the source sends it.
    pub fn reading(&self) -> SubsectionReading<'a> {
        let Some(read) = self.read else {
            return SubsectionReading::Unknown;
        };
        if let Some(why) = read.refuses(self.written.version) {
            return SubsectionReading::Refused { why, read };
        }
        let how = Compared {
            version: self.written.version,
            tested: true,
            nested: true,
        };
        match first_field_mismatch(self.written, read, how) {
            Some((path, mismatch)) => SubsectionReading::Otherwise(path, mismatch),
            None => SubsectionReading::Alike,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vmstate::Layout;

    fn record(fields: serde_json::Value) -> StateRecord {
        let trailer = serde_json::json!({"vmsd_name": "dev", "version": 1, "fields": fields});
        StateRecord::sent(&Layout::from_json(&trailer).unwrap())
    }

    /// A nested struct is its fields on the wire: the same fields written
    /// flat under the struct's name read alike, and a field of another size
    /// is found at its path.
    #[test]
    fn a_nested_struct_reads_as_its_fields() {
        let esp = serde_json::json!({"vmsd_name": "esp", "version": 1, "fields": [
            {"name": "x", "type": "uint8", "size": 1},
            {"name": "y", "type": "uint16", "size": 2}]});
        let nested = record(serde_json::json!([
            {"name": "esp", "type": "struct", "struct": esp, "size": 3}]));
        let flat = |y: &str, size: usize| {
            record(serde_json::json!([
                {"name": "esp.x", "type": "uint8", "size": 1},
                {"name": "esp.y", "type": y, "size": size}]))
        };
        let how = Compared {
            version: 1,
            tested: true,
            nested: true,
        };
        let same = flat("uint16", 2);
        assert_eq!(first_field_mismatch(&nested, &same, how), None);
        assert_eq!(first_field_mismatch(&same, &nested, how), None);
        let wide = flat("uint32", 4);
        let (path, found) = first_field_mismatch(&nested, &wide, how).unwrap();
        assert_eq!(path, "esp.y");
        assert!(matches!(
            found,
            FieldMismatch::ReadsOtherwise { misread: false, .. }
        ));
    }
}
