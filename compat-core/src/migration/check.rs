//! The static compatibility checker (beyond QEMU): predict whether a
//! migration from one release to another works, without running one, from
//! the two releases' VMState descriptions, every device's resolved
//! properties on the machine type, and the reset values of its must-match
//! fields — and, when it does not, say why and propose the fix in the
//! terms of the release's own compat sets (`add {pci-device,
//! x-pcie-err-unc-mask, off} to hw_compat_7_2 in release 8.0`).

use std::collections::BTreeMap;
use std::fmt;

use crate::release::Release;
use crate::resolve::{Machine, MachineConfig};
use crate::stream::{StreamFormat, StreamOptions};
use crate::vmstate::{
    field_path, first_difference, older_streams_only, reading, FieldKind, FieldLayout, Layout,
    MustMatchValue, Reading, VmStateDescription,
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
    p.property_differences = property_differences(&source, &destination);
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
    // The state loads, but a property both sides have holds another value:
    // the guest would find another device after the move (a pre-flight
    // refuses it, as QEMU's users learn only from the guest).
    if let Some(d) = p
        .property_differences
        .iter()
        .find(|d| d.source.is_some() && d.destination.is_some())
    {
        let cause = format!(
            "device '{}': property {}.{} is {} on the source and {} on the destination: the \
             state loads, but the guest sees another device",
            d.device,
            d.owner,
            d.property,
            d.source.as_deref().unwrap_or_default(),
            d.destination.as_deref().unwrap_or_default()
        );
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

impl Prediction {
    fn fail(mut self, cause: String, device: Option<String>) -> Self {
        self.works = false;
        self.cause = Some(cause);
        self.device = device;
        self
    }

    /// Propose fixes from the differences that explain the failure.
    fn with_fixes(
        mut self,
        src: &Release,
        dst: &Release,
        src_config: &MachineConfig,
        source: &Machine<'_>,
        destination: &Machine<'_>,
        newer: Option<Side>,
    ) -> Self {
        let relevant: Vec<PropertyDifference> = self
            .property_differences
            .iter()
            .filter(|d| self.device.as_deref().is_none_or(|dev| dev == d.device))
            .cloned()
            .collect();
        // The entry belongs in a set of the newer release's machine type's
        // own step (its `hw_compat_X_Y`), whatever the VMM calls its sets.
        let newer_machine = match newer {
            Some(Side::Destination) => Some(destination.machine_type),
            Some(Side::Source) => Some(source.machine_type),
            None => None,
        };
        let compat_set = newer_machine.map(|m| match m.own_compat_sets.first() {
            Some(set) => (*set).to_owned(),
            None => format!("a new compat set in the step of machine type {}", m.name),
        });
        for d in &relevant {
            // The behaviour the source has: its value, or — where its type
            // has no such property — the opposite of a boolean the newer
            // release introduced.
            let negate = |v: &str| crate::property::opposite_switch(v).map(str::to_owned);
            // Guessing the older behaviour by negation is sound only where
            // the newer side still has the class default: a value a compat
            // set or an option already chose is the older behaviour.
            let at_default = |machine: &Machine<'_>, value: &Option<String>| {
                let Some(value) = value else { return false };
                machine
                    .devices
                    .iter()
                    .find(|x| x.label == d.device)
                    .and_then(|x| crate::device::find_in_chain(x.object.type_info(), d.property))
                    .is_some_and(|def| def.default_value().to_string() == *value)
            };
            let source_at_default = at_default(source, &d.source);
            let destination_at_default = at_default(destination, &d.destination);
            let negate_source = |v: &str| source_at_default.then(|| negate(v)).flatten();
            let negate_destination = |v: &str| destination_at_default.then(|| negate(v)).flatten();
            let source_behaviour = d
                .source
                .clone()
                .or_else(|| d.destination.as_deref().and_then(negate_destination));
            let older_behaviour = match newer {
                Some(Side::Destination) => d
                    .source
                    .clone()
                    .or_else(|| d.destination.as_deref().and_then(negate_destination)),
                Some(Side::Source) => d
                    .destination
                    .clone()
                    .or_else(|| d.source.as_deref().and_then(negate_source)),
                None => None,
            };
            let (newer_value, newer_release) = match newer {
                Some(Side::Destination) => (&d.destination, dst.name()),
                Some(Side::Source) => (&d.source, src.name()),
                None => (&None, ""),
            };
            if let (Some(set), Some(old), Some(_)) = (&compat_set, &older_behaviour, newer_value) {
                let (older_lacks_it, newer_at_default) = match newer {
                    Some(Side::Destination) => (d.source.is_none(), destination_at_default),
                    Some(Side::Source) => (d.destination.is_none(), source_at_default),
                    None => (false, false),
                };
                // A new property, or a default the newer release changed:
                // its machine type's own set keeps the older value (a value
                // an option or a compat set chose is not the default's).
                if older_lacks_it || newer_at_default {
                    self.fixes.push(format!(
                        "add {{{}, {}, {old}}} to {set} in release {newer_release}",
                        d.owner, d.property
                    ));
                }
            }
            // A newer source can behave as the older destination does.
            if let (Some(Side::Source), Some(old), Some(_), None) =
                (newer, &older_behaviour, &d.source, &d.destination)
            {
                self.fixes.push(format!(
                    "for releases already shipped: start the source with -global {}.{}={old}",
                    d.owner, d.property
                ));
            }
            if let (Some(value), Some(_)) = (&source_behaviour, &d.destination) {
                self.fixes.push(format!(
                    "start the destination with -global {}.{}={value} (and keep that option \
                     at every later hop until the guest is powered off)",
                    d.owner, d.property
                ));
            }
        }
        // Destination machine types of the same family that write and read
        // streams as the source's does: its flags and its stream format.
        let like_source: Vec<&str> = dst
            .machines()
            .iter()
            .filter(|m| {
                m.family == destination.machine_type.family
                    || m.family == source.machine_type.family
            })
            .filter(|m| m.stream_format == source.machine_type.stream_format)
            .filter(|m| {
                let src = source.machine_type;
                m.flags
                    .keys()
                    .chain(src.flags.keys())
                    .all(|f| m.flag(f) == src.flag(f))
            })
            .map(|m| m.name.as_str())
            .collect();
        let mut reasons: Vec<String> = self
            .flag_differences
            .iter()
            .map(|(flag, s, _)| format!("{flag}={s}"))
            .collect();
        if source.machine_type.stream_format != destination.machine_type.stream_format {
            reasons.push(match source.machine_type.stream_format {
                StreamFormat::DeviceState => "device-state streams".to_owned(),
                _ => "migration streams".to_owned(),
            });
        }
        if !reasons.is_empty() && !like_source.is_empty() {
            self.fixes.push(format!(
                "on the destination use machine type {} ({}, as the source's {})",
                like_source.join(" or "),
                reasons.join(", "),
                src_config.machine
            ));
        }
        if self.fixes.is_empty() {
            self.fixes.push(
                "no property, machine flag or stream format explains the difference: it comes \
                 from the host or the guest; start both sides so that this state is the same \
                 (for CPUs: use a model with the features both hosts have)"
                    .to_owned(),
            );
        }
        self
    }
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
    if s.version > d.version {
        return Some(format!(
            "{section}: {}: incoming version_id {} is too new for local version_id {}",
            d.vmsd.name, s.version, d.version
        ));
    }
    if s.version < d.minimum {
        return Some(format!(
            "{section}: {}: incoming version_id {} is too old for local minimum version_id {}",
            d.vmsd.name, s.version, d.minimum
        ));
    }
    let reads = reads_at(d.layout.clone(), d.vmsd, s.version, &s.layout);
    if let Some((cause, fix)) = missing_subsection(s, d) {
        fixes.extend(fix);
        return Some(format!("{section}: {cause}"));
    }
    if let Some((cause, fix)) = nested_subsections("", s.vmsd, d.vmsd) {
        fixes.push(fix);
        return Some(format!("{section}: {cause}"));
    }
    if let Some((cause, fix)) = bound_mismatch("", s.vmsd, d.vmsd) {
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

/// A subsection the source sends — now or whenever its `needed` test
/// holds — that the destination cannot load: one it does not know, or (when
/// a fresh device does not send it, so its layout says nothing) one whose
/// version or fields it reads otherwise. A gated one breaks while its gate
/// is on, any other whenever its test is true.
fn missing_subsection(s: &DeviceView, d: &DeviceView) -> Option<(String, Option<String>)> {
    for sub in s.vmsd.subsections {
        // A hand-written description may list no `needed` for it: ungated.
        let needed = s.vmsd.needed(sub.name).unwrap_or(crate::vmstate::Needed {
            function: "its `needed` test",
            gate: None,
        });
        let sent_now = s.layout.subsections.iter().any(|l| l.name == sub.name);
        let known = d.vmsd.subsection(sub.name).is_some();
        let problem = match d.vmsd.subsection(sub.name) {
            None => "which the destination does not know".to_owned(),
            // What a fresh device sends, the layout comparison covers.
            Some(_) if sent_now => continue,
            Some(theirs) => match description_mismatch(sub, theirs) {
                Some(why) => format!("which the destination reads otherwise: {why}"),
                None => continue,
            },
        };
        let gate_on = s
            .gates
            .iter()
            .find(|(n, _)| *n == sub.name)
            .map(|(_, on)| *on);
        let gate = match (needed.gate, gate_on) {
            (Some(_), Some(false)) => continue,
            (Some(gate), _) => format!(" ({gate} is on)"),
            (None, _) => String::new(),
        };
        let now = if sent_now { ", as it is now" } else { "" };
        // A gate's fix is the property difference's; without one, the
        // subsection needs one, or the destination must read it.
        let fix = match (needed.gate, known) {
            (Some(_), _) => None,
            (None, false) => Some(format!(
                "gate subsection '{}' with a bool property (#[vmstate(subsection, needed = ..., \
                 gate = \"...\")]) that the compat set of the older release's machine types \
                 turns off",
                sub.name
            )),
            (None, true) => Some(format!(
                "keep subsection '{}' readable by both releases: its version within what the \
                 destination loads, its fields unchanged (new state goes in a new subsection)",
                sub.name
            )),
        };
        return Some((
            format!(
                "breaks whenever {} is true{now}: the source then sends subsection '{}'{gate}, \
                 {problem}",
                needed.function, sub.name
            ),
            fix,
        ));
    }
    None
}

/// Subsections below the device's own — of nested structs, elements, and
/// of subsections both sides have — that the source may send and the
/// destination cannot load. Only a device's own subsections can be gated,
/// so each of these breaks whenever its `needed` test is true.
fn nested_subsections(
    path: &str,
    src: &'static VmStateDescription,
    dst: &'static VmStateDescription,
) -> Option<(String, String)> {
    let unloadable = |path: &str,
                      a: &'static VmStateDescription,
                      b: &'static VmStateDescription|
     -> Option<(String, String)> {
        for sub in a.subsections {
            let needed = a
                .needed(sub.name)
                .map_or("its `needed` test", |n| n.function);
            let problem = match b.subsection(sub.name) {
                None => "which the destination does not know".to_owned(),
                Some(theirs) => match description_mismatch(sub, theirs) {
                    Some(why) => format!("which the destination reads otherwise: {why}"),
                    None => match nested_subsections(&field_path(path, sub.name), sub, theirs) {
                        Some(found) => return Some(found),
                        None => continue,
                    },
                },
            };
            return Some((
                format!(
                    "breaks whenever {needed} is true: the source then sends subsection '{}' \
                     in '{}', {problem}",
                    sub.name, a.name
                ),
                format!(
                    "keep subsection '{}' loadable by both releases, or send the new state \
                     from a subsection of the device gated by a bool property",
                    sub.name
                ),
            ));
        }
        None
    };
    for f in src.fields {
        let Some(theirs) = dst.fields.iter().find(|g| g.name == f.name) else {
            continue;
        };
        if let (Some(a), Some(b)) = (f.kind.nested(), theirs.kind.nested()) {
            let here = field_path(path, f.name);
            if let Some(found) = unloadable(&here, a, b).or_else(|| nested_subsections(&here, a, b))
            {
                return Some(found);
            }
        }
    }
    // The device's own subsections are `missing_subsection`'s; below them,
    // theirs.
    if path.is_empty() {
        for sub in src.subsections {
            if let Some(theirs) = dst.subsection(sub.name) {
                if let Some(found) = unloadable(sub.name, sub, theirs)
                    .or_else(|| nested_subsections(sub.name, sub, theirs))
                {
                    return Some(found);
                }
            }
        }
    }
    None
}

/// Whether a destination reading with description `dst` loads what the
/// source writes with `src`, from the descriptions alone: the version, then
/// the fields in order by name, kind and element size.
fn description_mismatch(
    src: &'static VmStateDescription,
    dst: &'static VmStateDescription,
) -> Option<String> {
    if src.version_id > dst.version_id {
        return Some(format!(
            "incoming version_id {} is too new for local version_id {}",
            src.version_id, dst.version_id
        ));
    }
    if src.version_id < dst.minimum_version_id {
        return Some(format!(
            "incoming version_id {} is too old for local minimum version_id {}",
            src.version_id, dst.minimum_version_id
        ));
    }
    fields_mismatch(src, dst)
}

/// The fields part of [`description_mismatch`]; a nested struct has no
/// version of its own on the wire, so only its fields are compared.
fn fields_mismatch(
    src: &'static VmStateDescription,
    dst: &'static VmStateDescription,
) -> Option<String> {
    let sent = |d: &'static VmStateDescription| {
        d.fields
            .iter()
            .filter(move |f| f.has_exists_test || f.version_id <= src.version_id)
    };
    let (mut a, mut b) = (sent(src), sent(dst));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return None,
            (Some(x), Some(y))
                if x.name == y.name
                    && std::mem::discriminant(&x.kind) == std::mem::discriminant(&y.kind)
                    && x.element_size() == y.element_size() =>
            {
                if let (FieldKind::Struct(p), FieldKind::Struct(q)) = (x.kind, y.kind) {
                    if let Some(why) = fields_mismatch(p, q) {
                        return Some(why);
                    }
                }
            }
            (Some(x), Some(y)) => {
                return Some(format!(
                    "the source sends field '{}', the destination reads '{}' there",
                    x.name, y.name
                ))
            }
            (Some(x), None) => {
                return Some(format!(
                    "the source sends field '{}', which the destination does not read",
                    x.name
                ))
            }
            (None, Some(y)) => {
                return Some(format!(
                    "the destination reads field '{}', which the source does not send",
                    y.name
                ))
            }
        }
    }
}

