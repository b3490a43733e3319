//! Verify a release against the locks of releases already shipped: every
//! way a guest started on an old release would fail to move to this one
//! (old → new) or back (new → old), each with the fix — the compat-set
//! entry to add, in the set the old release's newest machine type of that
//! family applies here; the version or subsection to declare; and, for
//! releases already shipped, the `-global` that lets a destination accept.

use std::collections::BTreeMap;
use std::fmt;

use super::lock::{unhex, Lock, MachineLock, MustMatchLock};
use crate::release::Release;
use crate::vmstate::{
    first_difference, reading, FieldKindName, FieldRecord, FieldShape, Reading, StateRecord,
};

/// Which way a migration breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Direction {
    /// From the locked release to this one.
    OldToNew,
    /// From this release back to the locked one.
    NewToOld,
    /// Both ways.
    Both,
    /// Within the release itself: it cannot load what it saves.
    Within,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::OldToNew => "old -> new",
            Direction::NewToOld => "new -> old",
            Direction::Both => "both ways",
            Direction::Within => "within the release",
        })
    }
}

/// What kind of break a finding is; named in JSON as its variant
/// (`PropertyChanged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum FindingKind {
    /// A machine type (or alias) the locked release had is gone.
    MachineRemoved,
    /// A machine type name means other class flags than it did.
    MachineChanged,
    /// A device type the locked release had is gone.
    DeviceRemoved,
    /// A property's value on an old machine type changed, with no compat
    /// entry restoring it.
    PropertyChanged,
    /// A must-match value of a fresh device changed.
    MustMatchChanged,
    /// The VMState's versions no longer overlap what the other side writes.
    VersionChanged,
    /// A field was added, removed or changed shape at a version the locked
    /// release writes.
    LayoutChanged,
    /// A subsection was added: when it is needed, the locked release cannot
    /// load the stream.
    SubsectionAdded,
    /// A subsection was removed: when an old release sends it, this one
    /// cannot load the stream.
    SubsectionRemoved,
    /// A list's, map's or variable array's maximum differs: a stream longer
    /// than the receiving side accepts fails.
    BoundChanged,
    /// A configuration the release accepts saves a stream the release itself
    /// cannot load: a variable array longer than its declared maximum.
    OwnStreamUnloadable,
    /// A property that was sticky is not any more: a running guest that
    /// carries a value adopted from an incoming migration cannot come to
    /// this release.
    StickyDropped,
}

/// One way a migration between the locked release and this one breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// What kind of break.
    pub kind: FindingKind,
    /// The device type, if the break is in one.
    pub device: Option<String>,
    /// The property or field, if the break is in one.
    pub item: Option<String>,
    /// The machine types affected.
    pub machines: Vec<String>,
    /// Which way it breaks.
    pub direction: Direction,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fixes: Vec<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.direction)?;
        if !self.machines.is_empty() {
            write!(f, " on {}", self.machines.join(", "))?;
        }
        for fix in &self.fixes {
            write!(f, "\n  fix: {fix}")?;
        }
        Ok(())
    }
}

/// Every way `current` breaks migration with the release `earlier` locked.
pub fn verify(current: &Release, earlier: &Lock) -> Vec<Finding> {
    verify_with(current, &Lock::of(current), earlier)
}

/// [`verify`], with `now`, the lock of `current`, made once for several
/// earlier locks (making one starts every device on every machine type).
pub fn verify_with(current: &Release, now: &Lock, earlier: &Lock) -> Vec<Finding> {
    let mut out = Vec::new();
    machines(current, now, earlier, &mut out);
    device_types(now, earlier, &mut out);
    properties(current, now, earlier, &mut out);
    out
}

