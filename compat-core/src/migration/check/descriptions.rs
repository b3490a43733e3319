//! What the static descriptions of the two sides say beyond what a fresh
//! device sends: subsections sent whenever their test holds, nested
//! subsections, lists and maps the source accepts longer.

use super::DeviceView;
use crate::vmstate::{
    bound_changes, field_path, first_field_mismatch, version_refused, Compared, FieldKindName,
    FieldMismatch, StateRecord, VersionRefused, VmStateDescription,
};

/// A subsection the source sends — now or whenever its `needed` test
/// holds — that the destination cannot load: one it does not know, or (when
/// a fresh device does not send it, so its layout says nothing) one whose
/// version or fields it reads otherwise. A gated one breaks while its gate
/// is on, any other whenever its test is true.
pub(super) fn missing_subsection(
    s: &DeviceView,
    d: &DeviceView,
) -> Option<(String, Option<String>)> {
    for sub in s.vmsd.subsections {
        // A hand-written description may list no `needed` for it: ungated.
        let needed = s.vmsd.needed(sub.name).unwrap_or(crate::vmstate::Needed {
            function: "its `needed` test",
            gate: None,
        });
        let sent_now = s.layout.subsections.iter().any(|l| l.name == sub.name);
        let known = d.vmsd.subsection(sub.name).is_some();
        let problem = match d.vmsd.subsection(sub.name) {
            None => "which the destination does not know".to_owned(),
            // What a fresh device sends, the layout comparison covers.
            Some(_) if sent_now => continue,
            Some(theirs) => match description_mismatch(sub, theirs) {
                Some(why) => format!("which the destination reads otherwise: {why}"),
                None => continue,
            },
        };
        let gate_on = s
            .gates
            .iter()
            .find(|(n, _)| *n == sub.name)
            .map(|(_, on)| *on);
        let gate = match (needed.gate, gate_on) {
            (Some(_), Some(false)) => continue,
            (Some(gate), _) => format!(" ({gate} is on)"),
            (None, _) => String::new(),
        };
        let now = if sent_now { ", as it is now" } else { "" };
        // A gate's fix is the property difference's; without one, the
        // subsection needs one, or the destination must read it.
        let fix = match (needed.gate, known) {
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
                needed.function, sub.name
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
    path: &str,
    src: &'static VmStateDescription,
    dst: &'static VmStateDescription,
) -> Option<(String, String)> {
    let unloadable = |path: &str,
                      a: &'static VmStateDescription,
                      b: &'static VmStateDescription|
     -> Option<(String, String)> {
        for sub in a.subsections {
            let needed = a
                .needed(sub.name)
                .map_or("its `needed` test", |n| n.function);
            let problem = match b.subsection(sub.name) {
                None => "which the destination does not know".to_owned(),
                Some(theirs) => match description_mismatch(sub, theirs) {
                    Some(why) => format!("which the destination reads otherwise: {why}"),
                    None => match nested_subsections(&field_path(path, sub.name), sub, theirs) {
                        Some(found) => return Some(found),
                        None => continue,
                    },
                },
            };
            return Some((
                format!(
                    "breaks whenever {needed} is true: the source then sends subsection '{}' \
                     in '{}', {problem}",
                    sub.name, a.name
                ),
                format!(
                    "keep subsection '{}' loadable by both releases, or send the new state \
                     from a subsection of the device gated by a bool property",
                    sub.name
                ),
            ));
        }
        None
    };
    for f in src.fields {
        let Some(theirs) = dst.fields.iter().find(|g| g.name == f.name) else {
            continue;
        };
        if let (Some(a), Some(b)) = (f.kind.nested(), theirs.kind.nested()) {
            let here = field_path(path, f.name);
            if let Some(found) = unloadable(&here, a, b).or_else(|| nested_subsections(&here, a, b))
            {
                return Some(found);
            }
        }
    }
    // The device's own subsections are `missing_subsection`'s; below them,
    // theirs.
    if path.is_empty() {
        for sub in src.subsections {
            if let Some(theirs) = dst.subsection(sub.name) {
                if let Some(found) = unloadable(sub.name, sub, theirs)
                    .or_else(|| nested_subsections(sub.name, sub, theirs))
                {
                    return Some(found);
                }
            }
        }
    }
    None
}

/// Whether a destination reading with description `dst` loads what the
/// source writes with `src`, from the descriptions alone: the version, then
/// the fields in order by name, kind and element size.
fn description_mismatch(
    src: &'static VmStateDescription,
    dst: &'static VmStateDescription,
) -> Option<String> {
    match version_refused(src.version_id, dst.minimum_version_id, dst.version_id) {
        Some(VersionRefused::TooNew) => {
            return Some(format!(
                "incoming version_id {} is too new for local version_id {}",
                src.version_id, dst.version_id
            ))
        }
        Some(VersionRefused::TooOld) => {
            return Some(format!(
                "incoming version_id {} is too old for local minimum version_id {}",
                src.version_id, dst.minimum_version_id
            ))
        }
        None => {}
    }
    fields_mismatch(src, dst)
}

/// The fields part of [`description_mismatch`], by the one comparison of
/// two description records; fields an `exists` test decides are taken as
/// sent on both sides, and nested structs are compared with their own
/// versions (none is on the wire).
fn fields_mismatch(
    src: &'static VmStateDescription,
    dst: &'static VmStateDescription,
) -> Option<String> {
    let (written, read) = (StateRecord::of(src), StateRecord::of(dst));
    let how = Compared {
        version: src.version_id,
        tested: true,
        nested: true,
    };
    let (_, mismatch) = first_field_mismatch(&written, &read, how)?;
    Some(match mismatch {
        FieldMismatch::ReadsOtherwise { written, read, .. } => format!(
            "the source sends field '{}', the destination reads '{}' there",
            written.name, read.name
        ),
        FieldMismatch::NotRead(x) => format!(
            "the source sends field '{}', which the destination does not read",
            x.name
        ),
        FieldMismatch::NotWritten(y) => format!(
            "the destination reads field '{}', which the source does not send",
            y.name
        ),
    })
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
