//! A dump's description as the pieces of the wire it stands for, as one
//! side writes or reads it: fields gated by version, tested fields decided
//! where the dumps can tell (and tried both ways where not), arrays of
//! structs expanded, sizes known, known per element, or variable.

use std::collections::BTreeSet;

use crate::vmstate::{older_streams_only, FieldRecord, StateRecord};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Writer,
    Reader,
}

/// The field of `other` that stands for field `index` of `desc`: the
/// field of the same name (the n-th of that name for the n-th: QEMU
/// splits an array into several fields of one name), else its `mig_` pair.
pub(super) fn counterpart<'a>(
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
        .find(|o| f.tested() && o.size == f.size)
        .or_else(|| same.get(nth))
        .or_else(|| same.first().filter(|_| f.tested()));
    if let Some(same) = found {
        return Some((same, true));
    }
    let kept = other.fields.iter().find(|o| kept_pair(&o.name, &f.name));
    if let Some(o) = kept {
        return Some((o, false));
    }
    renamed_in_place(desc, index, other).map(|o| (o, false))
}

/// Whether one of `a` and `b` is the other kept for older streams only
/// (`mig_cmdbuf` and `cmdbuf`).
fn kept_pair(a: &str, b: &str) -> bool {
    older_streams_only(a).as_deref() == Some(b) || older_streams_only(b).as_deref() == Some(a)
}

/// A tested field renamed (`data_in_ready` → `data_ready`): the field
/// right after the one that stands for the nearest field before it the
/// other side has by name (fields between kept for older streams), of the same
/// size, tested on both sides (or from a stream, which says no tests), and
/// neither name on the other side. The tests of the two are taken to be
/// one condition.
fn renamed_in_place<'a>(
    desc: &StateRecord,
    index: usize,
    other: &'a StateRecord,
) -> Option<&'a FieldRecord> {
    let f = &desc.fields[index];
    let o = other.fields.get(place_in(desc, index, other)?)?;
    let tested = |x: &FieldRecord| x.exists != Some(false);
    (tested(f)
        && tested(o)
        && o.size == f.size
        && !desc.fields.iter().any(|x| x.name == o.name)
        && !other.fields.iter().any(|x| x.name == f.name))
    .then_some(o)
}

/// Where field `index` of `desc` would stand among `other`'s fields: right
/// after the one of the name of the nearest field before it that `other`
/// has; `None` when no field before it is in `other`.
pub(super) fn place_in(desc: &StateRecord, index: usize, other: &StateRecord) -> Option<usize> {
    desc.fields[..index]
        .iter()
        .rev()
        .find_map(|b| other.fields.iter().position(|o| o.name == b.name))
        .map(|at| at + 1)
}

