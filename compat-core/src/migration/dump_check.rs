//! Comparing two `-dump-vmstate` files — QEMU's, or a release's — as the
//! destination would read what the source writes: per device type, whether
//! the wire layouts agree, differ only by field names (renames), break
//! (the destination reads more or fewer bytes, or refuses a version), or
//! agree in size while fields land elsewhere (a silent misread, which
//! neither QEMU's loader nor its static checker notices).
//!
//! A dump is class-level and says less than a stream: a field with a test
//! (`field_exists`) may or may not be written, array lengths are missing
//! from older dumps, and compat properties never show. The rules used:
//! a tested field both sides have by name has the same condition; a field
//! `mig_X` kept for older streams (QEMU's naming) is written by no current
//! source and read from older streams only, and pairs with a plain `X` on
//! the other side; any other tested field one side alone has is uncertain,
//! and every combination of uncertain fields is tried — when the outcomes
//! differ, the verdict names the fields it depends on (typically a compat
//! property, which locks record).

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::text::escape::escaped as esc;
use crate::vmstate::{
    older_streams_only, version_refused, FieldRecord, StateRecord, VersionRefused,
};

pub use super::dump::{DumpError, DumpType, VmStateDump};

/// What the destination makes of what the source writes, for one device
/// type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum DumpVerdict {
    /// The same wire layout under the same names.
    Identical,
    /// The same wire layout; fields renamed (`source` → `destination`).
    Renames {
        /// The renamed fields.
        renames: Vec<(String, String)>,
    },
    /// The destination refuses, or reads more or fewer bytes than the
    /// source writes.
    Breaks {
        /// Where the layouts diverge.
        at: String,
        /// How.
        reason: String,
    },
    /// As many bytes as written, but fields land in fields of other names
    /// both sides have: the load completes and the state is wrong.
    Misreads {
        /// `(written as, read as)` for each field that lands elsewhere.
        misread: Vec<(String, String)>,
    },
    /// The outcome depends on whether tested fields only one side has are
    /// on the wire — a condition the dumps do not show (usually a compat
    /// property of the machine type).
    Depends {
        /// The fields the outcome depends on.
        fields: Vec<String>,
        /// The outcome with them on the wire.
        with: Box<DumpVerdict>,
        /// The outcome without them.
        without: Box<DumpVerdict>,
    },
    /// The dumps cannot tell: a field of unknown size faces a field of
    /// another name.
    Unknown {
        /// Where.
        at: String,
    },
}

impl DumpVerdict {
    /// Whether it predicts a failed or wrong migration for certain.
    pub fn fails(&self) -> bool {
        matches!(
            self,
            DumpVerdict::Breaks { .. } | DumpVerdict::Misreads { .. }
        )
    }
}

impl fmt::Display for DumpVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pairs = |v: &[(String, String)]| {
            v.iter()
                .map(|(a, b)| format!("{} -> {}", esc(a), esc(b)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            DumpVerdict::Identical => f.write_str("migrates: the same layout"),
            DumpVerdict::Renames { renames } => {
                write!(f, "migrates: renames only ({})", pairs(renames))
            }
            DumpVerdict::Breaks { at, reason } => write!(f, "BREAKS at {}: {reason}", esc(at)),
            DumpVerdict::Misreads { misread } => write!(
                f,
                "MISREADS silently: the same size, but fields land in others ({})",
                pairs(misread)
            ),
            DumpVerdict::Depends {
                fields,
                with,
                without,
            } => write!(
                f,
                "depends on whether {} {} on the wire, which the dumps do not show \
                 (a compat property of the machine type, typically: compare locks): \
                 with it, {with}; without, {without}",
                fields
                    .iter()
                    .map(|x| esc(x).to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if fields.len() == 1 { "is" } else { "are" }
            ),
            DumpVerdict::Unknown { at } => write!(
                f,
                "cannot tell at {}: a field of unknown size faces another field",
                esc(at)
            ),
        }
    }
}

/// One device type compared, in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceComparison {
    /// The type name.
    pub type_name: String,
    /// Its verdict.
    pub verdict: DumpVerdict,
    /// Subsections the source may send that the destination handles
    /// otherwise, each with what happens if sent.
    pub subsections: Vec<String>,
}

/// Two dumps compared in one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DumpComparison {
    /// The source's machine type.
    pub source_machine: String,
    /// The destination's machine type.
    pub destination_machine: String,
    /// Device types both have, compared: those that are not identical.
    pub devices: Vec<DeviceComparison>,
    /// How many device types both have.
    pub compared: usize,
    /// Device types only the source has (its guests cannot start on the
    /// destination).
    pub only_source: Vec<String>,
    /// Device types only the destination has.
    pub only_destination: Vec<String>,
}

