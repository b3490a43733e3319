//! What a device sees of the machine it is realized on, and why a device
//! refuses to realize.

use std::collections::BTreeMap;
use std::fmt;

/// What a device sees of the machine it is realized on (QEMU's
/// `qdev_get_machine()` as far as a device model may look): the machine
/// type's name and class-level flags, the vCPU count, and the host CPU's
/// features.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Board<'a> {
    /// The machine type's canonical name (`pc-q35-7.2`).
    pub machine: &'a str,
    /// The machine type's class-level flags.
    pub flags: &'a BTreeMap<&'static str, bool>,
    /// vCPUs (`-smp`).
    pub smp: u16,
    /// The host CPU's features (for `-cpu host`).
    pub host_features: &'a [String],
    /// The bus the device sits on, for a device that plugs into one.
    pub bus: Option<&'a BusPlace>,
}

/// The bus a device sits on, as it sees it when it realizes (QEMU's
/// `pci_get_bus()`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BusPlace {
    /// The bus's name (`pcie.0`, or the id of the device that provides it).
    pub name: String,
    /// Its kind (`"PCI"`).
    pub kind: &'static str,
    /// A bus of the machine itself (a root bus), not one a device provides
    /// (a root port's).
    pub root: bool,
    /// The machine declares it PCI Express (a bus a device provides is not
    /// marked).
    pub express: bool,
}

impl Board<'_> {
    /// The value of a machine class flag; an unset flag is `false`, as an
    /// unset field of QEMU's zero-initialised machine class.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.get(name).copied().unwrap_or(false)
    }
}

/// Why a device refused to realize (QEMU's `realize` setting `errp`).
///
/// A realize function may return it, or a `String` or `&str`, which
/// convert into it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RealizeError {
    /// What the device says is wrong.
    pub message: String,
}

impl RealizeError {
    /// An error saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        RealizeError {
            message: message.into(),
        }
    }
}

impl fmt::Display for RealizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RealizeError {}

impl From<String> for RealizeError {
    fn from(message: String) -> Self {
        RealizeError { message }
    }
}

impl From<&str> for RealizeError {
    fn from(message: &str) -> Self {
        RealizeError::new(message)
    }
}
