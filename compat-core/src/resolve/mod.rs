//! Resolution of a machine's devices: for each property, last wins —
//! class default → the machine type's compat globals → user `-global` →
//! the instance's own `-device` options — with the provenance of every
//! value kept, so [`Machine::explain`] can say why a property has its value.
//!
//! A global applies to every device whose type is, or derives from, its
//! driver; within the machine's list and within the user's list,
//! registration order wins (QEMU's `object_apply_global_props`). Globals
//! are indexed by driver and each device looks up only its own ancestors,
//! so resolution costs devices × matching globals, not devices × globals.

use std::fmt;

use crate::compat::GlobalProperty;
use crate::device::{DeviceObject, RealizeError, RegistryError};
use crate::machine::MachineType;
use crate::property::cmdline::{CmdlineError, DeviceOption, GlobalOption};
use crate::property::{PropertyError, PropertyValue};
use crate::release::{Release, UnknownMachine};

mod explain;
mod instantiate;
mod placement;

pub use explain::{ExplainError, Explanation, Step};
pub use instantiate::{cpu_device, host_cpu_option};
pub use placement::{PciAddress, SectionId};

/// Where a property value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// The device type's class default.
    Default {
        /// The type that declares the property.
        declared_by: &'static str,
    },
    /// A compat global of the machine type.
    Compat {
        /// The compat set (`hw_compat_7_2`).
        set: &'static str,
        /// The machine type that applied it.
        machine: String,
        /// The global itself.
        global: GlobalProperty,
    },
    /// A user `-global`.
    Global {
        /// The global as given, `driver.property=value`.
        text: String,
        /// Its position among the user's globals.
        index: usize,
    },
    /// The instance's own `-device` options.
    Device {
        /// The `-device` string.
        spec: String,
    },
    /// The device itself, when it realized: a value its options leave to
    /// the device (`num-queues` auto becomes one queue per vCPU), read back
    /// as QEMU reads it back.
    Realized,
    /// Taken from an incoming migration: a sticky property whose value the
    /// running guest carries from host to host until it is powered off.
    Adopted {
        /// The release whose machine type first gave the value.
        first_set_by: String,
    },
}

impl Source {
    /// What kind of source it is: `default`, `compat`, `global` or
    /// `device`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Default { .. } => "default",
            Source::Compat { .. } => "compat",
            Source::Global { .. } => "global",
            Source::Device { .. } => "device",
            Source::Adopted { .. } => "adopted",
            Source::Realized => "realized",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default { declared_by } => write!(f, "default ({declared_by})"),
            Source::Compat { set, machine, .. } => write!(f, "{set} applied by {machine}"),
            Source::Global { text, .. } => write!(f, "-global {text}"),
            Source::Device { spec } => write!(f, "-device {spec}"),
            Source::Realized => f.write_str("the device when it realized"),
            Source::Adopted { first_set_by } => write!(
                f,
                "adopted from the incoming migration, first set by release {first_set_by}"
            ),
        }
    }
}

/// A value set on a device by something other than its class default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The property.
    pub property: &'static str,
    /// The value set.
    pub value: PropertyValue,
    /// Index into [`Machine::sources`].
    pub source: usize,
}

/// One device of a resolved machine.
pub struct DeviceInstance {
    /// Its `id=`, if given.
    pub id: Option<String>,
    /// Its id, or `driver[N]` for the N-th instance of that type without one.
    pub label: String,
    /// Whether the machine type created it.
    pub onboard: bool,
    /// The instance, with every property resolved.
    pub object: Box<dyn DeviceObject>,
    /// Every value set on it, in order (defaults not included).
    pub settings: Vec<Setting>,
    /// Where it sits, for a device on a bus: QEMU's device path
    /// (`0000:00:03.0`).
    pub dev_path: Option<String>,
    /// Its migration section's name and instance, for a device that
    /// migrates (`0000:00:03.0/pcie-root-port` 0).
    pub section: Option<SectionId>,
}

impl DeviceInstance {
    /// The value property `name` was configured with — its last setting,
    /// else its default — before the device realized: what a lock
    /// records and two sides of a migration compare. (Reading the property
    /// gives what the device made of it, e.g. `num-queues` auto as the
    /// queues it created.) `None` if the type has no such property.
    pub fn configured(&self, name: &str) -> Option<PropertyValue> {
        match self.settings.iter().rev().find(|s| s.property == name) {
            Some(s) => Some(s.value.clone()),
            None => self
                .object
                .type_info()
                .find_property(name)
                .map(|(_, def)| def.default_value()),
        }
    }
}

impl fmt::Debug for DeviceInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceInstance")
            .field("label", &self.label)
            .field("type", &self.object.type_info().name)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A machine of a release, with its devices resolved.
#[derive(Debug)]
pub struct Machine<'r> {
    /// The release.
    pub release: &'r Release,
    /// The machine type.
    pub machine_type: &'r MachineType,
    /// Every source a setting refers to: the machine's compat globals, the
    /// user's globals, and each device's `-device` string.
    pub sources: Vec<Source>,
    /// The devices: on-board ones first, then the user's in order.
    pub devices: Vec<DeviceInstance>,
    /// What QEMU would warn about: a deprecated machine type, a user global
    /// that matched no device.
    pub warnings: Vec<String>,
    /// The host's CPU features the machine started on.
    pub host_features: Vec<String>,
    /// Its `-cpu`, if one was given.
    pub cpu: Option<String>,
}

