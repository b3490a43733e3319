//! What the static descriptions of the two sides say beyond what a fresh
//! device sends: subsections sent whenever their test holds, nested
//! subsections, lists and maps the source accepts longer.

use super::DeviceView;
use crate::vmstate::{
    bound_changes, subsection_pairs, FieldKindName, FieldMismatch, StateRecord, SubsectionPair,
    SubsectionReading, VersionRefused, VmStateDescription,
};

/// A subsection of the device's own that the source sends — now or
/// whenever its `needed` test holds — that the destination cannot load: one
/// it does not know, or (when a fresh device does not send it, so its
/// layout says nothing) one whose version or fields it reads otherwise. A
/// gated one breaks while its gate is on, any other whenever its test is
/// true.
pub(super) fn missing_subsection(
    s: &DeviceView,
    d: &DeviceView,
) -> Option<(String, Option<String>)> {
    let (src, dst) = (StateRecord::of(s.vmsd), StateRecord::of(d.vmsd));
    for pair in subsection_pairs(&src, &dst) {
        if !pair.path.is_empty() {
            continue;
        }
        let sub = pair.written;
        let sent_now = s.layout.subsections.iter().any(|l| l.name == sub.name);
        // What a fresh device sends, the layout comparison covers.
        if sent_now && pair.read.is_some() {
            continue;
        }
        let Some(problem) = unloadable(&pair) else {
            continue;
        };
        let gate_on = s
            .gates
            .iter()
            .find(|(n, _)| *n == sub.name)
            .map(|(_, on)| *on);
        let gate = match (&sub.gate, gate_on) {
            (Some(_), Some(false)) => continue,
            (Some(gate), _) => format!(" ({gate} is on)"),
            (None, _) => String::new(),
        };
        let now = if sent_now { ", as it is now" } else { "" };
        // A gate's fix is the property difference's; without one, the
        // subsection needs one, or the destination must read it.
        let fix = match (&sub.gate, pair.read.is_some()) {
            (Some(_), _) => None,
            (None, false) => Some(format!(
                "gate subsection '{}' with a bool property (#[vmstate(subsection, needed = ..., \
                 gate = \"...\")]) that the compat set of the older release's machine types \
                 turns off",
                sub.name
            )),
            (None, true) => Some(format!(
                "keep subsection '{}' readable by both releases: its version within what the \
                 destination loads, its fields unchanged (new state goes in a new subsection)",
                sub.name
            )),
        };
        return Some((
            format!(
                "breaks whenever {} is true{now}: the source then sends subsection '{}'{gate}, \
                 {problem}",
                needed(sub),
                sub.name
            ),
            fix,
        ));
    }
    None
}

/// Subsections below the device's own — of nested structs, elements, and
/// of subsections both sides have — that the source may send and the
/// destination cannot load. Only a device's own subsections can be gated,
/// so each of these breaks whenever its `needed` test is true.
pub(super) fn nested_subsections(
    src: &'static VmStateDescription,
    dst: &'static VmStateDescription,
) -> Option<(String, String)> {
    let (src, dst) = (StateRecord::of(src), StateRecord::of(dst));
    subsection_pairs(&src, &dst)
        .into_iter()
        .filter(|pair| !pair.path.is_empty())
        .find_map(|pair| {
            let problem = unloadable(&pair)?;
            let sub = pair.written;
            Some((
                format!(
                    "breaks whenever {} is true: the source then sends subsection '{}' in \
                     '{}', {problem}",
                    needed(sub),
                    sub.name,
                    pair.owner.name
                ),
                format!(
                    "keep subsection '{}' loadable by both releases, or send the new state \
                     from a subsection of the device gated by a bool property",
                    sub.name
                ),
            ))
        })
}

/// The `needed` test of a subsection, in words (a hand-written description
/// may list none).
fn needed(sub: &StateRecord) -> &str {
    sub.needed.as_deref().unwrap_or("its `needed` test")
}

/// Why the destination cannot load a subsection the source sends, in
/// words; `None` where it reads it as written.
fn unloadable(pair: &SubsectionPair<'_>) -> Option<String> {
    let why = match pair.reading() {
        SubsectionReading::Alike => return None,
        SubsectionReading::Unknown => return Some("which the destination does not know".into()),
        SubsectionReading::Refused {
            why: VersionRefused::TooNew,
            read,
        } => format!(
            "incoming version_id {} is too new for local version_id {}",
            pair.written.version, read.version
        ),
        SubsectionReading::Refused {
            why: VersionRefused::TooOld,
            read,
        } => format!(
            "incoming version_id {} is too old for local minimum version_id {}",
            pair.written.version,
            read.loads_from()
        ),
        SubsectionReading::Otherwise(_, FieldMismatch::ReadsOtherwise { written, read, .. }) => {
            format!(
                "the source sends field '{}', the destination reads '{}' there",
                written.name, read.name
            )
        }
        SubsectionReading::Otherwise(_, FieldMismatch::NotRead(x)) => format!(
            "the source sends field '{}', which the destination does not read",
            x.name
        ),
        SubsectionReading::Otherwise(_, FieldMismatch::NotWritten(y)) => format!(
            "the destination reads field '{}', which the source does not send",
            y.name
        ),
    };
    Some(format!("which the destination reads otherwise: {why}"))
}

/// A list or map — whose length the guest decides at run time — that the
/// source accepts longer than the destination does: it breaks once it is
/// that long, whatever a fresh device holds. (A variable array's length
/// comes from the configuration, as virtio's queue count does: the length
/// the source sends is compared with the destination's bound instead.)
/// Nested structs and subsections both sides have are compared too.
pub(super) fn bound_mismatch(
    src: &'static VmStateDescription,
    dst: &'static VmStateDescription,
) -> Option<(String, String)> {
    records_bound_mismatch(&StateRecord::of(src), &StateRecord::of(dst))
}

fn records_bound_mismatch(src: &StateRecord, dst: &StateRecord) -> Option<(String, String)> {
    // A variable array's length comes from the configuration, compared
    // where the layouts are; the stream's own counts are compared here.
    let by_stream = |k: FieldKindName| matches!(k, FieldKindName::List | FieldKindName::Map);
    let longer = bound_changes(src, dst, true)
        .into_iter()
        .find(|c| by_stream(c.this.kind) && c.this_max > c.other_max);
    if let Some(c) = longer {
        let (field, a, b) = (c.path, c.this_max, c.other_max);
        return Some((
            format!(
                "breaks whenever field '{field}' holds more than {b} elements: the source \
                 accepts up to {a}, the destination at most {b}"
            ),
            format!(
                "keep max = {b} for '{field}' in the newer release (or migrate only while it \
                 holds at most {b})"
            ),
        ));
    }
    src.subsections.iter().find_map(|a| {
        let b = dst.subsection(&a.name)?;
        records_bound_mismatch(a, b)
    })
}
