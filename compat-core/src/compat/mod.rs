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

use crate::device::{closest_in_chain, find_in_chain, DeviceTypeInfo, TypeRegistry};
use crate::property::PropertyError;
use crate::text::ConstMsg;

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

/// The compile-time half of [`check_entry`], for an entry whose type is a
/// Rust type: `compat_set!` evaluates it in a `const`, so a missing
/// property is a compile error that says what [`check_entry`] would.
#[doc(hidden)]
pub const fn check_compat_property(
    set: &str,
    ty: &'static DeviceTypeInfo,
    property: &str,
    value: &str,
) {
    if find_in_chain(ty, property).is_some() || chain_is_erroneous(ty) {
        return;
    }
    let mut msg = ConstMsg::<1024>::new();
    entry_prefix(&mut msg, set, ty.name, property, value);
    msg.push("' not found");
    if let Some(close) = closest_in_chain(ty, property) {
        msg.push("; did you mean '");
        msg.push(close);
        msg.push("'?");
    }
    panic!("{}", msg.as_str());
}

/// The value half of the compile-time check: the value parses with the
/// property's kind. (A missing property is [`check_compat_property`]'s to
/// report.)
#[doc(hidden)]
pub const fn check_compat_value(
    set: &str,
    ty: &'static DeviceTypeInfo,
    property: &str,
    value: &str,
) {
    let Some(def) = find_in_chain(ty, property) else {
        return;
    };
    if def.kind.accepts_text(value) || chain_is_erroneous(ty) {
        return;
    }
    let mut msg = ConstMsg::<1024>::new();
    entry_prefix(&mut msg, set, ty.name, property, value);
    msg.push("' doesn't take value '");
    msg.push(value);
    msg.push("': expects ");
    def.kind.write_expects(&mut msg);
    panic!("{}", msg.as_str());
}

/// Whether `ty` or an ancestor is the derive's stand-in for a declaration
/// with mistakes: those are reported already, and a compat-set entry
/// naming the type is not a second mistake.
const fn chain_is_erroneous(ty: &'static DeviceTypeInfo) -> bool {
    let mut cur = Some(ty);
    while let Some(t) = cur {
        if t.erroneous {
            return true;
        }
        cur = t.parent;
    }
    false
}

/// `compat set 'S', entry {D, P, V}: Property 'D.P`: how both compile-time
/// messages start, as `check_entry`'s runtime errors do.
const fn entry_prefix<const N: usize>(
    msg: &mut ConstMsg<N>,
    set: &str,
    driver: &str,
    property: &str,
    value: &str,
) {
    msg.push("compat set '");
    msg.push(set);
    msg.push("', entry {");
    msg.push(driver);
    msg.push(", ");
    msg.push(property);
    msg.push(", ");
    msg.push(value);
    msg.push("}: Property '");
    msg.push(driver);
    msg.push(".");
    msg.push(property);
}
