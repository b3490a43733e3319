//! A release: one version of a VMM — its device types, compat sets and
//! machine types — as a value. Several releases live in one process; a
//! release is usually defined as the one before plus its changes
//! ([`Release::to_builder`]).

use std::collections::BTreeMap;
use std::fmt;

use crate::compat::{check_set, CompatError, CompatSet};
use crate::device::{Device, RegistryError, TypeRegistry};
use crate::machine::{chain, MachineDef, MachineFamily, MachineType, Version};

/// Why a release could not be built. All problems are reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("release {release} is inconsistent:\n{}", self.problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
#[non_exhaustive]
pub struct ReleaseError {
    /// The release's name.
    pub release: String,
    /// Every problem found.
    pub problems: Vec<ReleaseProblem>,
}

/// One problem of a release definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReleaseProblem {
    /// A device type could not be registered.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A compat-set entry is invalid.
    #[error(transparent)]
    Compat(#[from] CompatError),
    /// Two machine types (or aliases) share a name.
    #[error("machine type name '{0}' is used twice")]
    DuplicateMachine(String),
    /// More than one default machine type.
    #[error("machine types '{0}' and '{1}' are both the default")]
    MultipleDefaults(String, String),
    /// A machine type is based on a family or version the release lacks.
    #[error("machine type '{machine}' is based on '{base}', which this release does not define")]
    UnknownBase {
        /// The machine type.
        machine: String,
        /// The missing base.
        base: String,
    },
}

/// An unknown machine type: QEMU's refusal, with the close names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported machine type '{}' in release {release}{}", crate::text::escape::escaped(.name), self.hint())]
#[non_exhaustive]
pub struct UnknownMachine {
    /// The name asked for.
    pub name: String,
    /// The release asked.
    pub release: String,
    /// Names close to it, closest first.
    pub close: Vec<String>,
}

impl UnknownMachine {
    fn hint(&self) -> String {
        if self.close.is_empty() {
            "; use -machine help to list the supported machine types".to_owned()
        } else {
            format!("; close names: {}", self.close.join(", "))
        }
    }
}

/// A release name that a list of releases does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown release '{}'{suggestion}; the releases are {}", crate::text::escape::escaped(.name), known.join(", "))]
#[non_exhaustive]
pub struct UnknownRelease {
    /// The name asked for.
    pub name: String,
    /// `"; did you mean '…'?"` or empty.
    pub suggestion: String,
    /// The releases there are, oldest first.
    pub known: Vec<String>,
}

/// The definition of a release, built step by step.
#[derive(Clone)]
pub struct ReleaseBuilder {
    name: String,
    registry: TypeRegistry,
    families: Vec<MachineFamily>,
    machines: Vec<MachineDef>,
    cpu_type: Option<&'static str>,
    problems: Vec<ReleaseProblem>,
}