/// A list or map — whose length the guest decides at run time — that the
/// source accepts longer than the destination does: it breaks once it is
/// that long, whatever a fresh device holds. (A variable array's length
/// comes from the configuration, as virtio's queue count does: the length
/// the source sends is compared with the destination's bound instead.)
/// Nested structs and subsections both sides have are compared too.
fn bound_mismatch(
    path: &str,
    src: &'static VmStateDescription,
    dst: &'static VmStateDescription,
) -> Option<(String, String)> {
    // A variable array's length comes from the configuration, compared
    // where the layouts are; the stream's own counts are compared here.
    let bound = |k: &FieldKind| k.bound().filter(|_| k.counted_by_stream());
    for s in src.fields {
        let Some(d) = dst.fields.iter().find(|d| d.name == s.name) else {
            continue;
        };
        if let (Some(a), Some(b)) = (bound(&s.kind), bound(&d.kind)) {
            if a > b {
                let field = field_path(path, s.name);
                return Some((
                    format!(
                        "breaks whenever field '{field}' holds more than {b} elements: the \
                         source accepts up to {a}, the destination at most {b}"
                    ),
                    format!(
                        "keep max = {b} for '{field}' in the newer release (or migrate only \
                         while it holds at most {b})"
                    ),
                ));
            }
        }
        if let (FieldKind::Struct(a), FieldKind::Struct(b)) = (s.kind, d.kind) {
            if let Some(cause) = bound_mismatch(&field_path(path, s.name), a, b) {
                return Some(cause);
            }
        }
    }
    for a in src.subsections {
        if let Some(b) = dst.subsection(a.name) {
            if let Some(cause) = bound_mismatch(path, a, b) {
                return Some(cause);
            }
        }
    }
    None
}

