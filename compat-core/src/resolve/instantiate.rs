//! Building a machine: every device created, every global and option
//! applied in QEMU's order with its source kept, then realized.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::{
    Adoption, ConfigError, DeviceInstance, Machine, MachineConfig, ResolveError, Setting, Source,
};
use crate::device::{Board, DeviceObject, DeviceTypeInfo, RegistryError, TypeRegistry};
use crate::machine::MachineType;
use crate::property::cmdline::{
    is_identifier, parse_device, CmdlineError, DeviceOption, GlobalOption,
};
use crate::property::PropertyValue;
use crate::release::Release;
use crate::text::escape::escaped as esc;

/// One global, checked and parsed once, ready to apply.
struct Prepared {
    /// The property and its value; `Err` for a user global whose property
    /// or value the type rejects: QEMU reports that only where the global
    /// is applied, naming the device's own type.
    setting: Result<(&'static str, PropertyValue), Rejected>,
    source: usize,
    /// For user globals: the warning text if it matches nothing.
    unused_warning: Option<String>,
    used: bool,
}

/// A user global whose property or value its type rejects: kept to be
/// reported where it applies.
struct Rejected {
    /// The global as given.
    global: String,
    property: String,
    value: String,
}

impl Rejected {
    /// It applied to a device of type `ty`: the setting, where that type
    /// takes it (a subtype may have the property the global's own type
    /// lacks: `-global device.rombar=1` sets a PCI device's), else the error
    /// QEMU gives, naming the device's own type.
    fn on(
        &self,
        ty: &'static DeviceTypeInfo,
    ) -> Result<(&'static str, PropertyValue), ResolveError> {
        let parsed = ty
            .property(&self.property)
            .and_then(|(_, def)| Ok((def.name, def.parse(ty.name, &self.value)?)));
        parsed.map_err(|error| ResolveError::Global {
            global: self.global.clone(),
            error: Box::new(error.into()),
        })
    }
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
        let devices = &config.devices[..];
        let machine_type = self.machine(&config.machine)?;
        let board = Board {
            machine: &machine_type.name,
            flags: &machine_type.flags,
            smp: config.smp,
            host_features: &config.host_features,
            bus: None,
        };
        let registry = self.registry();
        let mut build = Build {
            registry,
            sources: Vec::new(),
            globals: Globals::default(),
            warnings: Vec::new(),
        };
        // Each device starts from its class defaults when created; the
        // globals go over them, the machine type's compat ones first.
        build.prepare_compat_globals(machine_type)?;
        build.prepare_user_globals(&config.globals)?;

        // `-device TYPE,help` starts nothing: QEMU prints the type's
        // properties and exits.
        if let Some(d) = devices.iter().find(|d| d.help) {
            return match registry.help(&d.driver) {
                Ok(text) => Err(ResolveError::HelpRequested { text }),
                Err(e) => Err(ResolveError::Device {
                    spec: d.to_string(),
                    error: Box::new(e.into()),
                }),
            };
        }

        let cpu = self.cpu_option(config)?;
        build.globals.check_nic_models(registry)?;
        let onboard = onboard_options(machine_type, cpu.as_deref())?;

        let onboard_count = onboard.len();
        let onboard = onboard
            .into_iter()
            .map(|(opt, spec)| (Cow::Owned(opt), spec));
        let user = devices.iter().map(|d| (Cow::Borrowed(d), d.to_string()));
        let mut created = Created {
            counts: HashMap::new(),
            ids: HashSet::new(),
            instances: Vec::with_capacity(onboard_count + devices.len()),
            placer: super::placement::Placer::new(machine_type),
        };
        for (n, (opt, spec)) in onboard.chain(user).enumerate() {
            build.create_device(&opt, spec, n < onboard_count, config, &board, &mut created)?;
        }
        let mut instances = created.instances;
        super::placement::name_sections(&mut instances);

        let mut warnings = build.warnings;
        if let Some(reason) = &machine_type.deprecation {
            warnings.insert(
                0,
                format!(
                    "Machine type '{}' is deprecated: {reason}",
                    machine_type.name
                ),
            );
        }
        warnings.extend(build.globals.unused_warnings());
        Ok(Machine {
            release: self,
            machine_type,
            sources: build.sources,
            devices: instances,
            warnings,
            host_features: config.host_features.clone(),
            cpu: config.cpu.clone(),
        })
    }

