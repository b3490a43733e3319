//! Machine types: families, versions, the cumulative compat chain, aliases,
//! defaults, deprecation, bugfix variants and variants that target a broken
//! release (QEMU's `DEFINE_PC_VER_MACHINE` and chained `*_machine_options`).
//!
//! A [`MachineFamily`] lists, per version, what that version's options
//! function adds on top of the next newer one (a [`VersionStep`]). Machine
//! `F-X.Y` therefore holds the family's own defaults, then the steps of every
//! version from the newest down to X.Y: appended newest first, so on a
//! conflict the oldest set — the one closest to X.Y — wins, as in QEMU.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::compat::{CompatSet, GlobalProperty};
use crate::stream::StreamFormat;

/// A machine-type version: `7.2`, or `4.0.1` for a bugfix variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major number.
    pub major: u16,
    /// Minor number.
    pub minor: u16,
    /// Bugfix number, for variants like `pc-q35-4.0.1`; `4.0` < `4.0.1` < `4.1`.
    pub micro: Option<u16>,
}

impl Version {
    /// `major.minor`.
    pub const fn new(major: u16, minor: u16) -> Self {
        Version {
            major,
            minor,
            micro: None,
        }
    }

    /// `major.minor.micro`.
    pub const fn bugfix(major: u16, minor: u16, micro: u16) -> Self {
        Version {
            major,
            minor,
            micro: Some(micro),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if let Some(micro) = self.micro {
            write!(f, ".{micro}")?;
        }
        Ok(())
    }
}

/// A version string that is not `X.Y` or `X.Y.Z`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{}' is not a version: expected MAJOR.MINOR or MAJOR.MINOR.MICRO", crate::text::escape::escaped(.0))]
#[non_exhaustive]
pub struct VersionError(pub String);

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || VersionError(s.to_owned());
        let parts: Vec<&str> = s.split('.').collect();
        let num = |p: &str| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            p.parse::<u16>().map_err(|_| err())
        };
        match parts.as_slice() {
            [major, minor] => Ok(Version::new(num(major)?, num(minor)?)),
            [major, minor, micro] => Ok(Version::bugfix(num(major)?, num(minor)?, num(micro)?)),
            _ => Err(err()),
        }
    }
}

/// What one version's machine options add on top of the next newer
/// version's: compat sets appended (QEMU's `compat_props_add`) and
/// class-level flags set (QEMU's plain field writes in the chain).
#[derive(Debug, Clone, Default)]
pub struct VersionStep {
    /// Compat sets appended, in order (`hw_compat_X_Y`, then `pc_compat_X_Y`).
    pub compat_sets: Vec<&'static CompatSet>,
    /// Flags set by this step.
    pub flags: Vec<(&'static str, bool)>,
    /// Why this version's machine type is deprecated, if it is. Not
    /// inherited by older versions.
    pub deprecation: Option<&'static str>,
    /// The stream format this step switches to, if any; inherited by older
    /// versions like a flag.
    pub stream_format: Option<StreamFormat>,
}

impl VersionStep {
    /// A step appending these compat sets.
    pub fn compat(sets: impl IntoIterator<Item = &'static CompatSet>) -> Self {
        VersionStep {
            compat_sets: sets.into_iter().collect(),
            ..VersionStep::default()
        }
    }

    /// This step, also setting `flag`.
    pub fn flag(mut self, flag: &'static str, value: bool) -> Self {
        self.flags.push((flag, value));
        self
    }

    /// This step, switching to stream format `format` (Xen machine types
    /// write device-state streams).
    pub fn stream_format(mut self, format: StreamFormat) -> Self {
        self.stream_format = Some(format);
        self
    }