impl DumpComparison {
    /// Whether some device type fails for certain (breaks or misreads), or
    /// the machine types differ (QEMU refuses that).
    pub fn fails(&self) -> bool {
        self.source_machine != self.destination_machine
            || self.devices.iter().any(|d| d.verdict.fails())
    }
}

/// What every comparison of dumps says about compat properties.
pub const INVISIBLE: &str = "compat properties are invisible in -dump-vmstate files (a dump is \
     the same for every machine type): a default a machine type's compat set keeps \
     (hw_compat_7_2's e1000e migrate-timadj, which gates core.timadj) shows only as a tested \
     field; compat's locks record them (compat lock, compat verify --against LOCK)";

impl fmt::Display for DumpComparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} -> {}: {} device types in both",
            esc(&self.source_machine),
            esc(&self.destination_machine),
            self.compared
        )?;
        if self.source_machine != self.destination_machine {
            writeln!(
                f,
                "  FAILS: the machine types differ; the destination refuses the stream \
                 (\"Machine type received is '{}' and local is '{}'\")",
                esc(&self.source_machine),
                esc(&self.destination_machine)
            )?;
        }
        for d in &self.devices {
            writeln!(f, "  {}: {}", esc(&d.type_name), d.verdict)?;
            for s in &d.subsections {
                writeln!(f, "    {s}")?;
            }
        }
        if !self.only_source.is_empty() {
            writeln!(
                f,
                "  only in the source (a guest with one cannot start on the destination): {}",
                self.only_source
                    .iter()
                    .map(|x| esc(x).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        writeln!(f, "  note: {INVISIBLE}")
    }
}

/// Compare what `destination` makes of what `source` writes.
pub fn compare(source: &VmStateDump, destination: &VmStateDump) -> DumpComparison {
    let lengths = (source.records_lengths(), destination.records_lengths());
    let mut devices = Vec::new();
    let mut compared = 0;
    for (name, s) in &source.types {
        let Some(d) = destination.types.get(name) else {
            continue;
        };
        compared += 1;
        let verdict = section_verdict(&s.description, &d.description, lengths);
        let subsections = subsection_notes(&s.description, &d.description, lengths);
        if verdict != DumpVerdict::Identical || !subsections.is_empty() {
            devices.push(DeviceComparison {
                type_name: name.clone(),
                verdict,
                subsections,
            });
        }
    }
    let only = |a: &VmStateDump, b: &VmStateDump| {
        a.types
            .keys()
            .filter(|k| !b.types.contains_key(*k))
            .cloned()
            .collect::<Vec<_>>()
    };
    DumpComparison {
        source_machine: source.machine.clone(),
        destination_machine: destination.machine.clone(),
        devices,
        compared,
        only_source: only(source, destination),
        only_destination: only(destination, source),
    }
}

/// The verdict for a section (or subsection, which carries its version on
/// the wire too): versions first, then the fields under every combination
/// of uncertain fields. `lengths` says whether each dump records array
/// lengths.
fn section_verdict(s: &StateRecord, d: &StateRecord, lengths: (bool, bool)) -> DumpVerdict {
    if let Some(refused) = version_refused(s.version, d.minimum_version, d.version) {
        let reason = match refused {
            VersionRefused::TooNew => format!(
                "the source writes version {}, newer than the destination's {}: refused",
                s.version, d.version
            ),
            VersionRefused::TooOld => format!(
                "the source writes version {}, older than the destination loads ({}): refused",
                s.version, d.minimum_version
            ),
        };
        return DumpVerdict::Breaks {
            at: format!("{} version", s.name),
            reason,
        };
    }
    let mut uncertain = BTreeSet::new();
    collect_uncertain(s, d, Side::Writer, "", &mut uncertain);
    collect_uncertain(d, s, Side::Reader, "", &mut uncertain);
    let uncertain: Vec<String> = uncertain.into_iter().collect();
    let versions = (s.version, s.version);
    let outcome = |present: &BTreeSet<String>| {
        let mut src = Vec::new();
        let writer = Reading {
            side: Side::Writer,
            lengths: lengths.0,
            present,
        };
        flatten(s, Some(d), writer, versions, "", &mut src);
        let mut dst = Vec::new();
        let reader = Reading {
            side: Side::Reader,
            lengths: lengths.1,
            present,
        };
        flatten(d, Some(s), reader, versions, "", &mut dst);
        classify(&src, &dst)
    };
    // At most 2^8 combinations are tried; beyond, the uncertain fields
    // are taken as written.
    if uncertain.is_empty() || uncertain.len() > 8 {
        return outcome(&uncertain.iter().cloned().collect());
    }
    let all = outcome(&uncertain.iter().cloned().collect());
    let none = outcome(&BTreeSet::new());
    let mut same = true;
    for mask in 1..(1u32 << uncertain.len()) - 1 {
        let present = uncertain
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, f)| f.clone())
            .collect();
        same &= kind(&outcome(&present)) == kind(&all);
    }
    if same && kind(&all) == kind(&none) {
        all
    } else {
        DumpVerdict::Depends {
            fields: uncertain,
            with: Box::new(all),
            without: Box::new(none),
        }
    }
}

