//! Pre-flight: before any device state, the source tells the destination
//! how it is configured — the machine type and its compat sets, and for
//! every migrating device its type, every property's value, the version and
//! layout of what it sends and its must-match values — and the destination
//! compares that with itself and refuses at once, listing every difference
//! with the option that would make it accept. It catches what a load finds
//! only late (after RAM has been copied) or never: a property that changes
//! the device the guest sees, and layouts of the same size whose fields
//! differ, which a load reads without noticing.
//!
//! The pre-flight travels as a device section of its own
//! ([`PREFLIGHT_IDSTR`]) right after the configuration section, described
//! in the vmdesc trailer like any section (QEMU's `analyze-migration.py`
//! shows it); a loader that does not check it skips it, and streams without
//! it load as before. [`check`] runs the comparison on its own, for a
//! management layer that asks the destination before it starts a migration.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::check::{layout_mismatch, reads_at};
use super::lock::{text_with_controls, unhex, MustMatchLock};
pub use super::property_diff::PropertyPreflight;
use super::property_diff::{guest_sees, property_preflights};
use crate::property::cmdline::is_identifier;
use crate::resolve::Machine;
use crate::text::escape::escaped;
use crate::vmstate::{first_difference, version_refused, Layout, VmStateDescription};

/// The idstr of the pre-flight section.
pub use crate::stream::PREFLIGHT_IDSTR;

/// The schema of the pre-flight's JSON this code writes and reads.
pub const SCHEMA: u32 = 1;

/// How a source is configured, as it tells its destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Preflight {
    /// The schema ([`SCHEMA`]).
    pub schema: u32,
    /// The source's release.
    pub release: String,
    /// The machine type.
    pub machine: String,
    /// The alias the machine type also answers to, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The compat sets the machine type applies, in order.
    pub compat_sets: Vec<String>,
    /// The host's CPU features.
    #[serde(default)]
    pub host_features: Vec<String>,
    /// The `-cpu` the machine started with, if any.
    #[serde(default)]
    pub cpu: Option<String>,
    /// Every migrating device, in section order.
    pub devices: Vec<DevicePreflight>,
}

/// One migrating device of a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DevicePreflight {
    /// Its section's idstr.
    pub section: String,
    /// Its id, or the name the machine gave it.
    pub label: String,
    /// Its device type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Every property's value, as text, inherited ones first.
    pub properties: Vec<PropertyPreflight>,
    /// The version its state is sent at.
    pub version: u32,
    /// What it sends, as the vmdesc trailer describes it.
    pub layout: serde_json::Value,
    /// Its must-match values, as they go on the wire.
    pub must_match: Vec<MustMatchLock>,
}

/// What kind of difference a pre-flight found; named in JSON as its
/// variant (`Property`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum DifferenceKind {
    /// Another machine type.
    MachineType,
    /// A device the destination does not have.
    MissingDevice,
    /// A device the source does not have.
    ExtraDevice,
    /// The same section, another device type.
    DeviceType,
    /// A property's value differs.
    Property,
    /// The destination does not take the version sent.
    Version,
    /// What the source sends is not what the destination reads; a load
    /// would fail on it.
    Layout,
    /// What the source sends has the size of what the destination reads,
    /// but other fields: a load would complete and misread them.
    Misread,
    /// A must-match value differs.
    MustMatch,
    /// The source's guest sees a host CPU feature the destination's host
    /// lacks.
    HostFeature,
}