/// Whether field `index` of `desc` is on the wire among its alternatives:
/// QEMU writes one of several tested fields of one name (`PCIDevice`'s
/// 256- and 4096-byte `config`). The one whose size the other side has
/// is taken, else the largest; a field without alternatives always is.
pub(super) fn chosen_alternative(
    desc: &StateRecord,
    index: usize,
    other: Option<&StateRecord>,
) -> bool {
    let f = &desc.fields[index];
    let alternatives: Vec<(usize, &FieldRecord)> = desc
        .fields
        .iter()
        .enumerate()
        .filter(|(_, x)| x.tested() && x.name == f.name)
        .collect();
    if !f.tested() || alternatives.len() < 2 {
        return true;
    }
    // The other side's fields of that name, or of its pair kept for older
    // streams (`cmdbuf` for `mig_cmdbuf`).
    let paired = |x: &&FieldRecord| x.name == f.name || kept_pair(&x.name, &f.name);
    let theirs: Vec<&FieldRecord> = other
        .map(|o| o.fields.iter().filter(paired).collect())
        .unwrap_or_default();
    // As many pieces the other side always writes: one field split in
    // parts (esp's `cmdbuf`, its first 16 bytes then the rest from version
    // 4, kept as two tested `mig_cmdbuf` for older streams), each on the
    // wire, not one of alternatives. A stream's trailer lists such pieces
    // as one field of as many elements.
    let pieces: usize = theirs.iter().map(|x| x.count.unwrap_or(1)).sum();
    if pieces >= alternatives.len() && theirs.iter().all(|x| !x.tested()) {
        return true;
    }
    let theirs: Vec<usize> = theirs
        .iter()
        .filter(|x| x.name == f.name)
        .map(|x| x.size)
        .collect();
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
pub(super) fn collect_uncertain(
    desc: &StateRecord,
    other: &StateRecord,
    side: Side,
    prefix: &str,
    out: &mut BTreeSet<String>,
) {
    for (index, f) in desc.fields.iter().enumerate() {
        let path = format!("{prefix}{}", f.name);
        let theirs = counterpart(desc, index, Some(other)).map(|(t, _)| t);
        if f.tested() && theirs.is_none() && older_streams_only(&f.name).is_none() {
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
pub(super) fn uncertain_key(side: Side, path: &str) -> String {
    match side {
        Side::Writer => format!("{path} (source)"),
        Side::Reader => format!("{path} (destination)"),
    }
}

/// How many bytes a piece of the wire has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bytes {
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
pub(super) struct Leaf {
    pub(super) path: String,
    pub(super) name: String,
    pub(super) bytes: Bytes,
    /// For a struct whose count the dump does not give (one struct, or as
    /// many as another field says): the struct's own pieces. Two such of
    /// one name compare by their pieces; otherwise it stands for one.
    pub(super) inner: Option<Vec<Leaf>>,
}

/// The most leaves an array of structs expands into; beyond, it is one
/// leaf of its total size.
pub(super) const EXPAND_LIMIT: u64 = 1 << 16;

/// Who is flattening, and how.
#[derive(Clone, Copy)]
pub(super) struct Reading<'p> {
    pub(super) side: Side,
    /// Whether this side's dump records array lengths (`num`).
    pub(super) lengths: bool,
    /// The uncertain fields taken as written.
    pub(super) present: &'p BTreeSet<String>,
    /// The path of the struct being flattened from the section (`esp.`),
    /// which names its uncertain fields: the pieces' own paths start at
    /// the struct.
    pub(super) within: &'p str,
    /// Whether the other side lists what one stream sent: a field kept for
    /// older streams (`mig_X`) is then read exactly when the stream carries
    /// it or `X`, as QEMU's tests choose what the source sent.
    pub(super) against_sent: bool,
}

/// The wire layout of `desc` as `r.side` writes or reads it: fields gated
/// by version against `gate` (the stream's version, or a nested struct's
/// own), fields kept for older streams against `source` (the version the
/// source wrote); `other` is the other side's description of the same
/// thing, deciding tested fields and lending array lengths.
pub(super) fn flatten(
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
        if !f.in_version(gate) {
            continue;
        }
        if !chosen_alternative(desc, index, other) {
            continue;
        }
        if f.tested() {
            let on_wire = match (pair, older_streams_only(&f.name).is_some(), r.side) {
                // Both sides have it by name: the same condition, taken
                // as met on both.
                (Some((_, true)), _, _) => true,
                // Kept for older streams: never written now, read from a
                // stream older than the reader.
                (_, true, Side::Writer) => false,
                // Against what a stream sent: read when it carries the
                // field or its plain pair.
                (_, true, Side::Reader) if r.against_sent => pair.is_some(),
                (_, true, Side::Reader) => source < desc.version,
                // The plain field whose other side is `mig_X`: written and
                // read by the versions that have it.
                (Some(_), false, _) => true,
                (None, false, _) => r
                    .present
                    .contains(&uncertain_key(r.side, &format!("{}{path}", r.within))),
            };
            if !on_wire {
                continue;
            }
        }
        // A dump without lengths: take the other side's for the same field.
        // A struct a dump gives no count for may be a variable array, whose
        // length is what the source sent: take the other side's count for
        // it too (a stream's is the length sent).
        let count = match r.lengths && f.nested.is_none() {
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
                let within = format!("{}{path}.", r.within);
                flatten(
                    inner,
                    their_inner,
                    Reading {
                        within: &within,
                        ..r
                    },
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
pub(super) fn prefixed(pieces: &[Leaf], path: &str, name: &str) -> Vec<Leaf> {
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