/// Configurations `current` accepts whose stream it cannot load itself. For
/// every device type with a variable array bounded by `max` among its
/// top-level fields (nested structs and subsections are not probed), the device is
/// added to the newest machine type of each family with, in turn, each of
/// its integer properties at `max + 1`, and with `-smp max+1`; a
/// configuration the release refuses is fine (refusing is the fix), one it
/// starts is checked against itself. Probing at `max + 1` keeps what a probe
/// allocates as small as the bound the author declared.
pub fn own_streams(current: &Release) -> Vec<Finding> {
    use crate::property::PropertyKind;
    use crate::resolve::MachineConfig;

    let mut newest: BTreeMap<&str, &crate::machine::MachineType> = BTreeMap::new();
    for m in current.machines() {
        let slot = newest.entry(m.family.as_str()).or_insert(m);
        if m.version > slot.version {
            *slot = m;
        }
    }
    let mut out = Vec::new();
    for ty in current.registry().types() {
        let Some(vmsd) = ty.vmstate else { continue };
        if ty.is_abstract || ty.instantiate.is_none() {
            continue;
        }
        for field in vmsd.fields {
            // A variable array, of scalars or structs: its length another
            // field holds, which the configuration may set.
            let (Some(max), Some(_)) = (field.kind.bound(), field.kind.len_field()) else {
                continue;
            };
            let probe = max as u64 + 1;
            // An integer property whose range holds the probe.
            let fits = |kind: &PropertyKind| {
                kind.int_kind()
                    .is_some_and(|k| i128::from(probe) <= k.range().1)
            };
            // What to set, and the configuration with only the probe device.
            let mut settings: Vec<(String, String, u16)> = ty
                .ancestors()
                .flat_map(|t| t.properties.iter())
                .filter(|p| fits(&p.kind))
                .map(|p| (p.name.to_owned(), format!(",{}={probe}", p.name), 1))
                .collect();
            if let Ok(smp) = u16::try_from(probe) {
                settings.push(("-smp".to_owned(), String::new(), smp));
            }
            for (what, option, smp) in settings {
                let mut machines = Vec::new();
                let mut cause = None;
                for m in newest.values() {
                    let Ok(device) = crate::property::cmdline::parse_device(&format!(
                        "{},id=probe{option}",
                        ty.name
                    )) else {
                        continue;
                    };
                    let config = MachineConfig {
                        machine: m.name.clone(),
                        smp,
                        devices: vec![device],
                        ..MachineConfig::default()
                    };
                    if current.instantiate_config(&config).is_err() {
                        continue;
                    }
                    let p = super::check::check(current, &config, current, &config, None);
                    if !p.works && p.device.as_deref() == Some("probe") {
                        machines.push(m.name.clone());
                        cause.get_or_insert(p.cause.unwrap_or_default());
                    }
                }
                let Some(cause) = cause else { continue };
                let setting = if what == "-smp" {
                    format!("-smp {probe}")
                } else {
                    format!("{what}={probe}")
                };
                let refuse = if what == "-smp" {
                    format!(
                        "make {} realize at most {max} elements of '{}' whatever the vCPU count \
                         (cap a per-vCPU default at {max})",
                        ty.name, field.name
                    )
                } else {
                    format!(
                        "refuse {what} above {max} when realizing {} (as QEMU's virtio-blk refuses \
                         num-queues above its queue maximum)",
                        ty.name
                    )
                };
                out.push(Finding {
                    kind: FindingKind::OwnStreamUnloadable,
                    device: Some(ty.name.to_owned()),
                    item: Some(what),
                    machines,
                    direction: Direction::Within,
                    message: format!(
                        "{}: release {} accepts {setting} but cannot load the stream it then \
                         saves: {cause}",
                        ty.name,
                        current.name()
                    ),
                    fixes: vec![
                        refuse,
                        format!(
                            "or raise the max of field '{}' in this release and every release \
                             that must load its streams",
                            field.name
                        ),
                    ],
                });
            }
        }
    }
    out
}