/// The verdict's kind, to tell whether combinations agree.
fn kind(v: &DumpVerdict) -> u8 {
    match v {
        DumpVerdict::Identical | DumpVerdict::Renames { .. } => 0,
        DumpVerdict::Breaks { .. } => 1,
        DumpVerdict::Misreads { .. } => 2,
        DumpVerdict::Depends { .. } => 3,
        DumpVerdict::Unknown { .. } => 4,
    }
}

/// What happens with each subsection the source may send.
fn subsection_notes(s: &StateRecord, d: &StateRecord, lengths: (bool, bool)) -> Vec<String> {
    let mut out = Vec::new();
    for sub in &s.subsections {
        match d.subsections.iter().find(|x| x.name == sub.name) {
            None => out.push(format!(
                "subsection {}: if the source sends it, the destination refuses it \
                 (it does not know it)",
                esc(&sub.name)
            )),
            Some(theirs) => {
                let v = section_verdict(sub, theirs, lengths);
                if v != DumpVerdict::Identical {
                    out.push(format!("subsection {}: if sent, {v}", esc(&sub.name)));
                }
                out.extend(subsection_notes(sub, theirs, lengths));
            }
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Writer,
    Reader,
}

/// The field of `other` that stands for field `index` of `desc`: the
/// field of the same name (the n-th of that name for the n-th: QEMU
/// splits an array into several fields of one name), else its `mig_` pair.
fn counterpart<'a>(
    desc: &StateRecord,
    index: usize,
    other: Option<&'a StateRecord>,
) -> Option<(&'a FieldRecord, bool)> {
    let other = other?;
    let f = &desc.fields[index];
    let nth = desc.fields[..index]
        .iter()
        .filter(|x| x.name == f.name)
        .count();
    let same: Vec<&FieldRecord> = other.fields.iter().filter(|o| o.name == f.name).collect();
    // Alternatives of one name pair by size; other repeated names by order.
    let found = same
        .iter()
        .find(|o| f.exists && o.size == f.size)
        .or_else(|| same.get(nth))
        .or_else(|| same.first().filter(|_| f.exists));
    if let Some(same) = found {
        return Some((same, true));
    }
    other
        .fields
        .iter()
        .find(|o| {
            older_streams_only(&o.name).as_deref() == Some(f.name.as_str())
                || older_streams_only(&f.name).as_deref() == Some(o.name.as_str())
        })
        .map(|o| (o, false))
}

/// Whether field `index` of `desc` is on the wire among its alternatives:
/// QEMU writes one of several tested fields of one name (`PCIDevice`'s
/// 256- and 4096-byte `config`). The one whose size the other side has
/// is taken, else the largest; a field without alternatives always is.
fn chosen_alternative(desc: &StateRecord, index: usize, other: Option<&StateRecord>) -> bool {
    let f = &desc.fields[index];
    let alternatives: Vec<(usize, &FieldRecord)> = desc
        .fields
        .iter()
        .enumerate()
        .filter(|(_, x)| x.exists && x.name == f.name)
        .collect();
    if !f.exists || alternatives.len() < 2 {
        return true;
    }
    let theirs: Vec<usize> = other
        .map(|o| {
            o.fields
                .iter()
                .filter(|x| x.name == f.name)
                .map(|x| x.size)
                .collect()
        })
        .unwrap_or_default();
    let pick = alternatives
        .iter()
        .filter(|(_, x)| theirs.contains(&x.size))
        .max_by_key(|(_, x)| x.size)
        .or_else(|| alternatives.iter().max_by_key(|(_, x)| x.size))
        .map(|(i, _)| *i);
    pick == Some(index)
}

/// The tested fields of `desc` whose presence the dumps cannot tell: one
/// side alone has them (not as a `mig_` pair).
fn collect_uncertain(
    desc: &StateRecord,
    other: &StateRecord,
    side: Side,
    prefix: &str,
    out: &mut BTreeSet<String>,
) {
    for (index, f) in desc.fields.iter().enumerate() {
        let path = format!("{prefix}{}", f.name);
        let theirs = counterpart(desc, index, Some(other)).map(|(t, _)| t);
        if f.exists && theirs.is_none() && older_streams_only(&f.name).is_none() {
            out.insert(uncertain_key(side, &path));
        }
        if let (Some(inner), Some(their_inner)) =
            (&f.nested, theirs.and_then(|t| t.nested.as_deref()))
        {
            collect_uncertain(inner, their_inner, side, &format!("{path}."), out);
        }
    }
}

/// How an uncertain field is named: by the side that has it.
fn uncertain_key(side: Side, path: &str) -> String {
    match side {
        Side::Writer => format!("{path} (source)"),
        Side::Reader => format!("{path} (destination)"),
    }
}

/// How many bytes a piece of the wire has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bytes {
    /// Known.
    Known(u64),
    /// Elements of this size, their count unknown: a dump that records no
    /// array lengths (QEMU before 8.x) shows an array's element size only.
    Elements(u64),
    /// Variable or custom (a buffer sized by another field, MSI-X state).
    Variable,
}

