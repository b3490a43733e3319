//! # compat-core
//!
//! The runtime of **compat**, a framework for writing emulated devices
//! declaratively — QEMU's qdev properties, machine-type compat sets and
//! VMState — so that live migration between releases of a VMM is correct by
//! construction and checked where it is not.
//!
//! The modules are layers; each uses only the ones listed before it:
//!
//! * [`text`]: const-evaluable messages and "did you mean …?";
//! * [`codec`]: the big-endian byte reader and writer, load and save errors;
//! * [`property`]: property kinds, values, their text, and `-device` /
//!   `-global` option strings ([`property::cmdline`]);
//! * [`vmstate`]: VMState descriptions and the traits `#[derive(VMState)]`
//!   implements;
//! * [`stream`]: QEMU's migration stream — writer, transactional loader, and
//!   a reader of whole QEMU streams ([`stream::qemu`]);
//! * [`device`]: device types with inheritance, instances, the type
//!   registry, and what a device sees when it is realized;
//! * [`compat`]: global properties and compat sets;
//! * [`machine`]: machine families, versions, the compat chain;
//! * [`release`]: one VMM release as a value;
//! * [`resolve`]: a machine's devices resolved with provenance, and explain;
//! * [`migration`]: saving and loading a machine, migrating between
//!   releases, the static checker, `-dump-vmstate`;
//! * [`tools`]: a catalog of a VMM's releases, the migration matrix over
//!   it, and the `compat` command (feature `cli`).
//!
//! Device types are declared with `#[derive(Device)]`, migrated state with
//! `#[derive(VMState)]`, compat sets with `compat_set!`, all from
//! `compat-derive`, which emits the static tables and code this crate reads.

#![warn(missing_docs)]

pub mod codec;
pub mod compat;
pub mod device;
pub mod machine;
pub mod migration;
pub mod property;
pub mod release;
pub mod resolve;
pub mod stream;
pub mod text;
pub mod tools;
pub mod vmstate;

pub use compat::{CompatSet, GlobalProperty};
pub use device::{Board, Device, DeviceObject, DeviceTypeInfo, RealizeError, TypeRegistry};
pub use machine::{MachineDef, MachineFamily, MachineType, Version, VersionStep};
pub use migration::{migrate, migrate_chain, MigrationError};
pub use property::cmdline::{parse_device, parse_global, DeviceOption, GlobalOption};
pub use property::{
    OnOffAuto, PropertyDef, PropertyEnum, PropertyError, PropertyKind, PropertyType, PropertyValue,
    Size,
};
pub use release::{Release, ReleaseBuilder};
pub use resolve::{Explanation, Machine, MachineConfig, Source};
pub use stream::StreamFormat;
pub use vmstate::{Migratable, VmState, VmStateDescription};

/// Paths the derives' generated code names. Not a public API: it may change
/// in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::codec::{LoadError, SaveError, StreamReader, StreamWriter};
    pub use crate::compat::{check_compat_property, check_compat_value};
    pub use crate::device::{chain_declares, Board, RealizeError, SetPropertyError, DEVICE};
    pub use crate::property::{enum_from_value, enum_to_value, BitField, EnumInfo};
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
            r.error(crate::codec::LoadErrorKind::Hook {
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
