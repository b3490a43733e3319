//! Why a property has its value: the chain of sources that set it.

use std::fmt;

use super::{Machine, ResolveError, Source};
use crate::device::DeviceTypeInfo;
use crate::property::cmdline::{parse_device, GlobalOption};
use crate::property::{PropertyError, PropertyValue};
use crate::release::Release;

impl Release {
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

/// Why `explain` could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// The machine could not be built.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No device has that id or type.
    #[error("no device '{}' on machine {machine}; devices are: {}", crate::text::escape::escaped(.device), known.join(", "))]
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
#[non_exhaustive]
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
        // A value the device chose when it realized, read back as QEMU
        // reads it.
        let set = &steps.last().expect("the default is there").value;
        if let Ok(now) = device.object.get(def.name) {
            if &now != set {
                steps.push(Step {
                    value: now,
                    source: Source::Realized,
                });
            }
        }
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
