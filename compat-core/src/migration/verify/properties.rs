//! Property values and what a fresh device sends and compares, on every
//! machine type both releases know: a changed value with no compat entry
//! restoring it, a new property that changes what a device sends, a state
//! difference no property explains — each with the compat entry to add, in
//! the set of the machine type's own step.

use std::collections::BTreeMap;

use super::{Direction, Finding, FindingKind};
use crate::migration::lock::{unhex, DeviceLock, Lock, MustMatchLock, PropertyLock, Unknown};
use crate::migration::property_diff::{
    destination_property_differs, guest_sees, source_property_differs, PropertyPreflight,
};
use crate::vmstate::first_difference;

/// What differs between the two releases' fresh devices, each with the
/// machine types where it does.
#[derive(Default)]
struct Suspects {
    /// (device, property, old value, new value): a value that changed.
    changed: BTreeMap<(String, String, String, String), Vec<String>>,
    /// (device, property, default): a property the locked release did not
    /// have, at its default, where the device's state differs.
    added: BTreeMap<(String, String, String), Vec<String>>,
    /// (device, property, value): a switch the locked release did not have,
    /// at new behaviour no compat set undid, whatever the state.
    switched: BTreeMap<(String, String, String), Vec<String>>,
    /// (device, what differs): a state difference no property explains.
    unexplained: BTreeMap<(String, String), Vec<String>>,
}

/// Every device type on every machine type both releases know, compared.
fn suspects(now: &Lock, earlier: &Lock) -> Suspects {
    let mut found = Suspects::default();
    let Suspects {
        changed,
        added,
        switched,
        unexplained,
    } = &mut found;
    for old in &earlier.machine_types {
        let Some(new) = now.machine_types.iter().find(|m| m.name == old.name) else {
            continue;
        };
        for od in &old.devices {
            let Some(nd) = new.devices.iter().find(|d| d.type_name == od.type_name) else {
                continue;
            };
            // A device that did not start on one side has no values to
            // compare (a PCI device on a machine type without PCI).
            if od.error.is_some() || nd.error.is_some() {
                continue;
            }
            // Each side's value with what the current release declares of
            // the property, compared by the pre-flight's rule: a host
            // setting, a switch without effect on the type and values
            // declared alike are no change.
            let declared = |p: &PropertyLock| {
                PropertyPreflight::locked(
                    now,
                    &nd.type_name,
                    &p.name,
                    p.value.clone(),
                    p.set_by.clone(),
                )
            };
            let mut explained = false;
            for op in &od.properties {
                let Some(np) = nd.properties.iter().find(|p| p.name == op.name) else {
                    continue;
                };
                if source_property_differs(&declared(op), Some(&declared(np))) {
                    explained = true;
                    changed
                        .entry((
                            od.type_name.clone(),
                            op.name.clone(),
                            op.value.clone(),
                            np.value.clone(),
                        ))
                        .or_default()
                        .push(old.name.clone());
                }
            }
            // A switch new in this release, at new behaviour, by the
            // pre-flight's rule; one that gates a subsection is the
            // subsection's finding (what it sends is compared there). A
            // lock without declarations (a QEMU binary's) cannot tell the
            // old behaviour: a new property keeps it at its default, as
            // QEMU's rule is, and a compat set says where it does not.
            let gates = gates_of(now, &nd.type_name);
            let declares = now.knows(Unknown::Declarations);
            for p in nd
                .properties
                .iter()
                .filter(|_| declares)
                .filter(|p| !od.properties.iter().any(|o| o.name == p.name))
                .filter(|p| !gates.contains(&p.name.as_str()))
                .filter(|p| guest_sees(None, Some(&declared(p))))
            {
                explained = true;
                switched
                    .entry((od.type_name.clone(), p.name.clone(), p.value.clone()))
                    .or_default()
                    .push(old.name.clone());
            }
            // A lock that does not know what fresh devices send (one read
            // from a QEMU binary) has nothing to compare it with.
            if !earlier.knows(Unknown::FreshState) {
                continue;
            }
            let Some(difference) = state_difference(od, nd) else {
                continue;
            };
            if explained {
                continue;
            }
            // New properties are the suspects, by the pre-flight's rule for a
            // property only the destination has: not a host setting, nor
            // one a compat set gave or holding the value its type says a
            // release without it behaved as (`absent`).
            let suspects: Vec<_> = nd
                .properties
                .iter()
                .filter(|p| !od.properties.iter().any(|o| o.name == p.name))
                .filter(|p| destination_property_differs(&declared(p)))
                .collect();
            if suspects.is_empty() {
                unexplained
                    .entry((od.type_name.clone(), difference))
                    .or_default()
                    .push(old.name.clone());
            }
            for p in suspects {
                added
                    .entry((od.type_name.clone(), p.name.clone(), p.value.clone()))
                    .or_default()
                    .push(old.name.clone());
            }
        }
    }
    found
}

