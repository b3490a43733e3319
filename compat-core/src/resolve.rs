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

use std::collections::HashMap;
use std::fmt;

use crate::cmdline::{parse_device, CmdlineError, DeviceOption, GlobalOption};
use crate::compat::GlobalProperty;
use crate::device::{DeviceObject, DeviceTypeInfo, RegistryError};
use crate::machine::{Board, MachineType};
use crate::property::{PropertyError, PropertyValue};
use crate::release::{Release, UnknownMachine};
use crate::stream::{self, LoadError, LoadReport, SaveError, Section, StreamOptions};

/// Where a property value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default { declared_by } => write!(f, "default ({declared_by})"),
            Source::Compat { set, machine, .. } => write!(f, "{set} applied by {machine}"),
            Source::Global { text, .. } => write!(f, "-global {text}"),
            Source::Device { spec } => write!(f, "-device {spec}"),
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
}

/// A configuration problem found while resolving.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
pub enum ResolveError {
    /// The release has no such machine type.
    #[error(transparent)]
    Machine(#[from] UnknownMachine),
    /// A user `-global` names an unknown type or property, or a bad value.
    #[error("-global {global}: {error}")]
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
    #[error("-device {spec}: Duplicate ID '{id}' for device")]
    DuplicateId {
        /// The `-device` string.
        spec: String,
        /// The id.
        id: String,
    },
    /// A device refused to realize.
    #[error("-device {spec}: realize failed: {message}")]
    Realize {
        /// The `-device` string.
        spec: String,
        /// Why.
        message: String,
    },
    /// A `-device` (or on-board device) is wrong.
    #[error("-device {spec}: {error}")]
    Device {
        /// The `-device` string.
        spec: String,
        /// What is wrong.
        error: Box<ConfigError>,
    },
}

/// One global, checked and parsed once, ready to apply.
struct Prepared {
    property: &'static str,
    value: PropertyValue,
    source: usize,
    /// For user globals: the warning text if it matches nothing.
    unused_warning: Option<String>,
    used: bool,
}

impl Release {
    /// Build machine `machine` with the user's `-global`s and `-device`s,
    /// one vCPU and no `-cpu`.
    pub fn instantiate(
        &self,
        machine: &str,
        globals: &[GlobalOption],
        devices: &[DeviceOption],
    ) -> Result<Machine<'_>, ResolveError> {
        self.instantiate_config(&MachineConfig {
            machine: machine.to_owned(),
            globals: globals.to_vec(),
            devices: devices.to_vec(),
            ..MachineConfig::default()
        })
    }

    /// Build the machine `config` describes.
    pub fn instantiate_config(&self, config: &MachineConfig) -> Result<Machine<'_>, ResolveError> {
        let (globals, devices) = (&config.globals[..], &config.devices[..]);
        let machine_type = self.machine(&config.machine)?;
        let board = Board {
            machine: machine_type,
            smp: config.smp,
            host_features: &config.host_features,
        };
        let registry = self.registry();
        let mut sources: Vec<Source> = Vec::new();
        let mut prepared: Vec<Prepared> = Vec::new();
        let mut by_driver: HashMap<&'static str, Vec<usize>> = HashMap::new();

        // Prepare one global: find its type and property, parse its value.
        // `unused` is the warning if it matches no device (user globals
        // only; QEMU stays silent for hotpluggable types).
        let mut prepare = |driver: &str,
                           property: &str,
                           value: &str,
                           source: Source,
                           unused: Option<String>|
         -> Result<(), ConfigError> {
            let ty = registry.lookup(driver)?;
            let (_, def) = ty.property(property)?;
            let value = def.parse(ty.name, value)?;
            let unused_warning = unused.filter(|_| !ty.hotpluggable);
            sources.push(source);
            by_driver.entry(ty.name).or_default().push(prepared.len());
            prepared.push(Prepared {
                property: def.name,
                value,
                source: sources.len() - 1,
                unused_warning,
                used: false,
            });
            Ok(())
        };