    /// The `-device` string of the CPU `config`'s `-cpu` asks for, if it
    /// asks for one.
    fn cpu_option(&self, config: &MachineConfig) -> Result<Option<String>, ResolveError> {
        match (&config.cpu, self.cpu_type()) {
            (None, _) => Ok(None),
            (Some(spec), Some(cpu_type)) => Ok(Some(cpu_device(cpu_type, spec)?)),
            (Some(spec), None) => Err(ResolveError::NoCpuType {
                spec: spec.clone(),
                release: self.name().to_owned(),
            }),
        }
    }
}

/// The devices the machine type creates, then the CPU `-cpu` creates, each
/// parsed with its text.
fn onboard_options(
    machine_type: &MachineType,
    cpu: Option<&str>,
) -> Result<Vec<(DeviceOption, String)>, ResolveError> {
    machine_type
        .onboard
        .iter()
        .copied()
        .chain(cpu)
        .map(|spec| {
            parse_device(spec)
                .map(|opt| (opt, (*spec).to_owned()))
                .map_err(|e| ResolveError::Device {
                    spec: (*spec).to_owned(),
                    error: Box::new(e.into()),
                })
        })
        .collect()
}

/// The globals of a machine, each prepared once: the machine type's compat
/// globals, then the user's `-global`s, in that order.
#[derive(Default)]
struct Globals {
    prepared: Vec<Prepared>,
    /// The globals of each type, by their place in `prepared`.
    by_driver: HashMap<&'static str, Vec<usize>>,
    /// The globals that apply to a type (its own and its ancestors', in
    /// registration order), found once per type.
    matching_of: HashMap<&'static str, Vec<usize>>,
}

impl Globals {
    /// QEMU creates one instance of every network card model at
    /// start-up to list the models: the user's globals are applied to
    /// it, so one the model rejects fails even without such a card.
    fn check_nic_models(&self, registry: &TypeRegistry) -> Result<(), ResolveError> {
        for nic in registry.types().filter(|t| t.nic && !t.is_abstract) {
            for &i in nic
                .global_targets()
                .filter_map(|t| self.by_driver.get(t.name))
                .flatten()
            {
                if let Err(rejected) = &self.prepared[i].setting {
                    rejected.on(nic)?;
                }
            }
        }
        Ok(())
    }

    /// Apply the globals that match type `ty` to `object`, in the order
    /// they were given, each recorded in `settings`; each is then used.
    fn apply(
        &mut self,
        ty: &'static DeviceTypeInfo,
        object: &mut dyn DeviceObject,
        settings: &mut Vec<Setting>,
        fail: impl Fn(ConfigError) -> ResolveError,
    ) -> Result<(), ResolveError> {
        let by_driver = &self.by_driver;
        let matching = self.matching_of.entry(ty.name).or_insert_with(|| {
            let mut matching: Vec<usize> = ty
                .global_targets()
                .filter_map(|t| by_driver.get(t.name))
                .flatten()
                .copied()
                .collect();
            matching.sort_unstable();
            matching
        });
        for &i in matching.iter() {
            let p = &mut self.prepared[i];
            p.used = true;
            let (property, value) = match &p.setting {
                Ok(setting) => setting.clone(),
                Err(rejected) => rejected.on(ty)?,
            };
            object.set(property, &value).map_err(|e| fail(e.into()))?;
            settings.push(Setting {
                property,
                value,
                source: p.source,
            });
        }
        Ok(())
    }

    /// The warnings of the user's globals no device used.
    fn unused_warnings(&self) -> impl Iterator<Item = String> + '_ {
        self.prepared
            .iter()
            .filter(|p| !p.used)
            .filter_map(|p| p.unused_warning.clone())
    }
}

/// A machine being built: the sources of its settings so far, its globals,
/// the warnings QEMU would print.
struct Build<'r> {
    registry: &'r TypeRegistry,
    sources: Vec<Source>,
    globals: Globals,
    warnings: Vec<String>,
}

/// The devices created so far, and what the next one is checked against.
struct Created {
    /// Instances without `id=` of each type, to label the next one.
    counts: HashMap<&'static str, usize>,
    ids: HashSet<String>,
    instances: Vec<DeviceInstance>,
    /// The buses, with what sits where so far.
    placer: super::placement::Placer,
}