/// Machine types and aliases: still there, and meaning what they meant.
fn machines(current: &Release, now: &Lock, earlier: &Lock, out: &mut Vec<Finding>) {
    for old in &earlier.machine_types {
        for name in std::iter::once(&old.name).chain(old.alias.as_ref()) {
            let Some(new) = now.machine(name) else {
                out.push(Finding {
                    kind: FindingKind::MachineRemoved,
                    device: None,
                    item: None,
                    machines: vec![name.clone()],
                    direction: Direction::OldToNew,
                    message: format!(
                        "machine type '{name}' of release {} is gone from release {}",
                        earlier.release,
                        current.name()
                    ),
                    fixes: vec![format!(
                        "keep machine type '{name}' in release {}: guests started with it \
                         cannot move here",
                        current.name()
                    )],
                });
                continue;
            };
            // Flags the locked release did not know are new, set to keep old
            // behaviour (what devices then send is compared on its own).
            let known: std::collections::BTreeSet<&String> = earlier
                .machine_types
                .iter()
                .flat_map(|m| m.flags.keys())
                .collect();
            let flag = |m: &MachineLock, k: &str| m.flags.get(k).copied().unwrap_or(false);
            let same_flags = |m: &MachineLock| known.iter().all(|k| flag(m, k) == flag(old, k));
            if same_flags(new) && new.stream == old.stream {
                continue;
            }
            // Which machine type of this release has what the name had.
            let same: Vec<&str> = now
                .machine_types
                .iter()
                .filter(|m| same_flags(m) && m.stream == old.stream)
                .filter(|m| m.family == old.family || m.family == new.family)
                .map(|m| m.name.as_str())
                .collect();
            let mut fixes = Vec::new();
            if !same.is_empty() {
                fixes.push(format!(
                    "guests started on release {} with -M {name} use -M {} on release {}",
                    earlier.release,
                    same.join(" or "),
                    current.name()
                ));
            }
            out.push(Finding {
                kind: FindingKind::MachineChanged,
                device: None,
                item: None,
                machines: vec![name.clone()],
                direction: Direction::Both,
                message: format!(
                    "machine type '{name}' changed meaning: in release {} it was {} with flags \
                     {}, in release {} it is {} with flags {}",
                    earlier.release,
                    old.name,
                    flags(old),
                    current.name(),
                    new.name,
                    flags(new)
                ),
                fixes,
            });
        }
    }
}

fn flags(m: &MachineLock) -> String {
    let set: Vec<String> = m
        .flags
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .chain(std::iter::once(format!("stream={}", m.stream)))
        .collect();
    set.join(", ")
}

/// Device types: still there, with VMState both sides can load.
fn device_types(now: &Lock, earlier: &Lock, out: &mut Vec<Finding>) {
    for old in &earlier.device_types {
        let Some(new) = now.device_types.iter().find(|t| t.name == old.name) else {
            out.push(Finding {
                kind: FindingKind::DeviceRemoved,
                device: Some(old.name.clone()),
                item: None,
                machines: Vec::new(),
                direction: Direction::OldToNew,
                message: format!(
                    "device type '{}' of release {} is gone from release {}",
                    old.name, earlier.release, now.release
                ),
                fixes: vec![format!(
                    "keep device type '{}' (a rename needs the old name kept as well)",
                    old.name
                )],
            });
            continue;
        };
        for p in old.properties.iter().filter(|p| p.sticky) {
            if new.properties.iter().any(|q| q.name == p.name && !q.sticky) {
                out.push(Finding {
                    kind: FindingKind::StickyDropped,
                    device: Some(old.name.clone()),
                    item: Some(p.name.clone()),
                    machines: Vec::new(),
                    direction: Direction::OldToNew,
                    message: format!(
                        "property '{}' of '{}' is sticky in release {} and not in release {}: a \
                         guest that carries a value adopted from an incoming migration cannot \
                         migrate to release {}",
                        p.name, old.name, earlier.release, now.release, now.release
                    ),
                    fixes: vec![format!(
                        "declare '{}' of '{}' #[property(..., sticky)] again",
                        p.name, old.name
                    )],
                });
            }
        }
        if let (Some(o), Some(n)) = (&old.vmstate, &new.vmstate) {
            vmstate(&old.name, o, n, earlier, now, out);
        }
    }
}

