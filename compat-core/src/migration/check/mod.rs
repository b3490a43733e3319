//! The static compatibility checker (beyond QEMU): predict whether a
//! migration from one release to another works, without running one, from
//! the two releases' VMState descriptions, every device's resolved
//! properties on the machine type, and the reset values of its must-match
//! fields — and, when it does not, say why and propose the fix in the
//! terms of the release's own compat sets (`add {pci-device,
//! x-pcie-err-unc-mask, off} to hw_compat_7_2 in release 8.0`).

use std::collections::BTreeMap;
use std::fmt;

mod descriptions;
mod fixes;
mod layout;

use descriptions::{bound_mismatch, missing_subsection, nested_subsections};
pub(super) use layout::{layout_mismatch, reads_at};

use crate::release::Release;
use crate::resolve::{Machine, MachineConfig};
use crate::stream::StreamOptions;
use crate::vmstate::{
    first_difference, version_refused, Layout, MustMatchValue, VersionRefused, VmStateDescription,
};

/// Which side of a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The source.
    Source,
    /// The destination.
    Destination,
}

/// A property whose value differs between the two sides of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PropertyDifference {
    /// The device's label (`rp1`).
    pub device: String,
    /// The type that declares the property (`pci-device`).
    pub owner: &'static str,
    /// The property.
    pub property: &'static str,
    /// Its value on the source; `None` if the source's type has no such
    /// property.
    pub source: Option<String>,
    /// Its value on the destination, likewise.
    pub destination: Option<String>,
}

impl fmt::Display for PropertyDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(no such property)".into());
        write!(
            f,
            "{}: {}.{} is {} on the source, {} on the destination",
            self.device,
            self.owner,
            self.property,
            show(&self.source),
            show(&self.destination)
        )
    }
}

/// The checker's answer for one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Prediction {
    /// Whether the migration is predicted to work.
    pub works: bool,
    /// What breaks it, if something does.
    pub cause: Option<String>,
    /// The device the cause is in, if it is in one.
    pub device: Option<String>,
    /// How to fix it: compat-set entries, options, machine types.
    pub fixes: Vec<String>,
    /// Properties whose values differ between the sides, device by device.
    pub property_differences: Vec<PropertyDifference>,
    /// Machine class flags whose values differ: name, source, destination.
    pub flag_differences: Vec<(String, bool, bool)>,
}

impl fmt::Display for Prediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            None => writeln!(f, "works")?,
            Some(cause) => writeln!(f, "FAILS: {cause}")?,
        }
        for d in &self.property_differences {
            writeln!(f, "  differs: {d}")?;
        }
        for (flag, s, d) in &self.flag_differences {
            writeln!(
                f,
                "  differs: machine flag {flag} is {s} on the source, {d} on the destination"
            )?;
        }
        for fix in &self.fixes {
            writeln!(f, "  fix: {fix}")?;
        }
        Ok(())
    }
}