impl Build<'_> {
    /// Prepare one global: find its type and property, parse its value.
    /// `unused` is the warning if it matches no device (user globals
    /// only; QEMU stays silent for hotpluggable types). A user global
    /// is lenient as QEMU's: an unknown type is a warning, a property
    /// or value the type rejects an error only where it is applied.
    fn prepare(
        &mut self,
        driver: &str,
        property: &str,
        value: &str,
        source: Source,
        unused: Option<String>,
    ) -> Result<(), ConfigError> {
        let user = unused.is_some();
        let ty = match self.registry.lookup(driver) {
            Ok(ty) => ty,
            Err(_) if user => {
                self.warnings.push(format!(
                    "global {}.{} has invalid class name",
                    esc(driver),
                    esc(property)
                ));
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let setting = match ty.property(property) {
            Ok((_, def)) => def.parse(ty.name, value).map(|v| (def.name, v)),
            Err(e) => Err(e),
        };
        let setting = match (setting, &source) {
            (Ok(setting), _) => Ok(setting),
            (Err(_), Source::Global { text, .. }) => Err(Rejected {
                global: text.clone(),
                property: property.to_owned(),
                value: value.to_owned(),
            }),
            (Err(e), _) => return Err(e.into()),
        };
        let unused_warning = unused.filter(|_| !ty.hotpluggable);
        self.sources.push(source);
        let globals = &mut self.globals;
        globals
            .by_driver
            .entry(ty.name)
            .or_default()
            .push(globals.prepared.len());
        globals.prepared.push(Prepared {
            setting,
            source: self.sources.len() - 1,
            unused_warning,
            used: false,
        });
        Ok(())
    }

    /// The machine type's compat globals.
    fn prepare_compat_globals(&mut self, machine_type: &MachineType) -> Result<(), ResolveError> {
        for entry in &machine_type.compat_props {
            let g = entry.global;
            let source = Source::Compat {
                set: entry.set,
                machine: machine_type.name.clone(),
                global: g,
            };
            self.prepare(g.driver, g.property, g.value, source, None)
                .map_err(|error| ResolveError::Compat {
                    machine: machine_type.name.clone(),
                    set: entry.set,
                    global: g,
                    error: Box::new(error),
                })?;
        }
        Ok(())
    }

    /// The user's `-global`s.
    fn prepare_user_globals(&mut self, globals: &[GlobalOption]) -> Result<(), ResolveError> {
        for (index, g) in globals.iter().enumerate() {
            let source = Source::Global {
                text: g.to_string(),
                index,
            };
            self.prepare(
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
        Ok(())
    }

    /// Create the device `opt` (written `spec`), set it — class defaults,
    /// then the globals, then its own options, then the sticky values an
    /// incoming migration carries — and realize it.
    fn create_device(
        &mut self,
        opt: &DeviceOption,
        spec: String,
        onboard: bool,
        config: &MachineConfig,
        board: &Board<'_>,
        created: &mut Created,
    ) -> Result<(), ResolveError> {
        // The device's own options are the last source of its
        // settings; its text is kept once, there.
        self.sources.push(Source::Device { spec });
        let source = self.sources.len() - 1;
        let Source::Device { spec } = &self.sources[source] else {
            unreachable!("just pushed")
        };
        for w in &opt.warnings {
            self.warnings.push(format!("-device {}: {w}", esc(spec)));
        }
        let fail = |error: ConfigError| ResolveError::Device {
            spec: spec.clone(),
            error: Box::new(error),
        };
        let ty = self
            .registry
            .lookup(&opt.driver)
            .map_err(|e| fail(e.into()))?;
        if !onboard && !ty.user_creatable {
            return Err(fail(
                RegistryError::NotUserCreatable {
                    name: ty.name.to_owned(),
                }
                .into(),
            ));
        }
        let mut object = self.registry.create(ty.name).map_err(|e| fail(e.into()))?;
        let mut settings = Vec::new();

        self.globals
            .apply(ty, object.as_mut(), &mut settings, fail)?;
        apply_options(ty, opt, object.as_mut(), &mut settings, source, fail)?;

        let label = match &opt.id {
            Some(id) => id.clone(),
            None => {
                let count = created.counts.entry(ty.name).or_insert(0);
                *count += 1;
                format!("{}[{}]", ty.name, *count - 1)
            }
        };
        let adopted_sources = adopt_sticky(
            ty,
            &label,
            &config.adopted,
            object.as_mut(),
            &mut settings,
            self.sources.len(),
            fail,
        )?;

        // Its place first: a device sees its bus when it realizes.
        let placed =
            created
                .placer
                .place(object.as_ref(), opt.id.as_deref(), opt.bus.as_deref(), spec)?;
        let (dev_path, bus) = match placed {
            Some(p) => {
                if let Some(w) = p.warning {
                    self.warnings.push(format!("-device {}: {w}", esc(spec)));
                }
                (Some(p.path), Some(p.bus))
            }
            None => (None, None),
        };
        let board = Board {
            bus: bus.as_ref(),
            ..*board
        };
        object
            .realize(&board)
            .map_err(|error| ResolveError::Realize {
                spec: spec.clone(),
                error,
            })?;

        if let Some(id) = &opt.id {
            // An option built in code rather than parsed is held to
            // the parser's rule.
            if !is_identifier(id) {
                return Err(ResolveError::InvalidId { spec: spec.clone() });
            }
            if !created.ids.insert(id.clone()) {
                return Err(ResolveError::DuplicateId {
                    spec: spec.clone(),
                    id: id.clone(),
                });
            }
        }
        self.sources.extend(adopted_sources);
        created.instances.push(DeviceInstance {
            id: opt.id.clone(),
            label,
            onboard,
            object,
            settings,
            dev_path,
            section: None,
        });
        Ok(())
    }
}

/// The instance's own options, last of what the command line sets: each
/// applied to `object` and recorded in `settings` with source `source`.
fn apply_options(
    ty: &'static DeviceTypeInfo,
    opt: &DeviceOption,
    object: &mut dyn DeviceObject,
    settings: &mut Vec<Setting>,
    source: usize,
    fail: impl Fn(ConfigError) -> ResolveError,
) -> Result<(), ResolveError> {
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
    Ok(())
}

/// Values an incoming migration carries, last: only sticky properties
/// take them. Their sources, returned, join the list once this device's
/// own `-device` text is no longer borrowed from it; the first will be
/// source number `first_source`.
fn adopt_sticky(
    ty: &'static DeviceTypeInfo,
    label: &str,
    adopted: &[Adoption],
    object: &mut dyn DeviceObject,
    settings: &mut Vec<Setting>,
    first_source: usize,
    fail: impl Fn(ConfigError) -> ResolveError,
) -> Result<Vec<Source>, ResolveError> {
    let mut adopted_sources = Vec::new();
    for a in adopted.iter().filter(|a| a.device == label) {
        let (_, def) = ty.property(&a.property).map_err(|e| fail(e.into()))?;
        if !def.sticky {
            return Err(fail(ConfigError::Property(
                crate::property::PropertyError::NotSticky {
                    type_name: ty.name.to_owned(),
                    property: def.name.to_owned(),
                },
            )));
        }
        let value = def.parse(ty.name, &a.value).map_err(|e| fail(e.into()))?;
        object.set(def.name, &value).map_err(|e| fail(e.into()))?;
        settings.push(Setting {
            property: def.name,
            value,
            source: first_source + adopted_sources.len(),
        });
        adopted_sources.push(Source::Adopted {
            first_set_by: a.first_set_by.clone(),
        });
    }
    Ok(adopted_sources)
}

/// The `-cpu` argument that lets a guest on a host with features `own`
/// migrate to and from a host with features `other`: `host`, with every
/// feature of its own the other host lacks turned off — the rule QEMU's
/// migration documents give (`host,pcid=off,stibp=off` on one host,
/// `host,taa-no=off` on the other).
///
/// ```
/// use compat_core::resolve::host_cpu_option;
/// let a = ["pcid".to_owned(), "stibp".to_owned()];
/// let b = ["taa-no".to_owned()];
/// assert_eq!(host_cpu_option(&a, &b), "host,pcid=off,stibp=off");
/// assert_eq!(host_cpu_option(&b, &a), "host,taa-no=off");
/// assert_eq!(host_cpu_option(&a, &a), "host");
/// ```
pub fn host_cpu_option(own: &[String], other: &[String]) -> String {
    own.iter()
        .filter(|f| !other.contains(f))
        .fold("host".to_owned(), |cpu, f| format!("{cpu},{f}=off"))
}

/// The `-device` string of the CPU that `-cpu MODEL,+f,-f,f=v` creates:
/// the release's CPU type `cpu_type`, id `cpu0`, with `model=MODEL` and
/// each feature as a bool property (QEMU turns the `+f`/`-f` shorthand
/// into properties the same way).
pub fn cpu_device(cpu_type: &str, spec: &str) -> Result<String, ResolveError> {
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
    let mut out = format!("{cpu_type},id=cpu0,model={model}");
    for part in parts {
        let option = if let Some(f) = part.strip_prefix('+') {
            format!("{f}=on")
        } else if let Some(f) = part.strip_prefix('-') {
            format!("{f}=off")
        } else if part.contains('=') {
            part.to_owned()
        } else {
            return Err(bad(format!(
                "expected +FEATURE, -FEATURE or FEATURE=VALUE, got '{}'",
                crate::text::escape::escaped(part)
            )));
        };
        out.push(',');
        out.push_str(&option);
    }
    Ok(out)
}
