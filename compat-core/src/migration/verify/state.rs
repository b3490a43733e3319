//! What the two sides write and read of one VMState, from the two
//! releases' description records: versions, fields in wire order (by the
//! one rule of how a destination reads a field), bounds, subsections.

use super::properties::sets_for;
use super::{Direction, Finding, FindingKind};
use crate::migration::lock::Lock;
use crate::vmstate::{
    bound_changes, first_field_mismatch, subsection_pairs, Compared, FieldMismatch, StateRecord,
    SubsectionPair, VersionRefused,
};

/// What the two sides write and read of one VMState, and of every
/// subsection both have, at any depth.
pub(super) fn vmstate(
    device: &str,
    old: &StateRecord,
    new: &StateRecord,
    earlier: &Lock,
    now: &Lock,
    out: &mut Vec<Finding>,
) {
    let pair = Pair {
        device,
        old,
        new,
        earlier,
        now,
    };
    state(&pair, out);
    subsections(&pair, out);
}

/// What the two sides write and read of one record itself: versions, the
/// fields in wire order, bounds.
fn state(pair: &Pair<'_>, out: &mut Vec<Finding>) {
    versions(pair, out);
    layout(pair, out);
    bounds(pair, out);
}

/// One device type's VMState in the locked release and in this one.
#[derive(Clone, Copy)]
struct Pair<'a> {
    device: &'a str,
    old: &'a StateRecord,
    new: &'a StateRecord,
    earlier: &'a Lock,
    now: &'a Lock,
}

/// A finding in `device`.
fn device_finding(
    device: &str,
    kind: FindingKind,
    item: Option<String>,
    direction: Direction,
    message: String,
    fixes: Vec<String>,
) -> Finding {
    Finding {
        kind,
        device: Some(device.to_owned()),
        item,
        machines: Vec::new(),
        direction,
        message,
        fixes,
    }
}

/// The versions each side writes and loads.
fn versions(pair: &Pair<'_>, out: &mut Vec<Finding>) {
    let Pair {
        device,
        old,
        new,
        earlier,
        now,
    } = *pair;
    // Old -> new: the new release reads what the old one writes.
    let up = new.refuses(old.version);
    if up == Some(VersionRefused::TooOld) {
        out.push(device_finding(
            device,
            FindingKind::VersionChanged,
            None,
            Direction::OldToNew,
            format!(
                "{device}: VMState '{}' loads versions {} to {} in release {}, but release {} \
                 writes version {}",
                new.name,
                new.loads_from(),
                new.version,
                now.release,
                earlier.release,
                old.version
            ),
            vec![format!(
                "keep minimum_version at {} or below, reading what release {} writes",
                old.version, earlier.release
            )],
        ));
    }
    // New -> old: the old release reads what the new one writes.
    let down = old.refuses(new.version);
    if down == Some(VersionRefused::TooNew) {
        out.push(device_finding(
            device,
            FindingKind::VersionChanged,
            None,
            Direction::NewToOld,
            format!(
                "{device}: VMState '{}' writes version {} in release {}; release {} loads at most \
                 version {}",
                new.name, new.version, now.release, earlier.release, old.version
            ),
            vec![
                "send the new fields in a subsection whose `needed` is false on old machine types, \
                 instead of raising the version"
                    .to_owned(),
            ],
        ));
    }
}