/// A piece of the wire.
#[derive(Debug, Clone)]
struct Leaf {
    path: String,
    name: String,
    bytes: Bytes,
    /// For a struct whose count the dump does not give (one struct, or as
    /// many as another field says): the struct's own pieces. Two such of
    /// one name compare by their pieces; otherwise it stands for one.
    inner: Option<Vec<Leaf>>,
}

/// The most leaves an array of structs expands into; beyond, it is one
/// leaf of its total size.
const EXPAND_LIMIT: u64 = 1 << 16;

/// Who is flattening, and how.
#[derive(Clone, Copy)]
struct Reading<'p> {
    side: Side,
    /// Whether this side's dump records array lengths (`num`).
    lengths: bool,
    /// The uncertain fields taken as written.
    present: &'p BTreeSet<String>,
}

/// The wire layout of `desc` as `r.side` writes or reads it: fields gated
/// by version against `gate` (the stream's version, or a nested struct's
/// own), fields kept for older streams against `source` (the version the
/// source wrote); `other` is the other side's description of the same
/// thing, deciding tested fields and lending array lengths.
fn flatten(
    desc: &StateRecord,
    other: Option<&StateRecord>,
    r: Reading<'_>,
    (gate, source): (u32, u32),
    prefix: &str,
    out: &mut Vec<Leaf>,
) {
    for (index, f) in desc.fields.iter().enumerate() {
        let path = format!("{prefix}{}", f.name);
        let pair = counterpart(desc, index, other);
        let theirs = pair.map(|(t, _)| t);
        if f.since > gate {
            continue;
        }
        if !chosen_alternative(desc, index, other) {
            continue;
        }
        if f.exists {
            let on_wire = match (pair, older_streams_only(&f.name).is_some(), r.side) {
                // Both sides have it by name: the same condition, taken
                // as met on both.
                (Some((_, true)), _, _) => true,
                // Kept for older streams: never written now, read from a
                // stream older than the reader.
                (_, true, Side::Writer) => false,
                (_, true, Side::Reader) => source < desc.version,
                // The plain field whose other side is `mig_X`: written and
                // read by the versions that have it.
                (Some(_), false, _) => true,
                (None, false, _) => r.present.contains(&uncertain_key(r.side, &path)),
            };
            if !on_wire {
                continue;
            }
        }
        // A dump without lengths: take the other side's for the same field.
        let count = match r.lengths {
            true => f.count,
            false => f.count.or_else(|| theirs.and_then(|t| t.count)),
        }
        .map(|n| n as u64);
        match &f.nested {
            Some(inner) => {
                let their_inner = theirs.and_then(|t| t.nested.as_deref());
                // A nested struct is read with its own version (none is
                // on the wire); its fields kept for older streams look at
                // the version the source's struct has.
                let nested_source = match r.side {
                    Side::Writer => inner.version,
                    Side::Reader => their_inner.map_or(inner.version, |t| t.version),
                };
                let mut one = Vec::new();
                flatten(
                    inner,
                    their_inner,
                    r,
                    (inner.version, nested_source),
                    "",
                    &mut one,
                );
                let Some(n) = count else {
                    out.push(Leaf {
                        path: path.clone(),
                        name: f.name.clone(),
                        bytes: Bytes::Variable,
                        inner: Some(prefixed(&one, &path, &f.name)),
                    });
                    continue;
                };
                if n.saturating_mul(one.len() as u64) <= EXPAND_LIMIT {
                    for i in 0..n {
                        let at = format!("{path}[{i}]");
                        out.extend(prefixed(&one, &at, &f.name));
                    }
                } else {
                    let each = one.iter().try_fold(0u64, |sum, l| match l.bytes {
                        Bytes::Known(b) => sum.checked_add(b),
                        _ => None,
                    });
                    out.push(Leaf {
                        path,
                        name: f.name.clone(),
                        bytes: each
                            .and_then(|e| e.checked_mul(n))
                            .map_or(Bytes::Variable, Bytes::Known),
                        inner: None,
                    });
                }
            }
            None => out.push(Leaf {
                path,
                name: f.name.clone(),
                inner: None,
                bytes: match (f.size as u64, count) {
                    (0, _) => Bytes::Variable,
                    (size, Some(n)) => size.checked_mul(n).map_or(Bytes::Variable, Bytes::Known),
                    (size, None) if r.lengths || theirs.is_some() => Bytes::Known(size),
                    (size, None) => Bytes::Elements(size),
                },
            }),
        }
    }
}