/// A configuration problem found while resolving.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A malformed option string.
    #[error(transparent)]
    Syntax(#[from] CmdlineError),
    /// An unknown or abstract device type.
    #[error(transparent)]
    Type(#[from] RegistryError),
    /// An unknown property or a value its kind rejects.
    #[error(transparent)]
    Property(#[from] PropertyError),
}

/// Why a machine could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The release has no such machine type.
    #[error(transparent)]
    Machine(#[from] UnknownMachine),
    /// A user `-global` sets a property the device it applies to lacks, or
    /// a value its kind rejects (QEMU's "can't apply global").
    #[error("can't apply global {}: {error}", crate::text::escape::escaped(.global))]
    Global {
        /// The global as given.
        global: String,
        /// What is wrong.
        error: Box<ConfigError>,
    },
    /// A compat global of the machine type does not apply (the release was
    /// checked when built, so this means types changed underneath it).
    #[error("machine {machine}: compat set '{set}', entry {global}: {error}")]
    Compat {
        /// The machine type.
        machine: String,
        /// The compat set.
        set: &'static str,
        /// The entry.
        global: GlobalProperty,
        /// What is wrong.
        error: Box<ConfigError>,
    },
    /// Two devices with one id (QEMU's "Duplicate device ID").
    #[error("-device {}: Duplicate ID '{id}' for device", crate::text::escape::escaped(.spec))]
    DuplicateId {
        /// The `-device` string.
        spec: String,
        /// The id.
        id: String,
    },
    /// An id that is not an identifier (a letter, then letters, digits,
    /// `-`, `.`, `_`), as QEMU requires: other ids could collide with the
    /// names given to devices without one.
    #[error("-device {}: Parameter 'id' expects an identifier", crate::text::escape::escaped(.spec))]
    InvalidId {
        /// The `-device` string.
        spec: String,
    },
    /// `-cpu` was given, and the release has no CPU device type.
    #[error("-cpu {}: release {release} has no CPU device type", crate::text::escape::escaped(.spec))]
    NoCpuType {
        /// The `-cpu` option.
        spec: String,
        /// The release.
        release: String,
    },
    /// A device refused to realize.
    #[error("-device {}: realize failed: {error}", crate::text::escape::escaped(.spec))]
    Realize {
        /// The `-device` string.
        spec: String,
        /// Why.
        error: RealizeError,
    },
    /// A device cannot be placed on a bus: no bus of its kind, an unknown
    /// `bus=`, an address taken or out of range (QEMU's messages).
    #[error("-device {}: {message}", crate::text::escape::escaped(.spec))]
    Placement {
        /// The `-device` string.
        spec: String,
        /// What is wrong.
        message: String,
    },
    /// A `-device TYPE,help` asked for the type's properties instead of a
    /// machine: QEMU prints them and exits. The text is the help.
    #[error("{text}")]
    HelpRequested {
        /// The properties of the type, as `-device TYPE,help` lists them.
        text: String,
    },
    /// A `-device` (or on-board device) is wrong.
    #[error("-device {}: {error}", crate::text::escape::escaped(.spec))]
    Device {
        /// The `-device` string.
        spec: String,
        /// What is wrong.
        error: Box<ConfigError>,
    },
}

/// A machine to build: the machine type, vCPUs, host, `-cpu`, `-global`s and
/// `-device`s. Both sides of a migration are given the same one (but the
/// host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineConfig {
    /// `-M`.
    pub machine: String,
    /// `-smp`.
    pub smp: u16,
    /// The host CPU's features.
    pub host_features: Vec<String>,
    /// `-cpu MODEL[,+feature][,-feature]`, creating the `x86-cpu` device.
    pub cpu: Option<String>,
    /// `-global`s.
    pub globals: Vec<GlobalOption>,
    /// `-device`s.
    pub devices: Vec<DeviceOption>,
    /// Sticky property values taken from an incoming migration, applied
    /// last (`migration::incoming`); empty for a cold boot.
    pub adopted: Vec<Adoption>,
}

/// A sticky property value a destination takes from an incoming
/// migration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Adoption {
    /// The device's label (its id, or the name the machine gave it).
    pub device: String,
    /// The property.
    pub property: String,
    /// The value, as text.
    pub value: String,
    /// The release whose machine type first gave the value.
    pub first_set_by: String,
}

impl Adoption {
    /// Device `device`'s property `property` takes `value`, first given by
    /// release `first_set_by`.
    pub fn new(device: &str, property: &str, value: &str, first_set_by: &str) -> Self {
        Adoption {
            device: device.to_owned(),
            property: property.to_owned(),
            value: value.to_owned(),
            first_set_by: first_set_by.to_owned(),
        }
    }
}

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig {
            machine: String::new(),
            smp: 1,
            host_features: Vec::new(),
            cpu: None,
            globals: Vec::new(),
            devices: Vec::new(),
            adopted: Vec::new(),
        }
    }
}