        for entry in &machine_type.compat_props {
            let g = entry.global;
            let source = Source::Compat {
                set: entry.set,
                machine: machine_type.name.clone(),
                global: g,
            };
            prepare(g.driver, g.property, g.value, source, None).map_err(|error| {
                ResolveError::Compat {
                    machine: machine_type.name.clone(),
                    set: entry.set,
                    global: g,
                    error: Box::new(error),
                }
            })?;
        }
        for (index, g) in globals.iter().enumerate() {
            let source = Source::Global {
                text: g.to_string(),
                index,
            };
            prepare(
                &g.driver,
                &g.property,
                &g.value,
                source,
                Some(format!("global {g} not used")),
            )
            .map_err(|error| ResolveError::Global {
                global: g.to_string(),
                error: Box::new(error),
            })?;
        }

        let cpu = config.cpu.as_deref().map(cpu_device).transpose()?;
        let onboard: Vec<(DeviceOption, String)> = machine_type
            .onboard
            .iter()
            .copied()
            .chain(cpu.as_deref())
            .map(|spec| {
                parse_device(spec)
                    .map(|opt| (opt, (*spec).to_owned()))
                    .map_err(|e| ResolveError::Device {
                        spec: (*spec).to_owned(),
                        error: Box::new(e.into()),
                    })
            })
            .collect::<Result<_, _>>()?;
        let user = devices.iter().map(|d| (d.clone(), d.to_string()));
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut instances = Vec::with_capacity(onboard.len() + devices.len());
        let onboard_count = onboard.len();
        for (n, (opt, spec)) in onboard.into_iter().chain(user).enumerate() {
            let fail = |error: ConfigError| ResolveError::Device {
                spec: spec.clone(),
                error: Box::new(error),
            };
            let ty = registry.lookup(&opt.driver).map_err(|e| fail(e.into()))?;
            let mut object = registry.create(ty.name).map_err(|e| fail(e.into()))?;
            let mut settings = Vec::new();

            // Globals of every ancestor, in registration order.
            let mut matching: Vec<usize> = ty
                .ancestors()
                .filter_map(|t| by_driver.get(t.name))
                .flatten()
                .copied()
                .collect();
            matching.sort_unstable();
            for i in matching {
                let p = &mut prepared[i];
                object
                    .set(p.property, &p.value)
                    .map_err(|e| fail(e.into()))?;
                p.used = true;
                settings.push(Setting {
                    property: p.property,
                    value: p.value.clone(),
                    source: p.source,
                });
            }

            // The instance's own options, last.
            sources.push(Source::Device { spec: spec.clone() });
            let source = sources.len() - 1;
            for o in &opt.properties {
                let (_, def) = ty.property(&o.key).map_err(|e| fail(e.into()))?;
                let value = def.parse(ty.name, &o.value).map_err(|e| fail(e.into()))?;
                object.set(def.name, &value).map_err(|e| fail(e.into()))?;
                settings.push(Setting {
                    property: def.name,
                    value,
                    source,
                });
            }

            object
                .realize(&board)
                .map_err(|message| ResolveError::Realize {
                    spec: spec.clone(),
                    message,
                })?;

            if let Some(id) = &opt.id {
                if instances
                    .iter()
                    .any(|d: &DeviceInstance| d.id.as_deref() == Some(id))
                {
                    return Err(ResolveError::DuplicateId {
                        spec: spec.clone(),
                        id: id.clone(),
                    });
                }
            }
            let label = match &opt.id {
                Some(id) => id.clone(),
                None => {
                    let count = counts.entry(ty.name.to_owned()).or_insert(0);
                    *count += 1;
                    format!("{}[{}]", ty.name, *count - 1)
                }
            };
            instances.push(DeviceInstance {
                id: opt.id.clone(),
                label,
                onboard: n < onboard_count,
                object,
                settings,
            });
        }