/// What a destination whose own layout is `own` (described by `vmsd`) reads
/// of a stream at `version` whose source wrote `written`: its layout
/// without the fields added after that version, and with the fields it
/// keeps only to read older streams (QEMU's `mig_X`, decided by a test of
/// what the source sent) where the source wrote `X`. The checker and the
/// pre-flight both ask it.
pub(super) fn reads_at(
    mut own: Layout,
    vmsd: &'static VmStateDescription,
    version: u32,
    written: &Layout,
) -> Layout {
    own.fields.retain(|f| {
        vmsd.fields
            .iter()
            .find(|x| x.name == f.name)
            .is_none_or(|x| x.has_exists_test || x.version_id <= version)
    });
    for (i, f) in vmsd.fields.iter().enumerate() {
        if !f.has_exists_test || own.fields.iter().any(|l| l.name == f.name) {
            continue;
        }
        let Some(plain) = older_streams_only(f.name) else {
            continue;
        };
        if !written.fields.iter().any(|w| w.name == plain) {
            continue;
        }
        // Only a scalar can be described without a value.
        let FieldKind::Scalar(scalar) = f.kind else {
            continue;
        };
        let field = FieldLayout::value(f.name, scalar.info_name(f.must_match), scalar.size());
        // Before the first field declared after it that the layout has.
        let at = vmsd.fields[i + 1..]
            .iter()
            .find_map(|later| own.fields.iter().position(|l| l.name == later.name))
            .unwrap_or(own.fields.len());
        own.fields.insert(at, field);
    }
    own
}