/// One difference between a source and its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Difference {
    /// What kind.
    pub kind: DifferenceKind,
    /// The device (its label), if the difference is a device's.
    pub device: Option<String>,
    /// What differs, by name: the property, the state, the must-match
    /// field; empty for the machine type and devices themselves.
    pub item: String,
    /// The source's side (for a layout, what the source sends that the
    /// destination does not read so).
    pub source: String,
    /// The destination's side.
    pub destination: String,
    /// The option that would make the destination accept, if one would.
    pub fix: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DifferenceKind::*;
        if let Some(device) = &self.device {
            write!(f, "device '{}': ", escaped(device))?;
        }
        let (item, source, destination) = (
            escaped(&self.item),
            escaped(&self.source),
            escaped(&self.destination),
        );
        match self.kind {
            MachineType => write!(
                f,
                "machine type: source {source}, destination {destination}"
            ),
            MissingDevice | ExtraDevice => {
                write!(f, "device: source {source}, destination {destination}")
            }
            DeviceType => write!(f, "device type: source {source}, destination {destination}"),
            Property => write!(
                f,
                "property '{item}': source {source}, destination {destination}"
            ),
            Version => write!(
                f,
                "state '{item}': source version {source}, destination versions {destination}"
            ),
            // The cause names fields in quotes of its own; the names of a
            // pre-flight read from a stream hold no control characters.
            Layout => write!(f, "state '{item}': {}: a load would fail", self.source),
            Misread => write!(
                f,
                "state '{item}': {}, in as many bytes: a load would complete and misread them",
                self.source
            ),
            MustMatch => write!(
                f,
                "must-match field '{item}': source {source}, destination {destination}"
            ),
            HostFeature => write!(
                f,
                "host CPU feature '{item}': the source's guest sees it ({source}), the \
                 destination's host lacks it"
            ),
        }?;
        if let Some(fix) = &self.fix {
            write!(f, " (accept it with {})", escaped(fix))?;
        }
        Ok(())
    }
}

/// A pre-flight that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreflightError {
    /// Not JSON of the pre-flight's layout.
    #[error("the pre-flight is not readable: {0}")]
    Json(#[from] serde_json::Error),
    /// Written by a schema this code does not read.
    #[error("pre-flight schema {found} is not the schema {SCHEMA} this code reads")]
    Schema {
        /// The schema it says.
        found: u32,
    },
    /// A text holds control characters.
    #[error("the pre-flight is not readable: a text holds control characters: {}", escaped(.text))]
    ControlCharacters {
        /// The text.
        text: String,
    },
    /// A layout or must-match value that does not describe a state.
    #[error("the pre-flight of device '{}' is not readable: {why}", escaped(.device))]
    Device {
        /// The device's label.
        device: String,
        /// Why.
        why: String,
    },
}

impl Preflight {
    /// How `machine` is configured.
    pub fn of(machine: &mut Machine<'_>) -> Preflight {
        let release = machine.release.name().to_owned();
        let machine_type = machine.machine_type;
        let sources = &machine.sources;
        let devices = machine
            .devices
            .iter_mut()
            .filter_map(|d| {
                let ty = d.object.type_info();
                let properties = property_preflights(d, sources);
                let label = d.label.clone();
                let section = d.section.as_ref()?.key();
                let state = d.object.migratable()?;
                let vmsd = state.vmstate_description();
                let layout = state.state_layout();
                Some(DevicePreflight {
                    section,
                    label,
                    type_name: ty.name.to_owned(),
                    properties,
                    version: vmsd.version_id,
                    layout: layout.to_json(),
                    must_match: layout
                        .must_match_values()
                        .into_iter()
                        .map(MustMatchLock::from)
                        .collect(),
                })
            })
            .collect();
        Preflight {
            schema: SCHEMA,
            release,
            machine: machine_type.name.clone(),
            alias: machine_type.alias.clone(),
            compat_sets: machine_type
                .compat_sets()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            host_features: machine.host_features.clone(),
            cpu: machine.cpu.clone(),
            devices,
        }
    }

    /// The pre-flight as the JSON the section carries.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a pre-flight serializes")
    }

    /// Read a pre-flight from the JSON a section carried.
    pub fn from_json(bytes: &[u8]) -> Result<Preflight, PreflightError> {
        #[derive(Deserialize)]
        struct Schema {
            schema: u32,
        }
        let value: serde_json::Value = serde_json::from_slice(bytes)?;
        if let Some(text) = text_with_controls(&value) {
            return Err(PreflightError::ControlCharacters {
                text: text.to_owned(),
            });
        }
        let Schema { schema } = serde_json::from_value(value)?;
        if schema != SCHEMA {
            return Err(PreflightError::Schema { found: schema });
        }
        let preflight: Preflight = serde_json::from_slice(bytes)?;
        let mut sections = HashSet::new();
        for d in &preflight.devices {
            let bad = |why: String| PreflightError::Device {
                device: d.label.clone(),
                why,
            };
            if !sections.insert(d.section.as_str()) {
                return Err(bad(format!(
                    "section '{}' is listed twice",
                    escaped(&d.section)
                )));
            }
            let mut names = HashSet::new();
            if let Some(p) = d.properties.iter().find(|p| !names.insert(p.name.as_str())) {
                return Err(bad(format!(
                    "property '{}' is listed twice",
                    escaped(&p.name)
                )));
            }
            Layout::from_json(&d.layout).map_err(bad)?;
            for m in &d.must_match {
                let readable = unhex(&m.bytes).is_some()
                    && m.mask.as_deref().is_none_or(|x| unhex(x).is_some());
                if !readable {
                    return Err(bad(format!(
                        "must-match value of '{}' is not hex",
                        escaped(&m.path)
                    )));
                }
            }
        }
        Ok(preflight)
    }
}

