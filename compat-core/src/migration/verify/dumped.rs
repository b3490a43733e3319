//! One VMState where a lock's records came from a `-dump-vmstate` (a lock
//! read from a QEMU binary, on either side): no kinds, no wire types, tested fields
//! whose test the dump does not show. A release's own record is taken as
//! its dump would say it, and the two are compared as two dumps are
//! ([`compare_records`]), each way.

use std::borrow::Cow;

use super::{Direction, Finding, FindingKind};
use crate::migration::dump::as_dumped;
use crate::migration::dump_check::{compare_records, DumpVerdict};
use crate::migration::lock::{Lock, Unknown};
use crate::vmstate::StateRecord;

/// What the two sides write and read of one VMState, one or both from a
/// dump. `lengths`: whether each lock's records say array lengths
/// ([`Lock::records_lengths`], taken once for all device types).
pub(super) fn vmstate(
    device: &str,
    (old, new): (&StateRecord, &StateRecord),
    (earlier, now): (&Lock, &Lock),
    (old_lengths, new_lengths): (bool, bool),
    out: &mut Vec<Finding>,
) {
    // A release's record as its dump would say it; a dump's as it is.
    fn dumped<'r>(record: &'r StateRecord, lock: &Lock) -> Cow<'r, StateRecord> {
        match lock.knows(Unknown::WireTypes) {
            true => Cow::Owned(as_dumped(record)),
            false => Cow::Borrowed(record),
        }
    }
    let (old, new) = (dumped(old, earlier), dumped(new, now));
    let (old, new) = (old.as_ref(), new.as_ref());
    let ways = [
        (
            old,
            new,
            (old_lengths, new_lengths),
            Direction::OldToNew,
            &earlier.release,
            &now.release,
        ),
        (
            new,
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