/// Where what the source writes and what the destination reads part.
pub(super) struct LayoutMismatch {
    /// Where and how, in words.
    pub text: String,
    /// Whether it is a field of the same shape read into another field the
    /// source also has: a load that gets there completes and misreads.
    pub misread: bool,
}

impl LayoutMismatch {
    fn new(text: String) -> Self {
        LayoutMismatch {
            text,
            misread: false,
        }
    }
}

/// Compare what the source writes with what the destination reads.
pub(super) fn layout_mismatch(
    path: &str,
    src: &Layout,
    dst: &Layout,
    dst_vmsd: &'static VmStateDescription,
) -> Option<LayoutMismatch> {
    let at = |name: &str| field_path(path, name);
    // Fields whose element count the stream decides (lists, maps, marked
    // slots) load whatever count the source sends: their entries are not
    // compared by count.
    let counted_by_stream = |name: &str| {
        dst_vmsd
            .fields
            .iter()
            .any(|f| f.name == name && f.kind.counted_by_stream())
    };
    let src_fields: Vec<_> = src
        .fields
        .iter()
        .filter(|f| !counted_by_stream(&f.name))
        .collect();
    let dst_fields: Vec<_> = dst
        .fields
        .iter()
        .filter(|f| !counted_by_stream(&f.name))
        .collect();
    for i in 0..src_fields.len().max(dst_fields.len()) {
        match (src_fields.get(i).copied(), dst_fields.get(i).copied()) {
            (Some(a), Some(b)) => {
                // A variable array: the destination reads as many elements
                // as the source sends, up to its declared maximum.
                let var_max = dst_vmsd.fields.iter().find_map(|f| match f.kind {
                    FieldKind::VarArray { max, .. } if f.name == b.name => Some(max),
                    _ => None,
                });
                if let Some(max) = var_max {
                    let sent = a.array_len.unwrap_or(a.size);
                    if a.name == b.name && a.info == b.info && sent <= max {
                        continue;
                    }
                    if a.name == b.name && sent > max {
                        return Some(LayoutMismatch::new(format!(
                            "the source sends {sent} elements of field '{}'; the destination \
                             accepts at most {max}",
                            at(&a.name)
                        )));
                    }
                }
                let source_has = |n: &str| src.fields.iter().any(|f| f.name == n);
                let destination_has = |n: &str| dst.fields.iter().any(|f| f.name == n);
                match reading(a.as_shape(), b.as_shape(), source_has, destination_has) {
                    // Names are not on the wire: a renamed field reads the
                    // same state.
                    Reading::Alike | Reading::Renamed => {}
                    // A field of the same shape read into another the
                    // source also has: the load completes, misread.
                    r @ (Reading::Misread | Reading::Differs) => {
                        return Some(LayoutMismatch {
                            text: format!(
                                "the source sends field '{}' ({}), the destination reads '{}' \
                                 ({}) there",
                                at(&a.name),
                                a.shape(),
                                at(&b.name),
                                b.shape()
                            ),
                            misread: r == Reading::Misread,
                        })
                    }
                }
                if let (Some(sa), Some(sb)) = (&a.nested, &b.nested) {
                    let inner = nested_vmsd(dst_vmsd, &b.name).unwrap_or(dst_vmsd);
                    if let Some(cause) = layout_mismatch(&at(&a.name), sa, sb, inner) {
                        return Some(cause);
                    }
                }
            }
            (Some(a), None) => {
                return Some(LayoutMismatch::new(format!(
                    "the source sends field '{}' ({}) that the destination does not read",
                    at(&a.name),
                    a.shape()
                )))
            }
            (None, Some(b)) => {
                return Some(LayoutMismatch::new(format!(
                    "the destination reads field '{}' ({}) that the source does not send",
                    at(&b.name),
                    b.shape()
                )))
            }
            (None, None) => {}
        }
    }
    for s in &src.subsections {
        let Some(sub) = dst_vmsd.subsection(&s.name) else {
            return Some(LayoutMismatch::new(format!(
                "VM subsection '{}' in '{}' does not exist on the destination",
                s.name, dst_vmsd.name
            )));
        };
        if let Some(mine) = dst.subsections.iter().find(|x| x.name == s.name) {
            if let Some(cause) = layout_mismatch(&s.name, s, mine, sub) {
                return Some(cause);
            }
        }
    }
    None
}

