//! A release against itself: configurations it accepts whose stream it
//! cannot load.

use std::collections::BTreeMap;

use super::{Direction, Finding, FindingKind};
use crate::release::Release;

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
                    let p =
                        crate::migration::check::check(current, &config, current, &config, None);
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
                        "refuse {what} above {max} when realizing {}, so that no configuration \
                         makes it send more than a load accepts",
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