/// The pieces of a struct at `path`, named under `name`.
fn prefixed(pieces: &[Leaf], path: &str, name: &str) -> Vec<Leaf> {
    pieces
        .iter()
        .map(|l| Leaf {
            path: format!("{path}.{}", l.path),
            name: format!("{name}.{}", l.name),
            bytes: l.bytes,
            inner: l.inner.as_deref().map(|inner| prefixed(inner, path, name)),
        })
        .collect()
}

/// Whether a source piece and a destination piece take the same bytes:
/// `Some(true)` yes, `Some(false)` no, `None` the dumps cannot tell.
fn same_bytes(s: &Leaf, d: &Leaf) -> Option<bool> {
    let unused = is_unused(&s.name) || is_unused(&d.name);
    match (s.bytes, d.bytes) {
        (Bytes::Known(a), Bytes::Known(b)) => Some(a == b),
        // An element size where the length is not recorded: one element
        // (a scalar, most fields), or, for the same field or skipped
        // bytes, the length that fits.
        (Bytes::Elements(e), Bytes::Known(b)) | (Bytes::Known(b), Bytes::Elements(e))
            if e == b || (e != 0 && b % e == 0 && (s.name == d.name || unused)) =>
        {
            Some(true)
        }
        (Bytes::Elements(a), Bytes::Elements(b)) if a == b => Some(true),
        _ if s.name == d.name => Some(true),
        _ => None,
    }
}

/// How many of `others`, from the first, fill exactly the bytes of
/// `wide` when there are more than one (all sizes known, or one element),
/// none of them a field `wide`'s side has by name (`mine`).
fn spanned(wide: &Leaf, others: &[Leaf], mine: &BTreeSet<&str>) -> Option<usize> {
    let Bytes::Known(total) = wide.bytes else {
        return None;
    };
    let mut sum = 0;
    for (n, o) in others.iter().enumerate() {
        if mine.contains(o.name.as_str()) {
            return None;
        }
        // An element size without a recorded length: one element, as in
        // `same_bytes`.
        let (Bytes::Known(b) | Bytes::Elements(b)) = o.bytes else {
            return None;
        };
        sum += b;
        if sum == total {
            return (n > 0).then_some(n + 1);
        }
        if sum > total {
            return None;
        }
    }
    None
}

fn size_text(b: Bytes) -> String {
    match b {
        Bytes::Known(n) => format!("{n} bytes"),
        Bytes::Elements(n) => format!("{n}-byte elements"),
        Bytes::Variable => "a variable size".to_owned(),
    }
}

/// `pieces` with every struct of unknown count taken as one struct, its
/// pieces in its place.
fn spliced(pieces: &[Leaf]) -> Vec<Leaf> {
    let mut out = Vec::new();
    for l in pieces {
        match &l.inner {
            Some(inner) => out.extend(spliced(inner)),
            None => out.push(l.clone()),
        }
    }
    out
}