    /// This step, marking its machine type deprecated.
    pub fn deprecated(mut self, reason: &'static str) -> Self {
        self.deprecation = Some(reason);
        self
    }
}

/// A versioned machine family (`pc-q35`): every version is a machine type
/// `pc-q35-X.Y`.
#[derive(Debug, Clone)]
pub struct MachineFamily {
    /// The family name, the prefix of its machine types.
    pub name: &'static str,
    /// One line of description.
    pub description: &'static str,
    /// Machine-specific defaults, appended before any version's compat sets
    /// (QEMU's `pc_q35_compat_defaults`).
    pub defaults: Vec<&'static CompatSet>,
    /// Flags every machine of the family starts with.
    pub flags: Vec<(&'static str, bool)>,
    /// The family's versions, each with its step.
    pub versions: BTreeMap<Version, VersionStep>,
    /// Alias of the newest version (`q35`, `pc`).
    pub latest_alias: Option<&'static str>,
    /// Whether the newest version is the release's default machine type.
    pub is_default: bool,
    /// `-device` strings of the devices every machine of the family creates
    /// on board.
    pub onboard: Vec<&'static str>,
    /// The buses its machines provide.
    pub buses: Vec<BusDef>,
}

/// A bus a machine type provides (QEMU's `pcie.0`, `pci.0`): devices of
/// its kind plug into it unless `bus=` names another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusDef {
    /// Its name, as `bus=` takes it.
    pub name: &'static str,
    /// Its kind (`"PCI"`).
    pub kind: &'static str,
    /// The device path its devices' paths extend (`0000:00`: PCI domain 0,
    /// bus 0).
    pub path: &'static str,
    /// Addresses taken by on-board functions the release does not model
    /// (`1f.0`, the LPC bridge of `pc-q35`): no device is placed there.
    pub reserved: Vec<&'static str>,
    /// Whether it is a PCI Express bus (`pcie.0`; `pci.0` is not): a
    /// device sees it when it realizes ([`Board::bus`](crate::Board::bus)),
    /// as a PCI Express function on a root complex's own bus is an
    /// integrated endpoint and elsewhere a plain one.
    pub express: bool,
}

impl BusDef {
    /// A bus `name` of kind `kind` whose devices' paths extend `path`,
    /// every address free.
    pub fn new(name: &'static str, kind: &'static str, path: &'static str) -> Self {
        BusDef {
            name,
            kind,
            path,
            reserved: Vec::new(),
            express: false,
        }
    }

    /// A PCI root bus `name` (`pcie.0`, `pci.0`): domain 0, bus 0.
    pub fn pci_root(name: &'static str) -> Self {
        BusDef::new(name, "PCI", "0000:00")
    }

    /// A PCI Express bus.
    pub fn express(mut self) -> Self {
        self.express = true;
        self
    }

    /// Address `addr` (`SS.F`) is taken by a function not modelled.
    pub fn reserve(mut self, addr: &'static str) -> Self {
        self.reserved.push(addr);
        self
    }
}

impl MachineFamily {
    /// A family with no versions yet.
    pub fn new(name: &'static str, description: &'static str) -> Self {
        MachineFamily {
            name,
            description,
            defaults: Vec::new(),
            flags: Vec::new(),
            versions: BTreeMap::new(),
            latest_alias: None,
            is_default: false,
            onboard: Vec::new(),
            buses: Vec::new(),
        }
    }

    /// Every machine of the family provides bus `bus`.
    pub fn bus(mut self, bus: BusDef) -> Self {
        self.buses.retain(|b| b.name != bus.name);
        self.buses.push(bus);
        self
    }

    /// Add (or replace) version `version` with its step.
    pub fn version(mut self, version: Version, step: VersionStep) -> Self {
        self.versions.insert(version, step);
        self
    }

    /// Set the alias of the newest version.
    pub fn latest_alias(mut self, alias: &'static str) -> Self {
        self.latest_alias = Some(alias);
        self
    }

    /// Make the newest version the release's default machine type.
    pub fn default_machine(mut self) -> Self {
        self.is_default = true;
        self
    }

    /// Add machine-specific defaults.
    pub fn defaults(mut self, set: &'static CompatSet) -> Self {
        self.defaults.push(set);
        self
    }

    /// Set a flag for every machine of the family.
    pub fn flag(mut self, flag: &'static str, value: bool) -> Self {
        self.flags.push((flag, value));
        self
    }

    /// Add an on-board device.
    pub fn onboard(mut self, device: &'static str) -> Self {
        self.onboard.push(device);
        self
    }

    /// The newest version.
    pub fn latest(&self) -> Option<Version> {
        self.versions.keys().next_back().copied()
    }

    /// The name of the machine type of `version`.
    pub fn machine_name(&self, version: Version) -> String {
        format!("{}-{version}", self.name)
    }
}

/// A machine type defined outside a family's own versions: one that takes
/// the options of family `base` at some version and adds its own (QEMU's
/// `xenfv-4.2`, which reuses `pc_i440fx_machine_4_2_options`).
#[derive(Debug, Clone)]
pub struct MachineDef {
    /// The canonical name (`xenfv-4.2`).
    pub name: &'static str,
    /// The family shown for it (`xenfv`).
    pub family: &'static str,
    /// Its version, if it is versioned.
    pub version: Option<Version>,
    /// `(family, version)` whose options it starts from; `None` for the
    /// family's newest version.
    pub base: (&'static str, Option<Version>),
    /// What it adds on top.
    pub step: VersionStep,
    /// Another name for it (`xenfv`).
    pub alias: Option<&'static str>,
    /// Whether it is the release's default machine type.
    pub is_default: bool,
    /// One line of description.
    pub description: &'static str,
}

impl MachineDef {
    /// A machine type `name` taking the options of `base_family` at
    /// `base_version` (the family's newest when `None`).
    pub fn based_on(
        name: &'static str,
        family: &'static str,
        base_family: &'static str,
        base_version: Option<Version>,
    ) -> Self {
        MachineDef {
            name,
            family,
            version: name.rsplit_once('-').and_then(|(_, v)| v.parse().ok()),
            base: (base_family, base_version),
            step: VersionStep::default(),
            alias: None,
            is_default: false,
            description: "",
        }
    }