/// What one migrating device looks like to the checker.
struct DeviceView {
    idstr: String,
    label: String,
    version: u32,
    minimum: u32,
    vmsd: &'static VmStateDescription,
    layout: Layout,
    /// For each gated subsection: whether its gate property is on.
    gates: Vec<(&'static str, bool)>,
}

fn devices(machine: &mut Machine<'_>) -> Vec<DeviceView> {
    machine
        .devices
        .iter_mut()
        .filter_map(|d| {
            let label = d.label.clone();
            let gate_on = |gate: &str| {
                matches!(
                    d.object.get(gate),
                    Ok(crate::property::PropertyValue::Bool(true))
                )
            };
            let gates: Vec<(&'static str, bool)> = d
                .object
                .type_info()
                .vmstate
                .map(|v| {
                    v.subsections
                        .iter()
                        .filter_map(|s| {
                            let gate = v.needed(s.name)?.gate?;
                            Some((s.name, gate_on(gate)))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let idstr = d.section.as_ref()?.key();
            d.object.migratable().map(|m| {
                let vmsd = m.vmstate_description();
                DeviceView {
                    idstr,
                    label,
                    version: vmsd.version_id,
                    minimum: vmsd.minimum_version_id,
                    vmsd,
                    layout: m.state_layout(),
                    gates,
                }
            })
        })
        .collect()
}

/// Predict a migration from `src` (started with `src_config`) to `dst`
/// (with `dst_config`). `newer` says which side is the newer release, for
/// the fix proposals.
pub fn check(
    src: &Release,
    src_config: &MachineConfig,
    dst: &Release,
    dst_config: &MachineConfig,
    newer: Option<Side>,
) -> Prediction {
    let mut p = Prediction {
        works: true,
        cause: None,
        device: None,
        fixes: Vec::new(),
        property_differences: Vec::new(),
        flag_differences: Vec::new(),
    };
    let mut source = match src.instantiate_config(src_config) {
        Ok(m) => m,
        Err(e) => return p.fail(format!("the source does not start: {e}"), None),
    };
    let mut destination = match dst.instantiate_config(dst_config) {
        Ok(m) => m,
        Err(e) => {
            let mut p = p.fail(format!("the destination refuses: {e}"), None);
            if matches!(e, crate::resolve::ResolveError::Machine(_)) {
                p.fixes.push(format!(
                    "migration is only defined for a machine type both releases know: release {} \
                     does not know {}; pick one both know",
                    dst.name(),
                    src_config.machine
                ));
            }
            return p;
        }
    };
    let (differences, guest_visible) = property_differences(&source, &destination);
    p.property_differences = differences;
    p.flag_differences = flag_differences(&source, &destination);

    if let Some(cause) = stream_mismatch(&source.stream_options(), &destination.stream_options()) {
        return p
            .fail(cause, None)
            .with_fixes(src, dst, src_config, &source, &destination, newer);
    }

    let src_devices = devices(&mut source);
    let dst_devices = devices(&mut destination);
    for s in &src_devices {
        let Some(d) = dst_devices.iter().find(|d| d.idstr == s.idstr) else {
            return p.fail(
                format!("the destination has no device for section '{}'", s.idstr),
                Some(s.label.clone()),
            );
        };
        let mut fixes = Vec::new();
        if let Some(cause) = device_mismatch(s, d, &mut fixes) {
            let mut p = p.fail(cause, Some(s.label.clone()));
            p.fixes = fixes;
            return p.with_fixes(src, dst, src_config, &source, &destination, newer);
        }
    }
    if let Some(d) = dst_devices
        .iter()
        .find(|d| !src_devices.iter().any(|s| s.idstr == d.idstr))
    {
        return p.fail(
            format!(
                "the source sends no section for the destination's device '{}'",
                d.idstr
            ),
            Some(d.label.clone()),
        );
    }
    // The state loads, but the guest would find another device after the
    // move (a pre-flight refuses it; QEMU's users learn it from the
    // guest), by the pre-flight's own rule: a property both sides have
    // holds another value, one only the source has holds a value its
    // options did not choose and no older release had, or a switch only
    // the destination has is at new behaviour no compat set undid.
    if let Some(d) = guest_visible.map(|i| &p.property_differences[i]) {
        let cause = match (&d.source, &d.destination) {
            (Some(value), Some(theirs)) => format!(
                "device '{}': property {}.{} is {value} on the source and {theirs} on the \
                 destination: the state loads, but the guest sees another device",
                d.device, d.owner, d.property
            ),
            (Some(value), None) => format!(
                "device '{}': property {}.{} is {value} on the source and the destination has \
                 no such property: the state loads, but the guest loses what it had",
                d.device, d.owner, d.property
            ),
            _ => format!(
                "device '{}': property {}.{} is {} on the destination and the source has no \
                 such property: the state loads, but the guest finds new behaviour",
                d.device,
                d.owner,
                d.property,
                d.destination.as_deref().unwrap_or_default()
            ),
        };
        let device = Some(d.device.clone());
        return p.fail(cause, device).with_fixes(
            src,
            dst,
            src_config,
            &source,
            &destination,
            newer,
        );
    }
    p
}

/// Whether `value` of the difference's property is its class default on
/// that device of `machine`: the release's default, not a value an option
/// or a compat set chose.
fn at_class_default(machine: &Machine<'_>, d: &PropertyDifference, value: &str) -> bool {
    machine
        .devices
        .iter()
        .find(|x| x.label == d.device)
        .and_then(|x| crate::device::find_in_chain(x.object.type_info(), d.property))
        .is_some_and(|def| def.default_value().to_string() == value)
}

fn stream_mismatch(src: &StreamOptions, dst: &StreamOptions) -> Option<String> {
    match (&src.machine, &dst.machine) {
        (None, Some(_)) => {
            return Some("Configuration section missing: the source sends none".into())
        }
        (Some(s), Some(d)) if s != d => {
            return Some(format!("Machine type received is '{s}' and local is '{d}'"))
        }
        _ => {}
    }
    match (src.footers, dst.footers) {
        (false, true) => {
            Some("the source sends no section footers; the destination requires them".into())
        }
        (true, false) => {
            Some("the source sends section footers the destination does not expect".into())
        }
        _ => None,
    }
}

/// Why `d` cannot load what `s` sends, if it cannot; `fixes` receives the
/// fixes only the cause itself suggests (property differences add theirs
/// later).
fn device_mismatch(s: &DeviceView, d: &DeviceView, fixes: &mut Vec<String>) -> Option<String> {
    let section = format!("device '{}'", s.idstr);
    match version_refused(s.version, d.minimum, d.version) {
        Some(VersionRefused::TooNew) => {
            return Some(format!(
                "{section}: {}: incoming version_id {} is too new for local version_id {}",
                d.vmsd.name, s.version, d.version
            ))
        }
        Some(VersionRefused::TooOld) => {
            return Some(format!(
                "{section}: {}: incoming version_id {} is too old for local minimum version_id {}",
                d.vmsd.name, s.version, d.minimum
            ))
        }
        None => {}
    }
    let reads = reads_at(d.layout.clone(), d.vmsd, s.version, &s.layout);
    if let Some((cause, fix)) = missing_subsection(s, d) {
        fixes.extend(fix);
        return Some(format!("{section}: {cause}"));
    }
    if let Some((cause, fix)) = nested_subsections(s.vmsd, d.vmsd) {
        fixes.push(fix);
        return Some(format!("{section}: {cause}"));
    }
    if let Some((cause, fix)) = bound_mismatch(s.vmsd, d.vmsd) {
        fixes.push(fix);
        return Some(format!("{section}: {cause}"));
    }
    if let Some(cause) = layout_mismatch("", &s.layout, &reads, d.vmsd) {
        let silently = match cause.misread {
            true => {
                ": a field the source also sends, so the load completes with the state in \
                     the wrong field (a silent misread)"
            }
            false => "",
        };
        return Some(format!("{section}: {}{silently}", cause.text));
    }
    let theirs: BTreeMap<String, MustMatchValue> = d
        .layout
        .must_match_values()
        .into_iter()
        .map(|m| (m.path.clone(), m))
        .collect();
    for m in s.layout.must_match_values() {
        let Some(o) = theirs.get(&m.path) else {
            continue;
        };
        let Some(diff) = first_difference(&m.bytes, &o.bytes, o.mask.as_deref()) else {
            continue;
        };
        let detail = if o.mask.is_some() || m.bytes.len() > 8 {
            format!(
                "must match: at index 0x{:x} the source has {:02x}, the destination {:02x} \
                 (compared bits {:02x})",
                diff.index, diff.incoming, diff.ours, diff.mask
            )
        } else {
            format!(
                "must match: the source has {}, the destination {}",
                hex(&m.bytes),
                hex(&o.bytes)
            )
        };
        return Some(format!("{section}: field '{}' {detail}", m.path));
    }
    None
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::from("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The properties whose values differ between the two sides of each
/// device, by the pre-flight's rule: not those that may differ (host
/// settings, switches without effect on the type), values declared alike,
/// nor a property one side lacks where a compat set or the type's
/// `absent` says that side behaves alike.
fn property_differences(
    src: &Machine<'_>,
    dst: &Machine<'_>,
) -> (Vec<PropertyDifference>, Option<usize>) {
    use super::property_diff::{
        destination_property_differs, guest_sees, property_preflights, source_property_differs,
        PropertyPreflight,
    };
    use crate::resolve::DeviceInstance;
    let (mut out, mut guest_visible) = (Vec::new(), None);
    for s in &src.devices {
        let Some(d) = dst.devices.iter().find(|d| d.label == s.label) else {
            continue;
        };
        let (mine, theirs) = (
            property_preflights(s, &src.sources),
            property_preflights(d, &dst.sources),
        );
        let mut push = |p: &PropertyPreflight, of: &DeviceInstance, seen: bool| {
            let Some((owner, def)) = of.object.type_info().find_property(&p.name) else {
                return;
            };
            if seen && guest_visible.is_none() {
                guest_visible = Some(out.len());
            }
            out.push(PropertyDifference {
                device: s.label.clone(),
                owner: owner.name,
                property: def.name,
                source: s.configured(def.name).map(|v| v.to_string()),
                destination: d.configured(def.name).map(|v| v.to_string()),
            });
        };
        for p in &mine {
            let other = theirs.iter().find(|t| t.name == p.name);
            if source_property_differs(p, other) {
                push(p, s, guest_sees(Some(p), other));
            }
        }
        for p in &theirs {
            if !mine.iter().any(|m| m.name == p.name) && destination_property_differs(p) {
                push(p, d, guest_sees(None, Some(p)));
            }
        }
    }
    (out, guest_visible)
}

fn flag_differences(src: &Machine<'_>, dst: &Machine<'_>) -> Vec<(String, bool, bool)> {
    let mut names: Vec<&str> = src.machine_type.flags.keys().copied().collect();
    names.extend(dst.machine_type.flags.keys().copied());
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter(|f| src.machine_type.flag(f) != dst.machine_type.flag(f))
        .map(|f| {
            (
                f.to_owned(),
                src.machine_type.flag(f),
                dst.machine_type.flag(f),
            )
        })
        .collect()
}