        let mut warnings = Vec::new();
        if let Some(reason) = &machine_type.deprecation {
            warnings.push(format!(
                "Machine type '{}' is deprecated: {reason}",
                machine_type.name
            ));
        }
        warnings.extend(
            prepared
                .iter()
                .filter(|p| !p.used)
                .filter_map(|p| p.unused_warning.clone()),
        );
        Ok(Machine {
            release: self,
            machine_type,
            sources,
            devices: instances,
            warnings,
        })
    }

    /// Why property `property` of the device `device_spec` creates has its
    /// value on machine `machine` with `globals`.
    pub fn explain(
        &self,
        machine: &str,
        globals: &[GlobalOption],
        device_spec: &str,
        property: &str,
    ) -> Result<Explanation, ExplainError> {
        let opt = parse_device(device_spec).map_err(|e| ResolveError::Device {
            spec: device_spec.to_owned(),
            error: Box::new(e.into()),
        })?;
        let m = self.instantiate(machine, globals, std::slice::from_ref(&opt))?;
        let index = m.devices.len() - 1;
        m.explain_device(index, property)
    }
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
        }
    }
}

/// The CPU device QEMU's `-cpu MODEL,+f,-f,f=v` creates: type `x86-cpu`
/// with `model=MODEL` and each feature as a bool property (QEMU turns the
/// `+f`/`-f` shorthand into properties the same way).
pub fn cpu_device(spec: &str) -> Result<String, ResolveError> {
    let bad = |message: String| ResolveError::Device {
        spec: format!("-cpu {spec}"),
        error: Box::new(ConfigError::Syntax(CmdlineError {
            option: "-cpu",
            input: spec.to_owned(),
            offset: 0,
            message,
            found: spec.to_owned(),
        })),
    };
    let mut parts = spec.split(',');
    let model = parts
        .next()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| bad("expected MODEL[,+FEATURE][,-FEATURE]".into()))?;
    let mut out = format!("x86-cpu,id=cpu0,model={model}");
    for part in parts {
        let option = if let Some(f) = part.strip_prefix('+') {
            format!("{f}=on")
        } else if let Some(f) = part.strip_prefix('-') {
            format!("{f}=off")
        } else if part.contains('=') {
            part.to_owned()
        } else {
            return Err(bad(format!(
                "expected +FEATURE, -FEATURE or FEATURE=VALUE, got '{part}'"
            )));
        };
        out.push(',');
        out.push_str(&option);
    }
    Ok(out)
}

/// The idstr of a device's section: `<label>/<vmsd name>` (QEMU's
/// `<device path>/<vmsd name>`).
pub fn section_idstr(label: &str, vmsd: &str) -> String {
    format!("{label}/{vmsd}")
}

impl Machine<'_> {
    /// How this machine's streams look: QEMU's defaults, or — for machine
    /// types with the `xen` flag — what Xen's `xen-save-devices-state`
    /// writes (`qemu_save_device_state`, with the Xen accelerator's compat
    /// properties `send-configuration=off`, `send-section-footer=off`):
    /// no configuration section, no footers, no vmdesc trailer.
    pub fn stream_options(&self) -> StreamOptions {
        if self.machine_type.flag("xen") {
            StreamOptions {
                machine: None,
                footers: false,
                vmdesc: false,
            }
        } else {
            StreamOptions::for_machine(self.machine_type.name.clone())
        }
    }

    /// The sections of the devices that migrate, in creation order: idstr
    /// `<label>/<vmsd name>` (QEMU's `<device path>/<vmsd name>`).
    fn sections(&mut self) -> Vec<Section<'_>> {
        self.devices
            .iter_mut()
            .filter_map(|d| {
                let label = d.label.clone();
                d.object.migratable().map(|state| Section {
                    idstr: section_idstr(&label, state.vmstate_description().name),
                    instance_id: 0,
                    state,
                })
            })
            .collect()
    }

    /// Save every migrating device into a stream.
    pub fn save(&mut self) -> Result<Vec<u8>, SaveError> {
        let opts = self.stream_options();
        stream::save(&mut self.sections(), &opts)
    }

    /// Load a stream into the devices, transactionally: on any error no
    /// device has changed.
    pub fn load(&mut self, bytes: &[u8]) -> Result<LoadReport, LoadError> {
        let opts = self.stream_options();
        stream::load(bytes, &mut self.sections(), &opts)
    }
}