/// The fields, in wire order, of a stream at the old version.
fn layout(pair: &Pair<'_>, out: &mut Vec<Finding>) {
    let Pair {
        device,
        old,
        new,
        earlier,
        now,
    } = *pair;
    // What the new release reads of a stream at the old version: its fields
    // added at that version or before. Fields an `exists` test decides
    // depend on the value: what fresh devices send on each machine type
    // covers them. Nested structs are compared field by field, each at
    // its own version.
    let how = Compared {
        version: old.version,
        tested: false,
        nested: true,
    };
    let Some((path, mismatch)) = first_field_mismatch(old, new, how) else {
        return;
    };
    // A field of a nested struct is named by its path (`ring.head`): the
    // path of the field it was found at, less that field's own name.
    let found_at = match mismatch {
        FieldMismatch::ReadsOtherwise { written, .. } | FieldMismatch::NotRead(written) => written,
        FieldMismatch::NotWritten(read) => read,
    };
    let prefix = path.strip_suffix(found_at.name.as_str()).unwrap_or("");
    let at = |name: &str| format!("{prefix}{name}");
    let (item, message) = match mismatch {
        FieldMismatch::ReadsOtherwise {
            written: a,
            read: b,
            misread: true,
        } => (
            at(&b.name),
            format!(
                "{device}: field '{}' ({}) of release {} is read as '{}' in release {}, a \
                 field release {} writes elsewhere: the load completes with the state in \
                 the wrong field",
                at(&a.name),
                a.shape(),
                earlier.release,
                at(&b.name),
                now.release,
                earlier.release
            ),
        ),
        FieldMismatch::ReadsOtherwise {
            written: a,
            read: b,
            misread: false,
        } => (
            at(&b.name),
            format!(
                "{device}: field '{}' ({}) of release {} is read as '{}' ({}) in release {}",
                at(&a.name),
                a.shape(),
                earlier.release,
                at(&b.name),
                b.shape(),
                now.release
            ),
        ),
        FieldMismatch::NotRead(a) => (
            at(&a.name),
            format!(
                "{device}: field '{}' ({}) of release {} is gone in release {}",
                at(&a.name),
                a.shape(),
                earlier.release,
                now.release
            ),
        ),
        FieldMismatch::NotWritten(b) if b.since == Some(0) => (
            at(&b.name),
            format!(
                "{device}: field '{}' ({}) is new in release {} with no `since`, so release {} \
                 reads it from a stream release {} writes without it",
                at(&b.name),
                b.shape(),
                now.release,
                now.release,
                earlier.release
            ),
        ),
        FieldMismatch::NotWritten(b) => (
            at(&b.name),
            format!(
                "{device}: field '{}' ({}) is new in release {} at version {}, which release {} \
                 writes without it",
                at(&b.name),
                b.shape(),
                now.release,
                b.since
                    .map_or_else(|| "unknown".to_owned(), |v| v.to_string()),
                earlier.release
            ),
        ),
    };
    let misread = matches!(
        mismatch,
        FieldMismatch::ReadsOtherwise { misread: true, .. }
    );
    let fix = match misread {
        true => format!(
            "keep every field release {} writes in its place: a field moved or dropped \
             stays readable where older streams have it (QEMU's `mig_` fields, read only \
             when the version the source sent says so)",
            earlier.release
        ),
        false => format!(
            "declare a new field with `since = {}` (and raise `version`), or send it in a \
             subsection; keep every field release {} writes, at its size",
            old.version + 1,
            earlier.release
        ),
    };
    out.push(device_finding(
        device,
        FindingKind::LayoutChanged,
        Some(item),
        Direction::Both,
        message,
        vec![fix],
    ));
}

/// Bounds of variable arrays, lists and maps.
fn bounds(pair: &Pair<'_>, out: &mut Vec<Finding>) {
    let Pair {
        device,
        old,
        new,
        earlier,
        now,
    } = *pair;
    // Bounds: a side that sends longer than the other accepts breaks once
    // the guest (a list, a map) or the configuration (a variable array)
    // makes it that long.
    for change in bound_changes(new, old, false) {
        let (n, new_max, old_max) = (change.this, change.this_max, change.other_max);
        let (direction, longer, shorter, bound) = if new_max > old_max {
            (Direction::NewToOld, &now.release, &earlier.release, old_max)
        } else {
            (Direction::OldToNew, &earlier.release, &now.release, new_max)
        };
        out.push(device_finding(
            device,
            FindingKind::BoundChanged,
            Some(n.name.clone()),
            direction,
            format!(
                "{device}: {} '{}' accepts {} elements in release {} and {} in release {}: \
                 migrating from release {longer} to release {shorter} breaks whenever it holds \
                 more than {bound}",
                n.kind, n.name, old_max, earlier.release, new_max, now.release
            ),
            vec![format!(
                "keep max = {} for '{}' (a larger bound needs a new field or subsection that \
                 older releases do not receive)",
                old_max, n.name
            )],
        ));
    }
}

