//! One VMState against a lock whose records came from a `-dump-vmstate`
//! (a lock read from a QEMU binary): no kinds, no wire types, tested fields
//! whose test the dump does not show. The release's own record is taken as
//! its dump would say it, and the two are compared as two dumps are
//! ([`compare_records`]), each way.

use super::{Direction, Finding, FindingKind};
use crate::migration::dump::{as_dumped, records_lengths};
use crate::migration::dump_check::{compare_records, DumpVerdict};
use crate::migration::lock::Lock;
use crate::vmstate::StateRecord;

/// What the two sides write and read of one VMState, `old` from a dump.
pub(super) fn vmstate(
    device: &str,
    old: &StateRecord,
    new: &StateRecord,
    earlier: &Lock,
    now: &Lock,
    out: &mut Vec<Finding>,
) {
    let new = as_dumped(new);
    // A lock's records of one binary all record lengths or none does.
    let old_lengths = earlier
        .device_types
        .iter()
        .filter_map(|t| t.vmstate.as_ref())
        .any(records_lengths);
    let ways = [
        (
            old,
            &new,
            (old_lengths, true),
            Direction::OldToNew,
            &earlier.release,
            &now.release,
        ),
        (
            &new,
            old,
            (true, old_lengths),
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