    /// Give it an alias.
    pub fn alias(mut self, alias: &'static str) -> Self {
        self.alias = Some(alias);
        self
    }

    /// Add a step on top of the base options.
    pub fn step(mut self, step: VersionStep) -> Self {
        self.step = step;
        self
    }

    /// Describe it.
    pub fn description(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }
}

/// One global of a machine type's compat list, with the set it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompatEntry {
    /// The compat set's name (`hw_compat_7_2`).
    pub set: &'static str,
    /// The global.
    pub global: GlobalProperty,
}

/// A machine type as a release resolved it: every compat global in the
/// order it applies, and the class-level flags.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MachineType {
    /// The canonical name, which goes on the wire (`pc-q35-7.2`).
    pub name: String,
    /// The family (`pc-q35`, `xenfv`).
    pub family: String,
    /// The version, if versioned.
    pub version: Option<Version>,
    /// Another accepted name (`q35`, `xenfv`).
    pub alias: Option<String>,
    /// Whether `-M` defaults to it.
    pub is_default: bool,
    /// Why it is deprecated, if it is.
    pub deprecation: Option<String>,
    /// One line of description.
    pub description: String,
    /// The compat globals, in application order (a later one wins).
    pub compat_props: Vec<CompatEntry>,
    /// Class-level flags devices read when they build their state.
    pub flags: BTreeMap<&'static str, bool>,
    /// The compat sets this machine type's own step appends (its version's
    /// `hw_compat_X_Y`): where an entry restoring this machine type's
    /// behaviour belongs.
    pub own_compat_sets: Vec<&'static str>,
    /// How its migration streams look.
    pub stream_format: StreamFormat,
    /// `-device` strings of its on-board devices.
    pub onboard: Vec<&'static str>,
    /// The buses it provides.
    pub buses: Vec<BusDef>,
}

impl MachineType {
    /// The value of a class-level flag; an unset flag is `false`, as an
    /// unset field of QEMU's zero-initialised machine class.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.get(name).copied().unwrap_or(false)
    }

    /// Whether `name` is this machine's canonical name or alias.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.alias.as_deref() == Some(name)
    }

    /// The compat sets applied, in order, without repeats.
    pub fn compat_sets(&self) -> Vec<&'static str> {
        let mut sets: Vec<&'static str> = Vec::new();
        for e in &self.compat_props {
            if !sets.contains(&e.set) {
                sets.push(e.set);
            }
        }
        sets
    }
}

/// The compat globals and flags of family `family` at `version`: the
/// family's defaults and flags, then each step from the newest version down
/// to `version`.
/// What a chain of version steps adds up to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Chain {
    pub(crate) compat_props: Vec<CompatEntry>,
    pub(crate) flags: BTreeMap<&'static str, bool>,
    pub(crate) stream_format: StreamFormat,
}

/// The compat globals, flags and stream format of family `family` at
/// `version`: the family's defaults and flags, then each step from the
/// newest version down to `version`.
pub(crate) fn chain(family: &MachineFamily, version: Version) -> Chain {
    let mut c = Chain {
        flags: family.flags.iter().copied().collect(),
        ..Chain::default()
    };
    for set in &family.defaults {
        push_set(&mut c.compat_props, set);
    }
    for (_, step) in family.versions.range(version..).rev() {
        c.apply(step);
    }
    c
}

impl Chain {
    /// Apply one more (older) step.
    pub(crate) fn apply(&mut self, step: &VersionStep) {
        for set in &step.compat_sets {
            push_set(&mut self.compat_props, set);
        }
        self.flags.extend(step.flags.iter().copied());
        if let Some(format) = step.stream_format {
            self.stream_format = format;
        }
    }
}

fn push_set(props: &mut Vec<CompatEntry>, set: &'static CompatSet) {
    props.extend(set.entries.iter().map(|&global| CompatEntry {
        set: set.name,
        global,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_print_and_order() {
        for text in ["7.2", "4.0.1", "10.0"] {
            assert_eq!(text.parse::<Version>().unwrap().to_string(), text);
        }
        for bad in [
            "", "7", "7.", ".2", "7.2.1.0", "a.b", "7.-2", "7.+2", "70000.1",
        ] {
            assert_eq!(
                bad.parse::<Version>().unwrap_err().to_string(),
                format!("'{bad}' is not a version: expected MAJOR.MINOR or MAJOR.MINOR.MICRO")
            );
        }
        let v = |s: &str| s.parse::<Version>().unwrap();
        assert!(v("4.0") < v("4.0.1") && v("4.0.1") < v("4.1"));
        assert!(v("7.2") < v("8.0") && v("9.2") < v("10.0"));
    }
}