impl fmt::Debug for ReleaseBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReleaseBuilder")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ReleaseBuilder {
    /// An empty release called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        ReleaseBuilder {
            name: name.into(),
            registry: TypeRegistry::new(),
            families: Vec::new(),
            machines: Vec::new(),
            cpu_type: None,
            problems: Vec::new(),
        }
    }

    /// Rename (when deriving a release from the one before).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Add device type `T` (and its ancestors).
    pub fn device<T: Device>(mut self) -> Self {
        if let Err(e) = self.registry.register::<T>() {
            self.problems.push(e.into());
        }
        self
    }

    /// Add device type `T` as the release's CPU: what `-cpu MODEL,+FEATURE`
    /// creates (QEMU's `-cpu` turns the model and each feature into
    /// properties of the CPU type).
    pub fn cpu<T: Device>(mut self) -> Self {
        self.cpu_type = Some(T::TYPE.name);
        self.device::<T>()
    }

    /// Ship a new version of device type `T` (and of its parents) in place
    /// of the one the release had.
    pub fn replace_device<T: Device>(mut self) -> Self {
        if let Err(e) = self.registry.replace_type(T::TYPE) {
            self.problems.push(e.into());
        }
        self
    }

    /// Add a machine family, replacing one of the same name.
    pub fn family(mut self, family: MachineFamily) -> Self {
        self.families.retain(|f| f.name != family.name);
        self.families.push(family);
        self
    }

    /// Change the family called `name` (a no-op if there is none).
    pub fn edit_family(
        mut self,
        name: &str,
        edit: impl FnOnce(MachineFamily) -> MachineFamily,
    ) -> Self {
        if let Some(i) = self.families.iter().position(|f| f.name == name) {
            let family = self.families.remove(i);
            self.families.insert(i, edit(family));
        }
        self
    }

    /// Add a machine type defined on another family's options, replacing
    /// one of the same name.
    pub fn machine(mut self, def: MachineDef) -> Self {
        self.machines.retain(|m| m.name != def.name);
        self.machines.push(def);
        self
    }

    /// Remove the machine type called `name`.
    pub fn without_machine(mut self, name: &str) -> Self {
        self.machines.retain(|m| m.name != name);
        self
    }

    /// Check everything and resolve every machine type.
    pub fn build(self) -> Result<Release, ReleaseError> {
        let mut problems = self.problems.clone();
        let mut machines: Vec<MachineType> = Vec::new();
        let mut sets: Vec<&'static CompatSet> = Vec::new();
        let mut note_set = |set: &'static CompatSet| {
            if !sets.iter().any(|s| **s == *set) {
                sets.push(set);
            }
        };

        for family in &self.families {
            family.defaults.iter().for_each(|s| note_set(s));
            let latest = family.latest();
            for (&version, step) in &family.versions {
                step.compat_sets.iter().for_each(|s| note_set(s));
                let c = chain(family, version);
                let is_latest = Some(version) == latest;
                machines.push(MachineType {
                    name: family.machine_name(version),
                    family: family.name.to_owned(),
                    version: Some(version),
                    alias: family.latest_alias.filter(|_| is_latest).map(str::to_owned),
                    is_default: family.is_default && is_latest,
                    deprecation: step.deprecation.map(str::to_owned),
                    description: family.description.to_owned(),
                    compat_props: c.compat_props,
                    flags: c.flags,
                    own_compat_sets: step.compat_sets.iter().map(|s| s.name).collect(),
                    stream_format: c.stream_format,
                    onboard: family.onboard.clone(),
                    buses: family.buses.clone(),
                });
            }
        }
        for def in &self.machines {
            def.step.compat_sets.iter().for_each(|s| note_set(s));
            let (base_family, base_version) = def.base;
            let base = self
                .families
                .iter()
                .find(|f| f.name == base_family)
                .and_then(|f| {
                    let v = base_version.or_else(|| f.latest())?;
                    f.versions.contains_key(&v).then_some((f, v))
                });
            let Some((family, version)) = base else {
                problems.push(ReleaseProblem::UnknownBase {
                    machine: def.name.to_owned(),
                    base: match base_version {
                        Some(v) => format!("{base_family}-{v}"),
                        None => base_family.to_owned(),
                    },
                });
                continue;
            };
            let mut c = chain(family, version);
            c.apply(&def.step);
            // Its own step, else the step of the version it is based on.
            let own_step = if def.step.compat_sets.is_empty() {
                &family.versions[&version]
            } else {
                &def.step
            };
            machines.push(MachineType {
                name: def.name.to_owned(),
                family: def.family.to_owned(),
                version: def.version,
                alias: def.alias.map(str::to_owned),
                is_default: def.is_default,
                deprecation: def.step.deprecation.map(str::to_owned),
                description: def.description.to_owned(),
                compat_props: c.compat_props,
                flags: c.flags,
                own_compat_sets: own_step.compat_sets.iter().map(|s| s.name).collect(),
                stream_format: c.stream_format,
                onboard: family.onboard.clone(),
                buses: family.buses.clone(),
            });
        }

        for set in &sets {
            problems.extend(check_set(&self.registry, set).into_iter().map(Into::into));
        }
        let mut names: BTreeMap<&str, ()> = BTreeMap::new();
        for m in &machines {
            for name in std::iter::once(m.name.as_str()).chain(m.alias.as_deref()) {
                if names.insert(name, ()).is_some() {
                    problems.push(ReleaseProblem::DuplicateMachine(name.to_owned()));
                }
            }
        }
        let defaults: Vec<&MachineType> = machines.iter().filter(|m| m.is_default).collect();
        if let [first, second, ..] = defaults.as_slice() {
            problems.push(ReleaseProblem::MultipleDefaults(
                first.name.clone(),
                second.name.clone(),
            ));
        }
        if !problems.is_empty() {
            return Err(ReleaseError {
                release: self.name,
                problems,
            });
        }
        machines
            .sort_by(|a, b| (a.family.as_str(), a.version).cmp(&(b.family.as_str(), b.version)));
        Ok(Release {
            definition: self,
            machines,
            compat_sets: sets,
        })
    }
}