fn nested_vmsd(
    vmsd: &'static VmStateDescription,
    field: &str,
) -> Option<&'static VmStateDescription> {
    vmsd.fields
        .iter()
        .find(|f| f.name == field)
        .and_then(|f| f.kind.nested())
}

/// The properties whose values differ between the two sides of each
/// device, by the pre-flight's rule: not those that may differ (host
/// settings, switches without effect on the type), values declared alike,
/// nor a property one side lacks where a compat set or the type's
/// `absent` says that side behaves alike.
fn property_differences(src: &Machine<'_>, dst: &Machine<'_>) -> Vec<PropertyDifference> {
    use super::property_diff::{
        destination_property_differs, property_preflights, source_property_differs,
        PropertyPreflight,
    };
    use crate::resolve::DeviceInstance;
    let mut out = Vec::new();
    for s in &src.devices {
        let Some(d) = dst.devices.iter().find(|d| d.label == s.label) else {
            continue;
        };
        let (mine, theirs) = (
            property_preflights(s, &src.sources),
            property_preflights(d, &dst.sources),
        );
        let mut push = |p: &PropertyPreflight, of: &DeviceInstance| {
            let Some((owner, def)) = of.object.type_info().find_property(&p.name) else {
                return;
            };
            out.push(PropertyDifference {
                device: s.label.clone(),
                owner: owner.name,
                property: def.name,
                source: s.configured(def.name).map(|v| v.to_string()),
                destination: d.configured(def.name).map(|v| v.to_string()),
            });
        };
        for p in &mine {
            if source_property_differs(p, theirs.iter().find(|t| t.name == p.name)) {
                push(p, s);
            }
        }
        for p in &theirs {
            if !mine.iter().any(|m| m.name == p.name) && destination_property_differs(p) {
                push(p, d);
            }
        }
    }
    out
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
