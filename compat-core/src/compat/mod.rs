//! Global properties and compat sets (QEMU's `GlobalProperty` and the
//! `hw_compat_X_Y` arrays).
//!
//! A compat set is declared with `compat_set!` (in `compat-derive`). Entries
//! that name their device type as a Rust type are checked by the compiler —
//! a misspelt type, a property the type does not have (QEMU's `num_queues`
//! for `num-queues` trap) or a value its kind rejects is a compile error.
//! Entries naming the type by string (a type from another crate) are
//! checked by [`check_entry`] when a release is built.

use std::fmt;

pub(crate) mod derive_support;

use crate::device::TypeRegistry;
use crate::property::PropertyError;

/// One `{driver, property, value}`: set `property` to `value` on every
/// device whose type is, or derives from, `driver`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalProperty {
    /// The device type name.
    pub driver: &'static str,
    /// The property name.
    pub property: &'static str,
    /// The value, as text; parsed with the property's kind.
    pub value: &'static str,
}

impl fmt::Display for GlobalProperty {
    /// QEMU's array syntax: `{pci-device, x-pcie-err-unc-mask, off}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}, {}, {}}}", self.driver, self.property, self.value)
    }
}

/// A named list of global properties: one release's way of restoring the
/// previous release's behaviour (`hw_compat_7_2` = what changed in 8.0,
/// undone), or a machine family's own defaults.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CompatSet {
    /// The set's name (`hw_compat_7_2`).
    pub name: &'static str,
    /// The entries, in order: a later entry overrides an earlier one.
    pub entries: &'static [GlobalProperty],
}

/// An invalid compat-set entry, found when a release is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompatError {
    /// The entry names a device type the release does not have.
    #[error("compat set '{set}', entry {entry}: device type '{driver}' is unknown{suggestion}")]
    UnknownType {
        /// The compat set.
        set: String,
        /// The entry, as `{driver, property, value}`.
        entry: String,
        /// The unknown type name.
        driver: String,
        /// `"; did you mean '…'?"` or empty.
        suggestion: String,
    },
    /// The property is missing or the value is not of its kind.
    #[error("compat set '{set}', entry {entry}: {error}")]
    Property {
        /// The compat set.
        set: String,
        /// The entry, as `{driver, property, value}`.
        entry: String,
        /// What the device type said.
        error: Box<PropertyError>,
    },
}

/// Check one entry of `set` against the device types of a release: the type
/// exists, has the property (itself or through an ancestor), and the value
/// parses with the property's kind.
pub fn check_entry(
    registry: &TypeRegistry,
    set: &CompatSet,
    entry: &GlobalProperty,
) -> Result<(), CompatError> {
    let ty = registry
        .lookup(entry.driver)
        .map_err(|_| CompatError::UnknownType {
            set: set.name.to_owned(),
            entry: entry.to_string(),
            driver: entry.driver.to_owned(),
            suggestion: crate::text::suggest::did_you_mean(
                entry.driver,
                registry.types().map(|t| t.name),
            ),
        })?;
    ty.parse_property(entry.property, entry.value)
        .map(|_| ())
        .map_err(|error| CompatError::Property {
            set: set.name.to_owned(),
            entry: entry.to_string(),
            error: Box::new(error),
        })
}

/// Check every entry of `set`, reporting all invalid ones.
pub fn check_set(registry: &TypeRegistry, set: &CompatSet) -> Vec<CompatError> {
    set.entries
        .iter()
        .filter_map(|e| check_entry(registry, set, e).err())
        .collect()
}
