//! Two sides' pieces walked together: the same layout, renames, a break
//! where they diverge, or fields landing in others (a silent misread).

use std::collections::BTreeSet;

use super::wire::{Bytes, Leaf};
use super::DumpVerdict;
use crate::text::escape::escaped as esc;

/// Whether a source piece and a destination piece take the same bytes:
/// `Some(true)` yes, `Some(false)` no, `None` the dumps cannot tell.
pub(super) fn same_bytes(s: &Leaf, d: &Leaf) -> Option<bool> {
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
pub(super) fn spanned(wide: &Leaf, others: &[Leaf], mine: &BTreeSet<&str>) -> Option<usize> {
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

pub(super) fn size_text(b: Bytes) -> String {
    match b {
        Bytes::Known(n) => format!("{n} bytes"),
        Bytes::Elements(n) => format!("{n}-byte elements"),
        Bytes::Variable => "a variable size".to_owned(),
    }
}

/// `pieces` with every struct of unknown count taken as one struct, its
/// pieces in its place.
pub(super) fn spliced(pieces: &[Leaf]) -> Vec<Leaf> {
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
pub(super) fn classify(src: &[Leaf], dst: &[Leaf]) -> DumpVerdict {
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
pub(super) fn is_unused(name: &str) -> bool {
    name == "unused" || name.ends_with(".unused")
}
