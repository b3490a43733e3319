//! Verify a release against the locks of releases already shipped: every
//! way a guest started on an old release would fail to move to this one
//! (old → new) or back (new → old), each with the fix — the compat-set
//! entry to add, in the set the old release's newest machine type of that
//! family applies here; the version or subsection to declare; and, for
//! releases already shipped, the `-global` that lets a destination accept.

use std::fmt;

use super::lock::{Lock, MachineLock, Unknown};
use crate::release::Release;

mod dumped;
mod lock_files;
mod own_streams;
mod properties;
mod state;

pub use lock_files::{assert_locks, check_locks, indented, LOCK_ENV};
pub use own_streams::own_streams;
use properties::properties;
use state::vmstate;

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
    verify_locks(&Lock::of(current), earlier)
}

/// [`verify`] of the release whose lock is `now`: the lock says all that
/// verify compares, so a release is verified through its lock (made once
/// for several earlier locks: making one starts every device on every
/// machine type), and a release known only by its lock — one read from a
/// real QEMU binary — is verified alike.
pub fn verify_locks(now: &Lock, earlier: &Lock) -> Vec<Finding> {
    let mut out = Vec::new();
    machines(now, earlier, &mut out);
    device_types(now, earlier, &mut out);
    properties(now, earlier, &mut out);
    out
}

/// Machine types and aliases: still there, and meaning what they meant.
fn machines(now: &Lock, earlier: &Lock, out: &mut Vec<Finding>) {
    // What a name means is its flags and stream format, which a lock read
    // from a QEMU binary does not say: then only whether it is there.
    let meanings = now.knows(Unknown::MachineClass) && earlier.knows(Unknown::MachineClass);
    // Flags the locked release did not know are new, set to keep old
    // behaviour (what devices then send is compared on its own).
    let known: std::collections::BTreeSet<&String> = earlier
        .machine_types
        .iter()
        .flat_map(|m| m.flags.keys())
        .collect();
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
                        earlier.release, now.release
                    ),
                    fixes: vec![format!(
                        "keep machine type '{name}' in release {}: guests started with it \
                         cannot move here",
                        now.release
                    )],
                });
                continue;
            };
            if !meanings {
                continue;
            }
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
                    now.release
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
                    now.release,
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
    // Records of a dump on either side are compared as dumps are.
    let dumped = !earlier.knows(Unknown::WireTypes) || !now.knows(Unknown::WireTypes);
    let lengths = match dumped {
        true => (earlier.records_lengths(), now.records_lengths()),
        false => (true, true),
    };
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
        // Stickiness is a declaration: a lock without them (a QEMU
        // binary's) says nothing of it.
        let declares = now.knows(Unknown::Declarations);
        for p in old.properties.iter().filter(|p| p.sticky && declares) {
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
        match (&old.vmstate, &new.vmstate) {
            (Some(o), Some(n)) if dumped => {
                dumped::vmstate(&old.name, (o, n), (earlier, now), lengths, out);
            }
            (Some(o), Some(n)) => vmstate(&old.name, o, n, earlier, now, out),
            _ => {}
        }
    }
}