/// Property values and what a fresh device sends and compares, for every
/// device type on every machine type both releases know.
pub(super) fn properties(now: &Lock, earlier: &Lock, out: &mut Vec<Finding>) {
    let Suspects {
        changed,
        added,
        switched,
        unexplained,
    } = suspects(now, earlier);
    for ((device, property, old_value, new_value), machines) in changed {
        out.push(property_finding(
            now,
            earlier,
            PropertyBreak {
                device: &device,
                property: &property,
                restore: &old_value,
                new_value: &new_value,
                message: format!(
                    "{device}.{property} is {old_value} in release {} and {new_value} in release \
                     {} on the same machine types, with no compat entry restoring it{}",
                    earlier.release,
                    now.release,
                    kind_changed(earlier, now, &device, &property)
                ),
            },
            machines,
        ));
    }
    // New properties: those that change what a fresh device sends or
    // compares, and switches at new behaviour whatever the state.
    let new_ones = added
        .into_iter()
        .map(|found| (found, false))
        .chain(switched.into_iter().map(|found| (found, true)));
    for (((device, property, value), machines), switch) in new_ones {
        // The behaviour before a boolean existed is its opposite; for other
        // kinds the value is the author's to choose.
        let restore = crate::property::opposite_switch(&value)
            .unwrap_or("<the value that behaves as before>");
        let (release, locked) = (&now.release, &earlier.release);
        let message = match switch {
            false => format!(
                "{device}: property {property}, new in release {release} with default {value}, \
                 changes what a fresh device sends or compares on machine types of release \
                 {locked}, and no compat entry restores the old behaviour"
            ),
            true => format!(
                "{device}: switch {property}, new in release {release} and {value} on machine \
                 types of release {locked}, gives the guest behaviour release {locked} never \
                 had, and no compat entry restores the old behaviour"
            ),
        };
        let found = PropertyBreak {
            device: &device,
            property: &property,
            restore,
            new_value: &value,
            message,
        };
        out.push(property_finding(now, earlier, found, machines));
    }
    for ((device, difference), machines) in unexplained {
        // A changed layout, version or set of subsections already explains
        // why a fresh device sends other bytes: one finding, the one with
        // the fix and the right direction.
        let layout_explains = out.iter().any(|f| {
            f.device.as_deref() == Some(device.as_str())
                && matches!(
                    f.kind,
                    FindingKind::LayoutChanged
                        | FindingKind::VersionChanged
                        | FindingKind::SubsectionAdded
                        | FindingKind::SubsectionRemoved
                )
        });
        if layout_explains && difference.starts_with("what a fresh device sends") {
            continue;
        }
        out.push(Finding {
            kind: FindingKind::MustMatchChanged,
            device: Some(device.clone()),
            item: None,
            machines,
            direction: Direction::Both,
            message: format!(
                "{device}: {difference} between release {} and release {}, and no property \
                 explains it",
                earlier.release, now.release
            ),
            fixes: vec![
                "derive the state from a property and keep the old value for old machine types \
                 in their compat set"
                    .to_owned(),
            ],
        });
    }
}

/// Where property `property` of `device` is of another kind in each lock,
/// words saying so: the two values are texts of two kinds (QEMU's `rombar`
/// went from `uint32` 1 to `int32` -1, both a ROM BAR), which only what the
/// values mean can compare.
fn kind_changed(earlier: &Lock, now: &Lock, device: &str, property: &str) -> String {
    let kind = |lock: &Lock| {
        lock.find_property(device, property)
            .map(|(_, def)| def.kind.clone())
    };
    match (kind(earlier), kind(now)) {
        (Some(old), Some(new)) if old != new => format!(
            " (its kind changed from {old} to {new}: if the two values mean the same, declare \
             them alike)"
        ),
        _ => String::new(),
    }
}

/// The properties that gate a subsection of device type `device` in the
/// lock.
fn gates_of<'a>(lock: &'a Lock, device: &str) -> Vec<&'a str> {
    lock.device_types
        .iter()
        .filter(|t| t.name == device)
        .filter_map(|t| t.vmstate.as_ref())
        .flat_map(|r| &r.subsections)
        .filter_map(|s| s.gate.as_deref())
        .collect()
}