/// Subsections one side has and the other does not, and those both have
/// — the VMState's own, those of nested structs and those inside
/// subsections, by the one walk of [`subsection_pairs`].
fn subsections(pair: &Pair<'_>, out: &mut Vec<Finding>) {
    let Pair {
        device,
        old,
        new,
        earlier,
        now,
    } = *pair;
    for gone in subsection_pairs(old, new)
        .into_iter()
        .filter(|p| p.read.is_none())
    {
        let (gone, place) = (gone.written, in_owner(&gone));
        let needed = gone.needed.as_deref().unwrap_or("its `needed` test");
        // Where the locked release kept its gate off, it never sent it.
        let machines = match &gone.gate {
            Some(gate) => gate_on(earlier, earlier, device, gate),
            None => Vec::new(),
        };
        if gone.gate.is_some() && machines.is_empty() {
            continue;
        }
        out.push(Finding {
            machines,
            ..device_finding(
                device,
                FindingKind::SubsectionRemoved,
                Some(gone.name.clone()),
                Direction::OldToNew,
                format!(
                    "{device}: subsection '{}'{place} of release {} is gone in release {}: \
                     migrating from release {} breaks whenever {needed} is true there",
                    gone.name, earlier.release, now.release, earlier.release
                ),
                vec![format!(
                    "keep subsection '{}' loadable in release {} (a destination reads what older \
                     releases send, even state it no longer uses)",
                    gone.name, now.release
                )],
            )
        });
    }
    for both in subsection_pairs(new, old) {
        let (sub, place) = (both.written, in_owner(&both));
        if let Some(o) = both.read {
            let inner = Pair {
                old: o,
                new: sub,
                ..*pair
            };
            state(&inner, out);
            continue;
        }
        let needed = sub.needed.as_deref().unwrap_or("its `needed` test");
        match &sub.gate {
            // Gated: it breaks exactly where the gate is on on a machine type
            // of the locked release.
            Some(gate) => {
                let machines = gate_on(now, earlier, device, gate);
                if machines.is_empty() {
                    continue;
                }
                let owner = device;
                let mut fixes: Vec<String> = sets_for(&machines, earlier, now)
                    .into_iter()
                    .map(|set| {
                        format!(
                            "add {{{owner}, {gate}, off}} to {set} in release {}",
                            now.release
                        )
                    })
                    .collect();
                fixes.push(format!(
                    "for releases already shipped: start the source with -global {owner}.{gate}=off"
                ));
                out.push(Finding {
                    machines,
                    ..device_finding(
                        device,
                        FindingKind::SubsectionAdded,
                        Some(sub.name.clone()),
                        Direction::NewToOld,
                        format!(
                            "{device}: subsection '{}'{place}, new in release {}, is sent \
                             whenever {needed} is true while {gate} is on, and {gate} is on for \
                             machine types of release {}, which refuses the subsection",
                            sub.name, now.release, earlier.release
                        ),
                        fixes,
                    )
                });
            }
            // An arbitrary condition: it breaks whenever it holds.
            None => out.push(device_finding(
                device,
                FindingKind::SubsectionAdded,
                Some(sub.name.clone()),
                Direction::NewToOld,
                format!(
                    "{device}: subsection '{}'{place} is new in release {}: migrating back to \
                     release {} breaks whenever {needed} is true",
                    sub.name, now.release, earlier.release
                ),
                vec![format!(
                    "gate '{}' with a bool property (#[vmstate(subsection, needed = ..., gate = \
                     \"...\")]) and turn it off for the machine types of release {} in their \
                     compat set",
                    sub.name, earlier.release
                )],
            )),
        }
    }
}

/// ` in 'owner'` for a subsection below the VMState's own; nothing for one
/// of its own.
fn in_owner(pair: &SubsectionPair<'_>) -> String {
    match pair.path.is_empty() {
        true => String::new(),
        false => format!(" in '{}'", pair.owner.name),
    }
}

/// The machine types of the locked release on which `device`'s property
/// `gate` is on in the current release — or not known to be off (a device
/// that does not start alone has no resolved values in the lock).
fn gate_on(now: &Lock, earlier: &Lock, device: &str, gate: &str) -> Vec<String> {
    earlier
        .machine_types
        .iter()
        .filter_map(|old| now.machine_types.iter().find(|m| m.name == old.name))
        .filter(|m| {
            let off = m.devices.iter().any(|d| {
                d.type_name == device
                    && d.properties
                        .iter()
                        .any(|p| p.name == gate && p.value == "off")
            });
            !off
        })
        .map(|m| m.name.clone())
        .collect()
}