/// One release of a VMM: device types, compat sets, machine types.
#[derive(Clone)]
pub struct Release {
    definition: ReleaseBuilder,
    machines: Vec<MachineType>,
    compat_sets: Vec<&'static CompatSet>,
}

impl fmt::Debug for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Release")
            .field("name", &self.definition.name)
            .field(
                "machines",
                &self.machines.iter().map(|m| &m.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Release {
    /// The release's name (`8.0.1`).
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// Its device types.
    pub fn registry(&self) -> &TypeRegistry {
        &self.definition.registry
    }

    /// The device type `-cpu` creates, if the release has one.
    pub fn cpu_type(&self) -> Option<&'static str> {
        self.definition.cpu_type
    }

    /// Its machine types, by family then version.
    pub fn machines(&self) -> &[MachineType] {
        &self.machines
    }

    /// Every compat set its machine types use.
    pub fn compat_sets(&self) -> &[&'static CompatSet] {
        &self.compat_sets
    }

    /// The default machine type, if one is marked.
    pub fn default_machine(&self) -> Option<&MachineType> {
        self.machines.iter().find(|m| m.is_default)
    }

    /// The machine type called `name` (canonical or alias).
    pub fn machine(&self, name: &str) -> Result<&MachineType, UnknownMachine> {
        self.machines
            .iter()
            .find(|m| m.answers_to(name))
            .ok_or_else(|| UnknownMachine {
                name: name.to_owned(),
                release: self.name().to_owned(),
                close: self.close_machine_names(name),
            })
    }

    /// Machine names a user who typed `name` may have meant: misspellings
    /// and other versions of the same family, newest first.
    fn close_machine_names(&self, name: &str) -> Vec<String> {
        let family = name.rsplit_once('-').map(|(f, _)| f).unwrap_or(name);
        let mut close: Vec<(usize, Option<Version>, &str)> = Vec::new();
        for m in &self.machines {
            let names = std::iter::once(m.name.as_str()).chain(m.alias.as_deref());
            for candidate in names {
                let score = crate::text::suggest::score(name, candidate)
                    .or_else(|| (m.family == family).then_some(usize::MAX));
                if let Some(score) = score {
                    close.push((score, m.version, candidate));
                }
            }
        }
        close.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        close.dedup_by(|a, b| a.2 == b.2);
        close
            .into_iter()
            .take(5)
            .map(|(_, _, n)| n.to_owned())
            .collect()
    }

    /// A builder holding this release's definition, to define the next
    /// release as this one plus its changes.
    pub fn to_builder(&self, name: impl Into<String>) -> ReleaseBuilder {
        self.definition.clone().named(name)
    }

    /// The `-M help` listing: one line per machine type.
    pub fn machine_help(&self) -> String {
        let mut out = String::from("Supported machines are:\n");
        for m in &self.machines {
            if let Some(alias) = &m.alias {
                out.push_str(&format!(
                    "{alias:<20} {} (alias of {})\n",
                    m.description, m.name
                ));
            }
            let mut line = format!("{:<20} {}", m.name, m.description);
            if m.is_default {
                line.push_str(" (default)");
            }
            if m.deprecation.is_some() {
                line.push_str(" (deprecated)");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}