/// What the destination `machine` has against what `incoming` says of the
/// source: every difference, none when the migration can go ahead.
pub fn check(incoming: &Preflight, machine: &mut Machine<'_>) -> Vec<Difference> {
    let mine = Preflight::of(machine);
    let vmsds = descriptions(machine);
    compare(incoming, &mine, &vmsds)
}

/// The state description behind each section of `machine`.
pub(super) fn descriptions(
    machine: &mut Machine<'_>,
) -> Vec<(String, &'static VmStateDescription)> {
    machine
        .devices
        .iter_mut()
        .filter_map(|d| {
            let section = d.section.as_ref()?.key();
            let vmsd = d.object.migratable()?.vmstate_description();
            Some((section, vmsd))
        })
        .collect()
}

/// [`check`], with the destination's pre-flight `mine` and state
/// descriptions `vmsds` found before.
pub(super) fn compare(
    incoming: &Preflight,
    mine: &Preflight,
    vmsds: &[(String, &'static VmStateDescription)],
) -> Vec<Difference> {
    let mut out = Vec::new();
    // One machine type may answer to two names (`xenfv` is `xenfv-3.1`).
    let names = |p: &Preflight| [Some(p.machine.clone()), p.alias.clone()];
    let same_machine = names(incoming)
        .iter()
        .flatten()
        .any(|n| names(mine).iter().flatten().any(|m| m == n));
    if !same_machine {
        out.push(Difference {
            kind: DifferenceKind::MachineType,
            device: None,
            item: String::new(),
            source: incoming.machine.clone(),
            destination: mine.machine.clone(),
            fix: Some(format!("-M {}", incoming.machine)),
        });
    }
    out.extend(host_feature_differences(incoming, mine));
    // A pre-flight comes from another host: every lookup goes through an
    // index, so that a large one costs linear time.
    let by_section: HashMap<&str, &DevicePreflight> = mine
        .devices
        .iter()
        .map(|d| (d.section.as_str(), d))
        .collect();
    let vmsd_of: HashMap<&str, &'static VmStateDescription> =
        vmsds.iter().map(|(s, v)| (s.as_str(), *v)).collect();
    for s in &incoming.devices {
        let Some(&d) = by_section.get(s.section.as_str()) else {
            out.push(Difference {
                kind: DifferenceKind::MissingDevice,
                device: Some(s.label.clone()),
                item: String::new(),
                source: s.type_name.clone(),
                destination: "none".into(),
                // A label the machine made up (`e1000e[0]`) is no id.
                fix: Some(if is_identifier(&s.label) {
                    format!("-device {},id={}", s.type_name, s.label)
                } else {
                    format!("-device {}", s.type_name)
                }),
            });
            continue;
        };
        let device = Some(s.label.clone());
        if s.type_name != d.type_name {
            out.push(Difference {
                kind: DifferenceKind::DeviceType,
                device,
                item: String::new(),
                source: s.type_name.clone(),
                destination: d.type_name.clone(),
                fix: None,
            });
            continue;
        }
        let their_properties: HashMap<&str, &PropertyPreflight> =
            d.properties.iter().map(|p| (p.name.as_str(), p)).collect();
        for p in &s.properties {
            let theirs = their_properties.get(p.name.as_str()).copied();
            if !guest_sees(Some(p), theirs) {
                continue;
            }
            out.push(Difference {
                kind: DifferenceKind::Property,
                device: device.clone(),
                item: p.name.clone(),
                source: p.value.clone(),
                destination: theirs.map_or("none".into(), |x| x.value.clone()),
                fix: theirs.map(|_| format!("-global {}.{}={}", s.type_name, p.name, p.value)),
            });
        }
        // A property only the destination has: new behaviour the source
        // never had, unless a compat set of the machine type gave the older
        // one — then the off switch would restore it.
        let sent: HashSet<&str> = s.properties.iter().map(|p| p.name.as_str()).collect();
        for p in d.properties.iter().filter(|p| guest_sees(None, Some(p))) {
            if sent.contains(p.name.as_str()) {
                continue;
            }
            let Some(before) = crate::property::opposite_switch(&p.value) else {
                continue;
            };
            out.push(Difference {
                kind: DifferenceKind::Property,
                device: device.clone(),
                item: p.name.clone(),
                source: "none".into(),
                destination: p.value.clone(),
                fix: Some(format!("-global {}.{}={}", d.type_name, p.name, before)),
            });
        }
        if let Some(vmsd) = vmsd_of.get(d.section.as_str()) {
            out.extend(state_difference(s, d, vmsd));
        }
    }
    let sent: HashSet<&str> = incoming
        .devices
        .iter()
        .map(|s| s.section.as_str())
        .collect();
    for d in &mine.devices {
        if !sent.contains(d.section.as_str()) {
            out.push(Difference {
                kind: DifferenceKind::ExtraDevice,
                device: Some(d.label.clone()),
                item: String::new(),
                source: "none".into(),
                destination: d.type_name.clone(),
                fix: None,
            });
        }
    }
    out
}

/// The host CPU features the source's guest sees through `-cpu host` that
/// the destination's host lacks, each with the `-cpu` that hides what the
/// other host lacks (QEMU's documents: `host,pcid=off,stibp=off`).
fn host_feature_differences(incoming: &Preflight, mine: &Preflight) -> Vec<Difference> {
    let Some(cpu) = &incoming.cpu else {
        return Vec::new();
    };
    let mut parts = cpu.split(',');
    if parts.next() != Some("host") {
        return Vec::new();
    }
    let off: Vec<&str> = parts
        .filter_map(|p| p.strip_suffix("=off").or_else(|| p.strip_prefix('-')))
        .collect();
    let fix = format!(
        "-cpu {} on the source",
        crate::resolve::host_cpu_option(&incoming.host_features, &mine.host_features)
    );
    incoming
        .host_features
        .iter()
        .filter(|f| !off.contains(&f.as_str()) && !mine.host_features.contains(f))
        .map(|f| Difference {
            kind: DifferenceKind::HostFeature,
            device: None,
            item: f.clone(),
            source: format!("-cpu {cpu}"),
            destination: String::new(),
            fix: Some(fix.clone()),
        })
        .collect()
}

/// Whether the destination `d` (described by `vmsd`) reads what the source
/// `s` sends: the version, the layout at that version, the must-match
/// values.
fn state_difference(
    s: &DevicePreflight,
    d: &DevicePreflight,
    vmsd: &'static VmStateDescription,
) -> Option<Difference> {
    let device = Some(s.label.clone());
    if version_refused(s.version, vmsd.minimum_version_id, vmsd.version_id).is_some() {
        return Some(Difference {
            kind: DifferenceKind::Version,
            device,
            item: vmsd.name.to_owned(),
            source: s.version.to_string(),
            destination: format!("{} to {}", vmsd.minimum_version_id, vmsd.version_id),
            fix: None,
        });
    }
    let (Ok(sent), Ok(own)) = (Layout::from_json(&s.layout), Layout::from_json(&d.layout)) else {
        return None;
    };
    let reads = reads_at(own, vmsd, s.version, &sent);
    if let Some(cause) = layout_mismatch("", &sent, &reads, vmsd).map(|m| m.text) {
        let misread = sent.written_size() == reads.written_size();
        return Some(Difference {
            kind: if misread {
                DifferenceKind::Misread
            } else {
                DifferenceKind::Layout
            },
            device,
            item: vmsd.name.to_owned(),
            source: cause,
            destination: String::new(),
            fix: None,
        });
    }
    for m in &s.must_match {
        let Some(o) = d.must_match.iter().find(|o| o.path == m.path) else {
            continue;
        };
        let (Some(incoming), Some(ours)) = (unhex(&m.bytes), unhex(&o.bytes)) else {
            continue;
        };
        let mask = o.mask.as_deref().and_then(unhex);
        if let Some(diff) = first_difference(&incoming, &ours, mask.as_deref()) {
            return Some(Difference {
                kind: DifferenceKind::MustMatch,
                device,
                item: m.path.clone(),
                source: format!("0x{:02x} at index 0x{:x}", diff.incoming, diff.index),
                destination: format!("0x{:02x}", diff.ours),
                fix: None,
            });
        }
    }
    None
}
