//! The fixes a failed prediction proposes, in the release's own terms: the
//! compat entry in the set of the newer machine type's own step, the
//! `-global` for releases already shipped, a machine type of the
//! destination that reads the source's streams.

use super::{at_class_default, Prediction, PropertyDifference, Side};
use crate::release::Release;
use crate::resolve::{Machine, MachineConfig};
use crate::stream::StreamFormat;

impl Prediction {
    /// This prediction, failed for `cause` in `device`.
    pub(super) fn fail(mut self, cause: String, device: Option<String>) -> Self {
        self.works = false;
        self.cause = Some(cause);
        self.device = device;
        self
    }

    /// Propose fixes from the differences that explain the failure.
    pub(super) fn with_fixes(
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
                value
                    .as_deref()
                    .is_some_and(|v| at_class_default(machine, d, v))
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
        self.machine_type_fixes(dst, src_config, source, destination);
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

    /// A destination machine type of the family that writes and reads
    /// streams as the source's does, where flags or the stream format
    /// explain the failure.
    fn machine_type_fixes(
        &mut self,
        dst: &Release,
        src_config: &MachineConfig,
        source: &Machine<'_>,
        destination: &Machine<'_>,
    ) {
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
    }
}
