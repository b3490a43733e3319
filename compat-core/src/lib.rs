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
//! * [`resolve`]: a machine's devices resolved with provenance, explain,
//!   and saving or loading a machine's devices;
//! * [`vmstate`]: VMState descriptions and the trait `#[derive(VMState)]`
//!   implements;
//! * [`stream`]: QEMU's migration stream — writer, transactional loader, and
//!   a reader of whole QEMU streams;
//! * [`dump`]: `-dump-vmstate` JSON;
//! * [`check`]: the static compatibility checker.
//!
//! Device types are declared with `#[derive(Device)]`, migrated state with
//! `#[derive(VMState)]`, compat sets with `compat_set!`, all from
//! `compat-derive`, which emits the static tables and code this crate reads.

#![warn(missing_docs)]

pub mod check;
pub mod cmdline;
pub mod compat;
pub mod device;
pub mod dump;
pub mod machine;
mod msg;
pub mod property;
pub mod release;
pub mod resolve;
pub mod stream;
pub mod suggest;
pub mod vmstate;

pub use compat::{CompatSet, GlobalProperty};
pub use device::{Device, DeviceObject, DeviceTypeInfo, TypeRegistry};
pub use machine::{MachineDef, MachineFamily, MachineType, Version, VersionStep};
pub use property::{
    OnOffAuto, PropertyDef, PropertyEnum, PropertyError, PropertyKind, PropertyType, PropertyValue,
    Size,
};
pub use release::{Release, ReleaseBuilder};
pub use resolve::{Explanation, Machine, MachineConfig, Source};
pub use vmstate::{Migratable, VmState, VmStateDescription};

/// Paths the derives' generated code names. Not a public API: it may change
/// in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::compat::{check_compat_property, check_compat_value};
    pub use crate::device::{chain_declares, SetPropertyError, DEVICE};
    pub use crate::property::{enum_from_value, enum_to_value, BitField, EnumInfo};
    pub use crate::stream::{LoadError, SaveError, StreamReader, StreamWriter};
    pub use crate::vmstate::{
        check_subsection, check_version, checked_len, field_path, must_match, must_match_bytes,
        next_subsection, unknown_subsection, vmdesc, FieldKind, MustMatchValue, Scalar,
        VmStateField,
    };
    pub use serde_json::Value as JsonValue;
    pub use std::any::TypeId;

    /// Run a `pre_save` hook's result into a save error.
    pub fn hook_save<E: std::fmt::Display>(
        vmsd: &str,
        result: Result<(), E>,
    ) -> Result<(), SaveError> {
        result.map_err(|e| SaveError {
            vmsd: vmsd.to_owned(),
            message: e.to_string(),
        })
    }

    /// Run a load hook's result into a load error at the current offset.
    pub fn hook_load<E: std::fmt::Display>(
        hook: &'static str,
        r: &StreamReader<'_>,
        result: Result<(), E>,
    ) -> Result<(), LoadError> {
        result.map_err(|e| {
            r.error(crate::stream::LoadErrorKind::Hook {
                hook,
                message: e.to_string(),
            })
        })
    }

    /// The number of elements a variable array saves: its length field,
    /// which the array must hold.
    pub fn saved_len<T>(v: &[T], len: u64, field: &str) -> Result<usize, SaveError> {
        match usize::try_from(len) {
            Ok(n) if n <= v.len() => Ok(n),
            _ => Err(SaveError {
                vmsd: field.to_owned(),
                message: format!("its length field says {len} but it holds {}", v.len()),
            }),
        }
    }
    pub use std::boxed::Box;
    pub use std::option::Option::{None, Some};
    pub use std::result::Result::{Err, Ok};
}
