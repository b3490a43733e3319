//! # compat-core
//!
//! The runtime of **compat**, a framework for writing emulated devices
//! declaratively — QEMU's qdev properties, machine-type compat sets and
//! VMState — so that live migration between releases of a VMM is correct by
//! construction and checked where it is not.
//!
//! * [`property`]: property kinds, values, parsing and printing;
//! * [`device`]: device types with inheritance, instances, the type registry;
//! * [`cmdline`]: `-device` and `-global` strings;
//! * [`compat`]: global properties and compat sets;
//! * [`machine`]: machine families, versions, the compat chain;
//! * [`release`]: one VMM release as a value;
//! * [`resolve`]: a machine's devices resolved with provenance, and explain.
//!
//! Device types are declared with `#[derive(Device)]` from `compat-derive`,
//! which emits the static tables this crate reads.

#![warn(missing_docs)]

pub mod cmdline;
pub mod compat;
pub mod device;
pub mod machine;
mod msg;
pub mod property;
pub mod release;
pub mod resolve;
pub mod suggest;

pub use compat::{CompatSet, GlobalProperty};
pub use device::{Device, DeviceObject, DeviceTypeInfo, TypeRegistry};
pub use machine::{MachineDef, MachineFamily, MachineType, Version, VersionStep};
pub use property::{
    OnOffAuto, PropertyDef, PropertyEnum, PropertyError, PropertyKind, PropertyType, PropertyValue,
    Size,
};
pub use release::{Release, ReleaseBuilder};
pub use resolve::{Explanation, Machine, Source};

/// Paths the derives' generated code names. Not a public API: it may change
/// in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::compat::{check_compat_property, check_compat_value};
    pub use crate::device::{chain_declares, SetPropertyError, DEVICE};
    pub use crate::property::{enum_from_value, enum_to_value, BitField, EnumInfo};
    pub use std::any::TypeId;
    pub use std::boxed::Box;
    pub use std::option::Option::{None, Some};
    pub use std::result::Result::{Err, Ok};
}