/// What the two sides write and read of one VMState.
fn vmstate(
    device: &str,
    old: &StateRecord,
    new: &StateRecord,
    earlier: &Lock,
    now: &Lock,
    out: &mut Vec<Finding>,
) {
    let finding =
        |kind, item: Option<String>, direction, message: String, fixes: Vec<String>| Finding {
            kind,
            device: Some(device.to_owned()),
            item,
            machines: Vec::new(),
            direction,
            message,
            fixes,
        };
    if new.minimum_version > old.version {
        out.push(finding(
            FindingKind::VersionChanged,
            None,
            Direction::OldToNew,
            format!(
                "{device}: VMState '{}' loads versions {} to {} in release {}, but release {} \
                 writes version {}",
                new.name,
                new.minimum_version,
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
    if new.version > old.version {
        out.push(finding(
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
    // What the new release reads of a stream at the old version: its fields
    // added at that version or before (or decided by an `exists` test).
    // Fields an `exists` test decides depend on the value: what fresh
    // devices send on each machine type covers them.
    let reads: Vec<&FieldRecord> = new
        .fields
        .iter()
        .filter(|f| !f.exists && f.since <= old.version)
        .collect();
    let writes: Vec<&FieldRecord> = old.fields.iter().filter(|f| !f.exists).collect();
    for i in 0..writes.len().max(reads.len()) {
        let message = match (writes.get(i).copied(), reads.get(i).copied()) {
            (Some(a), Some(b)) => match field_reading(a, b, &writes, &reads) {
                Reading::Alike | Reading::Renamed => continue,
                Reading::Misread => format!(
                    "{device}: field '{}' ({}) of release {} is read as '{}' in release {}, a \
                     field release {} writes elsewhere: the load completes with the state in \
                     the wrong field",
                    a.name,
                    shape(a),
                    earlier.release,
                    b.name,
                    now.release,
                    earlier.release
                ),
                Reading::Differs => format!(
                    "{device}: field '{}' ({}) of release {} is read as '{}' ({}) in release {}",
                    a.name,
                    shape(a),
                    earlier.release,
                    b.name,
                    shape(b),
                    now.release
                ),
            },
            (Some(a), None) => format!(
                "{device}: field '{}' ({}) of release {} is gone in release {}",
                a.name,
                shape(a),
                earlier.release,
                now.release
            ),
            (None, Some(b)) if b.since == 0 => format!(
                "{device}: field '{}' ({}) is new in release {} with no `since`, so release {} \
                 reads it from a stream release {} writes without it",
                b.name,
                shape(b),
                now.release,
                now.release,
                earlier.release
            ),
            (None, Some(b)) => format!(
                "{device}: field '{}' ({}) is new in release {} at version {}, which release {} \
                 writes without it",
                b.name,
                shape(b),
                now.release,
                b.since,
                earlier.release
            ),
            (None, None) => continue,
        };
        let item = reads.get(i).or(writes.get(i)).map(|f| f.name.clone());
        let misread = match (writes.get(i), reads.get(i)) {
            (Some(a), Some(b)) => field_reading(a, b, &writes, &reads) == Reading::Misread,
            _ => false,
        };
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
        out.push(finding(
            FindingKind::LayoutChanged,
            item,
            Direction::Both,
            message,
            vec![fix],
        ));
        break;
    }
    // Bounds: a side that sends longer than the other accepts breaks once
    // the guest (a list, a map) or the configuration (a variable array)
    // makes it that long.
    for n in &new.fields {
        let Some(o) = old
            .fields
            .iter()
            .find(|o| o.name == n.name && o.kind == n.kind)
        else {
            continue;
        };
        let (Some(old_max), Some(new_max)) = (o.max, n.max) else {
            continue;
        };
        if old_max == new_max {
            continue;
        }
        let (direction, longer, shorter, bound) = if new_max > old_max {
            (Direction::NewToOld, &now.release, &earlier.release, old_max)
        } else {
            (Direction::OldToNew, &earlier.release, &now.release, new_max)
        };
        out.push(finding(
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
    for gone in old
        .subsections
        .iter()
        .filter(|o| !new.subsections.iter().any(|n| n.name == o.name))
    {
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
            ..finding(
                FindingKind::SubsectionRemoved,
                Some(gone.name.clone()),
                Direction::OldToNew,
                format!(
                    "{device}: subsection '{}' of release {} is gone in release {}: migrating \
                     from release {} breaks whenever {needed} is true there",
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
    for sub in &new.subsections {
        if let Some(o) = old.subsections.iter().find(|s| s.name == sub.name) {
            vmstate(device, o, sub, earlier, now, out);
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
                    ..finding(
                        FindingKind::SubsectionAdded,
                        Some(sub.name.clone()),
                        Direction::NewToOld,
                        format!(
                            "{device}: subsection '{}', new in release {}, is sent whenever \
                             {needed} is true while {gate} is on, and {gate} is on for machine \
                             types of release {}, which refuses the subsection",
                            sub.name, now.release, earlier.release
                        ),
                        fixes,
                    )
                });
            }
            // An arbitrary condition: it breaks whenever it holds.
            None => out.push(finding(
                FindingKind::SubsectionAdded,
                Some(sub.name.clone()),
                Direction::NewToOld,
                format!(
                    "{device}: subsection '{}' is new in release {}: migrating back to release {} \
                     breaks whenever {needed} is true",
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

/// How release `b`'s field reads what field `a` wrote in the same place,
/// by the one rule ([`reading()`]); `writes` and `reads` are the two sides'
/// fields. Fields of other kinds with the same wire type (an array and a
/// variable array of `uint16`) differ, but for skipped bytes.
fn field_reading(
    a: &FieldRecord,
    b: &FieldRecord,
    writes: &[&FieldRecord],
    reads: &[&FieldRecord],
) -> Reading {
    let source_has = |n: &str| writes.iter().any(|f| f.name == n);
    let destination_has = |n: &str| reads.iter().any(|f| f.name == n);
    let r = reading(lock_shape(a), lock_shape(b), source_has, destination_has);
    let skipped = a.kind == FieldKindName::Unused || b.kind == FieldKindName::Unused;
    match r {
        Reading::Alike | Reading::Renamed | Reading::Misread if a.kind != b.kind && !skipped => {
            Reading::Differs
        }
        other => other,
    }
}

/// What the rule of how a destination reads a field needs of a lock's.
fn lock_shape(f: &FieldRecord) -> FieldShape<'_> {
    FieldShape {
        name: &f.name,
        info: f.wire.as_deref().unwrap_or(f.kind.as_str()),
        size: f.size,
        count: f.count,
        unused: f.is_unused(),
        nested: f.nested.is_some(),
    }
}

fn shape(f: &FieldRecord) -> String {
    let wire = f.wire.as_deref().unwrap_or(f.kind.as_str());
    match f.count {
        Some(n) => format!("{n} x {wire}, {} bytes each", f.size),
        None => format!("{wire}, {} bytes", f.size),
    }
}

/// Property values and what a fresh device sends and compares, for every
/// device type on every machine type both releases know.
fn properties(current: &Release, now: &Lock, earlier: &Lock, out: &mut Vec<Finding>) {
    // (device, property, old value, new value) → machine types: a value
    // that changed.
    let mut changed: BTreeMap<(String, String, String, String), Vec<String>> = BTreeMap::new();
    // (device, property, default) → machine types: a property the locked
    // release did not have, at its default, where the device's state
    // differs.
    let mut added: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    // (device, what differs) → machine types: a state difference no
    // property explains.
    let mut unexplained: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for old in &earlier.machine_types {
        let Some(new) = now.machine_types.iter().find(|m| m.name == old.name) else {
            continue;
        };
        for od in &old.devices {
            let Some(nd) = new.devices.iter().find(|d| d.type_name == od.type_name) else {
                continue;
            };
            // The current release's declaration of a property, and whether
            // it has no effect on this type.
            let ty = current.registry().get(&nd.type_name);
            let def = |name: &str| ty.and_then(|t| t.find_property(name)).map(|(_, def)| def);
            let inert = |name: &str| ty.is_some_and(|t| t.is_inert(name));
            let mut explained = false;
            for op in &od.properties {
                let Some(np) = nd.properties.iter().find(|p| p.name == op.name) else {
                    continue;
                };
                // Values the type declares alike, or of a property without
                // effect on it, are no change.
                let alike = def(&op.name).is_some_and(|d| d.behave_alike(&op.value, &np.value))
                    || inert(&op.name);
                if np.value != op.value && !alike {
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
            let Some(difference) = state_difference(od, nd) else {
                continue;
            };
            if explained {
                continue;
            }
            // New properties at their class default are the suspects, but
            // for a host setting (`local`) and one holding the value its
            // type says a release without it behaved as (`absent`).
            let suspects: Vec<_> = nd
                .properties
                .iter()
                .filter(|p| p.set_by.is_none())
                .filter(|p| !od.properties.iter().any(|o| o.name == p.name))
                .filter(|p| {
                    !inert(&p.name)
                        && def(&p.name)
                            .is_none_or(|d| !d.local && d.absent_text().as_ref() != Some(&p.value))
                })
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
    for ((device, property, old_value, new_value), machines) in changed {
        out.push(property_finding(
            current,
            now,
            earlier,
            PropertyBreak {
                device: &device,
                property: &property,
                restore: &old_value,
                new_value: &new_value,
                message: format!(
                    "{device}.{property} is {old_value} in release {} and {new_value} in release \
                     {} on the same machine types, with no compat entry restoring it",
                    earlier.release,
                    current.name()
                ),
            },
            machines,
        ));
    }
    for ((device, property, default), machines) in added {
        // The behaviour before a boolean existed is its opposite; for other
        // kinds the value is the author's to choose.
        let restore = crate::property::opposite_switch(&default)
            .unwrap_or("<the value that behaves as before>");
        out.push(property_finding(
            current,
            now,
            earlier,
            PropertyBreak {
                device: &device,
                property: &property,
                restore,
                new_value: &default,
                message: format!(
                    "{device}: property {property}, new in release {} with default {default}, \
                     changes what a fresh device sends or compares on machine types of release \
                     {}, and no compat entry restores the old behaviour",
                    current.name(),
                    earlier.release
                ),
            },
            machines,
        ));
    }
    for ((device, difference), machines) in unexplained {
        // A changed layout already explains why a fresh device sends other
        // bytes: one finding, the one with the fix.
        let layout_explains = out.iter().any(|f| {
            f.device.as_deref() == Some(device.as_str())
                && matches!(
                    f.kind,
                    FindingKind::LayoutChanged | FindingKind::VersionChanged
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
                earlier.release,
                current.name()
            ),
            fixes: vec![
                "derive the state from a property and keep the old value for old machine types \
                 in their compat set"
                    .to_owned(),
            ],
        });
    }
}

/// How a fresh device's state differs between the two releases, in words:
/// what it sends, then what it compares.
fn state_difference(
    old: &super::lock::DeviceLock,
    new: &super::lock::DeviceLock,
) -> Option<String> {
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
    current: &Release,
    now: &Lock,
    earlier: &Lock,
    b: PropertyBreak<'_>,
    machines: Vec<String>,
) -> Finding {
    // The entry names the type that declares the property, as QEMU's do.
    let owner = current
        .registry()
        .get(b.device)
        .and_then(|t| t.find_property(b.property))
        .map_or(b.device, |(owner, _)| owner.name);
    let (property, restore) = (b.property, b.restore);
    let mut fixes: Vec<String> = Vec::new();
    for set in sets_for(&machines, earlier, now) {
        let fix = format!(
            "add {{{owner}, {property}, {restore}}} to {set} in release {}",
            current.name()
        );
        if !fixes.contains(&fix) {
            fixes.push(fix);
        }
    }
    fixes.push(format!(
        "for releases already shipped: start the destination with -global \
         {owner}.{property}={restore} (from release {}), or -global {owner}.{property}={} \
         (back from release {}) where the property exists",
        earlier.release,
        b.new_value,
        current.name()
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
fn sets_for(machines: &[String], earlier: &Lock, now: &Lock) -> Vec<String> {
    let newest_of = |family: &str| {
        earlier
            .machine_types
            .iter()
            .filter(|m| m.family == family && m.version.is_some())
            .max_by(|a, b| version_key(a).cmp(&version_key(b)))
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

fn version_key(m: &MachineLock) -> Vec<u32> {
    m.version
        .as_deref()
        .unwrap_or("")
        .split('.')
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The environment variable that makes [`assert_locks`] write the current
/// release's lock (after a release, on purpose), as trybuild's and insta's
/// overwrite modes do: `COMPAT_LOCK=overwrite`.
pub const LOCK_ENV: &str = "COMPAT_LOCK";

/// For a device crate's own `cargo test`: verify `release` against every
/// lock in `dir` (files named `*.lock.json`) of an earlier release, and
/// keep `dir/<release>.lock.json` as what this release promises.
///
/// The release is also checked against itself ([`own_streams`]).
///
/// Panics with a readable report when a finding is made; when this
/// release's own lock is missing or no longer what the release promises
/// (written then, for review, and the test fails), unless `COMPAT_LOCK=
/// overwrite` says to write it.
pub fn assert_locks(release: &Release, dir: impl AsRef<std::path::Path>) {
    if let Err(report) = check_locks(release, dir.as_ref(), overwrite()) {
        panic!("{report}");
    }
}

fn overwrite() -> bool {
    std::env::var(LOCK_ENV).is_ok_and(|v| v == "overwrite")
}

/// [`assert_locks`] as a value: the report, or `Ok` with nothing to say.
pub fn check_locks(
    release: &Release,
    dir: &std::path::Path,
    overwrite: bool,
) -> Result<(), String> {
    use super::lock::Lock;
    let mut report = String::new();
    let own = dir.join(format!("{}.lock.json", release.name()));
    let live = Lock::of(release);
    let mut entries: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".lock.json"))
        .collect();
    entries.sort();
    for path in entries.iter().filter(|p| **p != own) {
        let text = crate::codec::input::read_text(path, crate::codec::input::JSON_FILE_LIMIT)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let lock = Lock::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let findings = verify_with(release, &live, &lock);
        if !findings.is_empty() {
            let _ = writeln_report(&mut report, release, &lock, path, &findings);
        }
    }
    let unloadable = own_streams(release);
    if !unloadable.is_empty() {
        report.push_str(&format!(
            "release {} cannot load every stream it saves: {} finding(s)\n",
            release.name(),
            unloadable.len()
        ));
        report.push_str(&indented(&unloadable));
    }
    let current = std::fs::read_to_string(&own).ok();
    let text = live.to_json();
    if overwrite || current.is_none() {
        std::fs::write(&own, &text).map_err(|e| format!("{}: {e}", own.display()))?;
        if current.is_none() && !overwrite {
            report.push_str(&format!(
                "wrote {}: the lock of release {} was missing; review and commit it\n",
                own.display(),
                release.name()
            ));
        }
    } else if current.as_deref() != Some(text.as_str()) {
        report.push_str(&format!(
            "{} is no longer what release {} promises; if the change is meant (before the \
             release ships), run the tests with {LOCK_ENV}=overwrite and commit the lock\n",
            own.display(),
            release.name()
        ));
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

fn writeln_report(
    out: &mut String,
    release: &Release,
    lock: &super::lock::Lock,
    path: &std::path::Path,
    findings: &[Finding],
) -> fmt::Result {
    use std::fmt::Write as _;
    writeln!(
        out,
        "release {} against the lock of release {} ({}): {} finding(s)",
        release.name(),
        lock.release,
        path.display(),
        findings.len()
    )?;
    out.push_str(&indented(findings));
    Ok(())
}

/// Findings as a report's body: each finding's lines indented by two
/// spaces.
pub fn indented(findings: &[Finding]) -> String {
    findings
        .iter()
        .flat_map(|f| {
            f.to_string()
                .lines()
                .map(|line| format!("  {line}\n"))
                .collect::<Vec<_>>()
        })
        .collect()
}
