//! One VMState where a lock's records came from a `-dump-vmstate` (a lock
//! read from a QEMU binary, on either side): no kinds, no wire types, tested fields
//! whose test the dump does not show. The release's own record is taken as
//! its dump would say it, and the two are compared as two dumps are
//! ([`compare_records`]), each way.

use super::{Direction, Finding, FindingKind};
use crate::migration::dump::{as_dumped, records_lengths};
use crate::migration::dump_check::{compare_records, DumpVerdict};
use crate::migration::lock::{Lock, Unknown};
use crate::vmstate::StateRecord;

/// What the two sides write and read of one VMState, one or both from a
/// dump.
pub(super) fn vmstate(
    device: &str,
    old: &StateRecord,
    new: &StateRecord,
    earlier: &Lock,
    now: &Lock,
    out: &mut Vec<Finding>,
) {
    let new = as_dumped(new);
    // A lock's records of one binary all record lengths or none does; a
    // release's own lock records them.
    let lengths = |lock: &Lock| {
        lock.knows(Unknown::WireTypes)
            || lock
                .device_types
                .iter()
                .filter_map(|t| t.vmstate.as_ref())
                .any(records_lengths)
    };
    let (old_lengths, new_lengths) = (lengths(earlier), lengths(now));
    let ways = [
        (
            old,
            &new,
            (old_lengths, new_lengths),
            Direction::OldToNew,
            &earlier.release,
            &now.release,
        ),
        (
            &new,
            old,
            (new_lengths, old_lengths),
            Direction::NewToOld,
            &now.release,
            &earlier.release,
        ),
    ];
    for (source, destination, lengths, direction, from, to) in ways {
        let (verdict, subsections) = compare_records(source, destination, lengths);
        let fails = verdict.fails();
        let depends = matches!(verdict, DumpVerdict::Depends { .. });
        if fails || depends {
            out.push(finding(
                device,
                direction,
                format!("{device}: from release {from} to release {to}: {verdict}"),
            ));
        }
        for note in subsections {
            out.push(finding(
                device,
                direction,
                format!("{device}: from release {from} to release {to}: {note}"),
            ));
        }
    }
}

fn finding(device: &str, direction: Direction, message: String) -> Finding {
    Finding {
        kind: FindingKind::LayoutChanged,
        device: Some(device.to_owned()),
        item: None,
        machines: Vec::new(),
        direction,
        message,
        fixes: vec![
            "read every field the other release writes, in its place and at its size (QEMU's \
             `mig_` fields keep what older streams carry), and send new state in a subsection"
                .to_owned(),
        ],
    }
}