/// How a fresh device's state differs between the two releases, in words:
/// what it sends, then what it compares.
fn state_difference(old: &DeviceLock, new: &DeviceLock) -> Option<String> {
    let alike = match (&old.sends, &new.sends) {
        (Some(a), Some(b)) => a.reads_alike(b),
        (a, b) => a == b,
    };
    if !alike {
        return Some("what a fresh device sends differs".to_owned());
    }
    for om in &old.must_match {
        let Some(nm) = new.must_match.iter().find(|m| m.path == om.path) else {
            continue;
        };
        // As a load compares: the incoming bytes with the destination's own,
        // under the destination's mask, each way.
        let loads_fail =
            |from: &MustMatchLock, to: &MustMatchLock| match (unhex(&from.bytes), unhex(&to.bytes))
            {
                (Some(incoming), Some(ours)) => {
                    let mask = to.mask.as_deref().and_then(unhex);
                    first_difference(&incoming, &ours, mask.as_deref()).is_some()
                }
                _ => from.bytes != to.bytes,
            };
        if loads_fail(om, nm) || loads_fail(nm, om) {
            return Some(format!(
                "must-match field '{}' of a fresh device differs",
                om.path
            ));
        }
    }
    None
}

/// A property whose value breaks migration on some machine types.
struct PropertyBreak<'a> {
    device: &'a str,
    property: &'a str,
    /// The value that behaves as the locked release did.
    restore: &'a str,
    new_value: &'a str,
    message: String,
}

fn property_finding(
    now: &Lock,
    earlier: &Lock,
    b: PropertyBreak<'_>,
    machines: Vec<String>,
) -> Finding {
    // The entry names the type that declares the property, as QEMU's do.
    let owner = now
        .find_property(b.device, b.property)
        .map_or(b.device, |(owner, _)| owner.name.as_str());
    let (property, restore) = (b.property, b.restore);
    let mut fixes: Vec<String> = Vec::new();
    for set in sets_for(&machines, earlier, now) {
        let fix = format!(
            "add {{{owner}, {property}, {restore}}} to {set} in release {}",
            now.release
        );
        if !fixes.contains(&fix) {
            fixes.push(fix);
        }
    }
    fixes.push(format!(
        "for releases already shipped: start the destination with -global \
         {owner}.{property}={restore} (from release {}), or -global {owner}.{property}={} \
         (back from release {}) where the property exists",
        earlier.release, b.new_value, now.release
    ));
    Finding {
        kind: FindingKind::PropertyChanged,
        device: Some(b.device.to_owned()),
        item: Some(property.to_owned()),
        machines,
        direction: Direction::Both,
        message: b.message,
        fixes,
    }
}

/// The compat sets an entry restoring the locked release's behaviour on
/// `machines` goes into: for each family, the sets this release's step of
/// the locked release's newest machine type of that family applies (QEMU's
/// `hw_compat_X_Y` for release X.Y). A machine type defined on another
/// family's options (`xenfv-4.2`) whose own step has none gets the sets of
/// those steps that its chain applies; failing all, a new set in the step.
pub(super) fn sets_for(machines: &[String], earlier: &Lock, now: &Lock) -> Vec<String> {
    let newest_of = |family: &str| {
        earlier
            .machine_types
            .iter()
            .filter(|m| m.family == family && m.version.is_some())
            .max_by_key(|m| m.parsed_version())
    };
    let own_sets = |name: &str| {
        now.machine(name)
            .map(|m| m.own_compat_sets.clone())
            .unwrap_or_default()
    };
    // The sets of every family's newest locked machine type.
    let release_sets: Vec<String> = earlier
        .machine_types
        .iter()
        .filter_map(|m| newest_of(&m.family))
        .flat_map(|m| own_sets(&m.name))
        .collect();
    let mut out: Vec<String> = Vec::new();
    for name in machines {
        let Some(old) = earlier.machine(name) else {
            continue;
        };
        let newest = newest_of(&old.family).map_or(old.name.as_str(), |m| m.name.as_str());
        let mut sets = own_sets(newest);
        if sets.is_empty() {
            let chain: Vec<&str> = now
                .machine(name)
                .map(|m| m.compat.iter().map(|g| g.set.as_str()).collect())
                .unwrap_or_default();
            sets = release_sets
                .iter()
                .filter(|s| chain.contains(&s.as_str()))
                .cloned()
                .collect();
        }
        if sets.is_empty() {
            sets.push(format!(
                "a new compat set in the step of machine type {newest}"
            ));
        }
        if let Some(first) = sets.into_iter().next() {
            if !out.contains(&first) {
                out.push(first);
            }
        }
    }
    out
}