/// Why `explain` could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// The machine could not be built.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No device has that id or type.
    #[error("no device '{device}' on machine {machine}; devices are: {}", known.join(", "))]
    NoDevice {
        /// What was asked for.
        device: String,
        /// The machine type.
        machine: String,
        /// The labels of its devices.
        known: Vec<String>,
    },
    /// The device has no such property.
    #[error(transparent)]
    Property(#[from] PropertyError),
}

/// One link of an explanation: a value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The value.
    pub value: PropertyValue,
    /// Its source.
    pub source: Source,
}

/// The answer to "why is this property this value?": every value it had, in
/// order, each with its source; the last is the value in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The device's label.
    pub device: String,
    /// The device's type.
    pub type_name: &'static str,
    /// The property.
    pub property: &'static str,
    /// The release.
    pub release: String,
    /// The machine type.
    pub machine: String,
    /// The chain, default first.
    pub steps: Vec<Step>,
}

impl Explanation {
    /// The value in effect.
    pub fn value(&self) -> &PropertyValue {
        &self
            .steps
            .last()
            .expect("an explanation starts with the default")
            .value
    }

    /// The chain on one line: `default on (pci-device) → off by hw_compat_7_2
    /// applied by pc-q35-7.2`.
    pub fn summary(&self) -> String {
        self.steps
            .iter()
            .map(|s| match &s.source {
                Source::Default { declared_by } => format!("default {} ({declared_by})", s.value),
                other => format!("{} by {other}", s.value),
            })
            .collect::<Vec<_>>()
            .join(" → ")
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} ({}): {} = {}  [machine {}, release {}]",
            self.device,
            self.type_name,
            self.property,
            self.value(),
            self.machine,
            self.release
        )?;
        let width = self
            .steps
            .iter()
            .map(|s| s.value.to_string().len())
            .max()
            .unwrap_or(0);
        for (i, s) in self.steps.iter().enumerate() {
            let value = s.value.to_string();
            write!(f, "  {}. {value:<width$}  {}", i + 1, s.source)?;
            if let Source::Compat { global, .. } = &s.source {
                write!(f, " (global {global})")?;
            }
            if i > 0 {
                write!(f, ", overriding {}", self.steps[i - 1].value)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl Machine<'_> {
    /// The index of the device with id (or label) `name`, else of the first
    /// device whose type is or derives from `name`.
    pub fn find_device(&self, name: &str) -> Option<usize> {
        self.devices
            .iter()
            .position(|d| d.label == name)
            .or_else(|| {
                self.devices
                    .iter()
                    .position(|d| d.object.type_info().is_a(name))
            })
    }

    /// Why property `property` of device `device` (an id, a label or a type
    /// name) has its value.
    pub fn explain(&self, device: &str, property: &str) -> Result<Explanation, ExplainError> {
        let index = self
            .find_device(device)
            .ok_or_else(|| ExplainError::NoDevice {
                device: device.to_owned(),
                machine: self.machine_type.name.clone(),
                known: self.devices.iter().map(|d| d.label.clone()).collect(),
            })?;
        self.explain_device(index, property)
    }

    fn explain_device(&self, index: usize, property: &str) -> Result<Explanation, ExplainError> {
        let device = &self.devices[index];
        let ty: &'static DeviceTypeInfo = device.object.type_info();
        let (owner, def) = ty.property(property)?;
        let mut steps = vec![Step {
            value: def.default_value(),
            source: Source::Default {
                declared_by: owner.name,
            },
        }];
        steps.extend(
            device
                .settings
                .iter()
                .filter(|s| s.property == def.name)
                .map(|s| Step {
                    value: s.value.clone(),
                    source: self.sources[s.source].clone(),
                }),
        );
        Ok(Explanation {
            device: device.label.clone(),
            type_name: ty.name,
            property: def.name,
            release: self.release.name().to_owned(),
            machine: self.machine_type.name.clone(),
            steps,
        })
    }
}
