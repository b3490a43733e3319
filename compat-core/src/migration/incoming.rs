//! A destination that starts from an incoming migration: it reads the
//! source's pre-flight first and, for each property declared sticky whose
//! value differs and that its policy lets it take, starts its devices with
//! the source's value — recorded as adopted, with the release that first
//! gave it, and sent on with the next migration. A cold boot resolves as
//! always. This is QEMU's advice for a broken compat entry ("start the
//! guest with `x-pcie-err-unc-mask=on` on every later host until it is
//! powered off") done by the destination, so that nobody has to remember.

use std::collections::HashMap;

use super::preflight::{self, DifferenceKind, Preflight};
use super::MigrationError;
use crate::device::DeviceTypeInfo;
use crate::release::Release;
use crate::resolve::{Adoption, Machine, MachineConfig};
use crate::stream;

/// Which sticky property values a destination takes from an incoming
/// migration: never silently — a policy says so.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StickyPolicy {
    /// Take none: a difference is refused as any other.
    Refuse,
    /// Take those named `TYPE.PROPERTY` (a type or one it derives from,
    /// as a `-global` names it).
    Listed(Vec<String>),
    /// Take every property declared sticky.
    Every,
}

impl StickyPolicy {
    /// Whether property `property` of a device of `type_name` may be
    /// taken (it is declared sticky; the caller checked).
    fn allows(&self, release: &Release, type_name: &str, property: &str) -> bool {
        match self {
            StickyPolicy::Refuse => false,
            StickyPolicy::Every => true,
            StickyPolicy::Listed(names) => {
                let Some(ty) = release.registry().get(type_name) else {
                    return false;
                };
                names.iter().any(|n| {
                    n.rsplit_once('.')
                        .is_some_and(|(t, p)| p == property && ty.is_a(t))
                })
            }
        }
    }
}

/// A machine started from an incoming migration, with what it took.
#[non_exhaustive]
pub struct Incoming<'r> {
    /// The machine, its devices loaded.
    pub machine: Machine<'r>,
    /// The sticky values it took from the source.
    pub adopted: Vec<Adoption>,
}

impl std::fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("release", &self.machine.release.name())
            .field("machine", &self.machine.machine_type.name)
            .field("adopted", &self.adopted)
            .finish_non_exhaustive()
    }
}

/// Start `release` with `config` for the stream `bytes`, taking what
/// `policy` allows of the source's sticky values, and load the stream.
pub fn incoming<'r>(
    release: &'r Release,
    config: &MachineConfig,
    bytes: &[u8],
    policy: &StickyPolicy,
) -> Result<Incoming<'r>, MigrationError> {
    let start = |config: &MachineConfig| {
        release
            .instantiate_config(config)
            .map_err(|e| MigrationError::Destination(Box::new(e)))
    };
    let mut machine = start(config)?;
    let incoming = stream::preflight_of(bytes).and_then(|json| Preflight::from_json(json).ok());
    let mut adopted = Vec::new();
    if let Some(incoming) = incoming {
        let differences = preflight::check(&incoming, &mut machine);
        // Indexes: a pre-flight from another host may be large.
        let types: HashMap<&str, &'static DeviceTypeInfo> = machine
            .devices
            .iter()
            .map(|d| (d.label.as_str(), d.object.type_info()))
            .collect();
        let sent: HashMap<&str, &preflight::DevicePreflight> = incoming
            .devices
            .iter()
            .map(|d| (d.label.as_str(), d))
            .collect();
        for d in differences {
            let (DifferenceKind::Property, Some(label)) = (d.kind, &d.device) else {
                continue;
            };
            let Some(&ty) = types.get(label.as_str()) else {
                continue;
            };
            let sticky = ty.property(&d.item).is_ok_and(|(_, def)| def.sticky);
            if !sticky || !policy.allows(release, ty.name, &d.item) {
                continue;
            }
            let first_set_by = sent
                .get(label.as_str())
                .and_then(|x| x.properties.iter().find(|p| p.name == d.item))
                .and_then(|p| p.first_set_by.clone())
                .unwrap_or_else(|| incoming.release.clone());
            adopted.push(Adoption::new(label, &d.item, &d.source, &first_set_by));
        }
        if !adopted.is_empty() {
            let mut config = config.clone();
            config.adopted.extend(adopted.iter().cloned());
            machine = start(&config)?;
        }
    }
    machine
        .load(bytes)
        .map_err(|e| MigrationError::Load(Box::new(e)))?;
    Ok(Incoming { machine, adopted })
}

/// Migrate a guest along `hops` (a release and the configuration it starts
/// with each): the first starts cold; each next one starts from the stream
/// the one before saved with a pre-flight, taking what `policy` allows.
/// One entry per hop after the first — the values it adopted, or why it
/// failed — up to and including the first that fails.
pub fn chain(
    hops: &[(&Release, MachineConfig)],
    policy: &StickyPolicy,
) -> Vec<Result<Vec<Adoption>, MigrationError>> {
    let mut out = Vec::new();
    let Some((first, config)) = hops.first() else {
        return out;
    };
    let mut machine = match first.instantiate_config(config) {
        Ok(m) => m,
        Err(e) => {
            out.push(Err(MigrationError::Source(Box::new(e))));
            return out;
        }
    };
    for (release, config) in &hops[1..] {
        let arrived = machine
            .save_with_preflight()
            .map_err(MigrationError::Save)
            .and_then(|bytes| incoming(release, config, &bytes, policy));
        match arrived {
            Ok(arrived) => {
                out.push(Ok(arrived.adopted));
                machine = arrived.machine;
            }
            Err(e) => {
                out.push(Err(e));
                break;
            }
        }
    }
    out
}