/// Walk the two layouts together. Structs of unknown count that both
/// sides have by name compare by their pieces (as many on both sides,
/// whatever the count); any other is taken as one struct.
fn classify(src: &[Leaf], dst: &[Leaf]) -> DumpVerdict {
    let (mut src, mut dst) = (src.to_vec(), dst.to_vec());
    let mut pairs = Vec::new();
    let mut k = 0;
    while k < src.len() && k < dst.len() {
        let (s, d) = (&src[k], &dst[k]);
        match (&s.inner, &d.inner) {
            (Some(a), Some(b)) if s.name == d.name => {
                match classify(a, b) {
                    DumpVerdict::Identical => {}
                    DumpVerdict::Renames { renames } => pairs.extend(renames),
                    other => return other,
                }
                pairs.push((s.name.clone(), d.name.clone()));
                src[k].inner = None;
                dst[k].inner = None;
                k += 1;
            }
            (None, None) => k += 1,
            _ => {
                let (a, b) = (spliced(&src[k..]), spliced(&dst[k..]));
                src.truncate(k);
                src.extend(a);
                dst.truncate(k);
                dst.extend(b);
                k += 1;
            }
        }
    }
    let (src, dst) = (spliced(&src), spliced(&dst));
    let written: BTreeSet<&str> = src.iter().map(|l| l.name.as_str()).collect();
    let read: BTreeSet<&str> = dst.iter().map(|l| l.name.as_str()).collect();
    let (mut i, mut j) = (0, 0);
    while i < src.len() && j < dst.len() {
        let (s, d) = (&src[i], &dst[j]);
        // Skipped bytes (`unused`) on one side may stand for several
        // fields of the other, none of which that side still has.
        if let Some(n) = spanned(s, &dst[j..], &written).filter(|_| is_unused(&s.name)) {
            pairs.extend(
                dst[j..j + n]
                    .iter()
                    .map(|x| (s.name.clone(), x.name.clone())),
            );
            (i, j) = (i + 1, j + n);
            continue;
        }
        if let Some(n) = spanned(d, &src[i..], &read).filter(|_| is_unused(&d.name)) {
            pairs.extend(
                src[i..i + n]
                    .iter()
                    .map(|x| (x.name.clone(), d.name.clone())),
            );
            (i, j) = (i + n, j + 1);
            continue;
        }
        (i, j) = (i + 1, j + 1);
        match same_bytes(s, d) {
            Some(true) => pairs.push((s.name.clone(), d.name.clone())),
            Some(false) => {
                return DumpVerdict::Breaks {
                    at: d.path.clone(),
                    reason: format!(
                        "the destination reads {} as '{}' where the source wrote {} of '{}'",
                        size_text(d.bytes),
                        esc(&d.name),
                        size_text(s.bytes),
                        esc(&s.name)
                    ),
                }
            }
            None => return DumpVerdict::Unknown { at: d.path.clone() },
        }
    }
    if let Some(d) = dst.get(j) {
        return DumpVerdict::Breaks {
            at: d.path.clone(),
            reason: format!(
                "the destination reads '{}' ({}) after all the source wrote (QEMU: \"Missing \
                 section footer\" or worse)",
                esc(&d.name),
                size_text(d.bytes)
            ),
        };
    }
    if let Some(s) = src.get(i) {
        return DumpVerdict::Breaks {
            at: s.path.clone(),
            reason: format!(
                "the source writes '{}' ({}) that the destination does not read (QEMU: \
                 \"Missing section footer\")",
                esc(&s.name),
                size_text(s.bytes)
            ),
        };
    }
    let renamed: Vec<(String, String)> = pairs.iter().filter(|(a, b)| a != b).cloned().collect();
    if renamed.is_empty() {
        return DumpVerdict::Identical;
    }
    // A field both sides have, read into another field: a misread. A
    // field read into `unused`, or under a name the other side lacks, is a
    // rename.
    let misread: Vec<(String, String)> = renamed
        .iter()
        .filter(|(a, b)| {
            !is_unused(a)
                && !is_unused(b)
                && (read.contains(a.as_str()) || written.contains(b.as_str()))
        })
        .cloned()
        .collect();
    if misread.is_empty() {
        let mut renames = renamed;
        renames.dedup();
        DumpVerdict::Renames { renames }
    } else {
        DumpVerdict::Misreads { misread }
    }
}

/// QEMU's `VMSTATE_UNUSED`: bytes the reader skips.
fn is_unused(name: &str) -> bool {
    name == "unused" || name.ends_with(".unused")
}
