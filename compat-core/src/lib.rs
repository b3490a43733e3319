//! # compat-core
//!
//! The runtime of **compat**, a framework for writing emulated devices
//! declaratively — QEMU's qdev properties, machine-type compat sets and
//! VMState — so that live migration between releases of a VMM is correct by
//! construction and checked where it is not.
//!
//! ## From a device to a checked migration
//!
//! A device type with a property and migrated state; two releases of a VMM
//! whose UART grew a 64-byte FIFO in 2.0, with the compat set that keeps
//! machine type `virt-1.0` as 1.0 had it; a real save on one release and a
//! real load on the other; the checker's prediction; and why the property
//! has its value.
//!
//! ```
//! use compat_core::migration::check::{check, Side};
//! use compat_core::{
//!     compat_set, parse_device, Board, Device, MachineConfig, MachineFamily, RealizeError,
//!     ReleaseBuilder, VMState, Version, VersionStep,
//! };
//!
//! /// The UART of release 1.0: a 16-byte FIFO.
//! #[derive(Clone, Device, VMState)]
//! #[device(name = "uart", vmstate, realize = Uart10::realize)]
//! #[vmstate(name = "uart", version = 1)]
//! pub struct Uart10 {
//!     #[vmstate(must_match)]
//!     pub fifo_size: u32,
//!     pub lsr: u8,
//! }
//!
//! impl Uart10 {
//!     fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
//!         self.fifo_size = 16;
//!         Ok(())
//!     }
//! }
//!
//! /// The UART of release 2.0: 64 bytes unless `fifo64=off`.
//! #[derive(Clone, Device, VMState)]
//! #[device(name = "uart", vmstate, realize = Uart20::realize)]
//! #[vmstate(name = "uart", version = 1)]
//! pub struct Uart20 {
//!     /// The 64-byte FIFO.
//!     #[property(name = "fifo64", default = true)]
//!     pub fifo64: bool,
//!     #[vmstate(must_match)]
//!     pub fifo_size: u32,
//!     pub lsr: u8,
//! }
//!
//! impl Uart20 {
//!     fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
//!         self.fifo_size = if self.fifo64 { 64 } else { 16 };
//!         Ok(())
//!     }
//! }
//!
//! compat_set! {
//!     /// What 2.0 changed, undone for machine types of 1.0.
//!     pub COMPAT_1_0 = "compat_1_0" [ { Uart20, "fifo64", "off" } ];
//! }
//!
//! let v = Version::new;
//! let r1 = ReleaseBuilder::new("1.0")
//!     .device::<Uart10>()
//!     .family(MachineFamily::new("virt", "a board").version(v(1, 0), VersionStep::default()));
//! let r2 = r1
//!     .clone()
//!     .named("2.0")
//!     .replace_device::<Uart20>()
//!     .edit_family("virt", |f| {
//!         f.version(v(1, 0), VersionStep::compat([COMPAT_1_0]))
//!             .version(v(2, 0), VersionStep::default())
//!     });
//! let (r1, r2) = (r1.build()?, r2.build()?);
//!
//! // A guest started on 1.0 with machine type virt-1.0 ...
//! let config = MachineConfig {
//!     machine: "virt-1.0".into(),
//!     devices: vec![parse_device("uart,id=serial0")?],
//!     ..MachineConfig::default()
//! };
//! let mut source = r1.instantiate_config(&config)?;
//! let stream = source.save()?;
//! // ... moves to 2.0, which starts the same machine type.
//! let mut destination = r2.instantiate_config(&config)?;
//! destination.load(&stream)?;
//!
//! // The checker predicts it without migrating, both ways.
//! assert!(check(&r1, &config, &r2, &config, Some(Side::Destination)).works);
//! assert!(check(&r2, &config, &r1, &config, Some(Side::Source)).works);
//! // On 2.0's own machine type the FIFO is bigger: 1.0 cannot take it, and
//! // 1.0 does not know the machine type anyway.
//! let newest = MachineConfig { machine: "virt-2.0".into(), ..config.clone() };
//! assert!(!check(&r2, &newest, &r1, &newest, Some(Side::Source)).works);
//!
//! // Why fifo64 is off on 2.0's virt-1.0:
//! let why = destination.explain("serial0", "fifo64")?;
//! assert_eq!(why.summary(), "default on (uart) → off by compat_1_0 applied by virt-1.0");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Layers
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
//! Device types are declared with [`#[derive(Device)]`](macro@Device),
//! migrated state with [`#[derive(VMState)]`](macro@VMState), compat sets
//! with [`compat_set!`]; the derives come from `compat-derive` and are
//! re-exported here, so a device crate depends on this crate alone.

#![warn(missing_docs)]

// The derives name this crate `::compat_core`; inside it too.
extern crate self as compat_core;

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
/// Declares a device type (the derive; see the trait [`Device`](trait@Device)
/// for what it implements).
///
/// ```
/// use compat_core::{Device, DeviceObject, PropertyValue, TypeRegistry};
///
/// /// The abstract parent of every PCI device.
/// #[derive(Device)]
/// #[device(name = "pci-device", abstract)]
/// pub struct PciDevice {
///     #[property(name = "x-pcie-err-unc-mask", bit = 0, default = true)]
///     #[property(name = "x-pcie-ext-tag", bit = 1, default = true)]
///     pub cap_flags: u32,
/// }
///
/// /// A PCIe root port.
/// #[derive(Device)]
/// #[device(name = "pcie-root-port", parent = PciDevice)]
/// pub struct PcieRootPort {
///     #[device(parent)]
///     pub pci: PciDevice,
///     #[property(name = "chassis", default = 1, doc = "chassis number")]
///     pub chassis: u8,
///     /// Not a property: realize-time state, starts at `Default::default()`.
///     pub config: Vec<u8>,
/// }
///
/// let mut port = PcieRootPort::new_default();
/// assert!(port.pci.x_pcie_err_unc_mask());
/// port.set_str("x-pcie-err-unc-mask", "off").unwrap();
/// assert_eq!(port.pci.cap_flags, 0b10);
/// assert_eq!(port.get("chassis").unwrap(), PropertyValue::Uint(1));
///
/// let mut registry = TypeRegistry::new();
/// registry.register::<PcieRootPort>().unwrap();
/// assert!(registry.is_a("pcie-root-port", "pci-device"));
/// ```
#[doc(inline)]
pub use compat_derive::Device;

/// Declares a struct's migrated state (the derive; see the trait
/// [`VMState`](trait@VMState) for what it implements).
///
/// ```
/// use compat_core::codec::{StreamReader, StreamWriter};
/// use compat_core::VMState;
///
/// #[derive(Clone, Default, VMState)]
/// #[vmstate(name = "e1000e/timadj", version = 1)]
/// pub struct Timadj {
///     pub timadj: u32,
/// }
///
/// #[derive(Clone, Default, VMState)]
/// #[vmstate(name = "e1000e", version = 3, minimum_version = 2)]
/// pub struct E1000e {
///     pub ctrl: u32,
///     #[vmstate(since = 3)]
///     pub itr: u16,
///     #[vmstate(must_match)]
///     pub num_queues: u8,
///     pub mac: [u8; 6],
///     pub ring_len: u16,
///     #[vmstate(len = ring_len, max = 256)]
///     pub ring: Vec<u32>,
///     #[vmstate(unused = 4)]
///     pub _reserved: (),
///     #[vmstate(skip)]
///     pub host_only: bool,
///     #[vmstate(subsection, needed = E1000e::timadj_needed)]
///     pub timadj: Timadj,
///     #[vmstate(skip)]
///     pub migrate_timadj: bool,
/// }
///
/// impl E1000e {
///     fn timadj_needed(&self) -> bool {
///         self.migrate_timadj
///     }
/// }
///
/// let mut src = E1000e { ctrl: 7, ring_len: 2, ring: vec![1, 2], migrate_timadj: true, ..Default::default() };
/// let mut w = StreamWriter::new();
/// src.save_state(&mut w).unwrap();
/// let bytes = w.into_bytes();
/// let mut dst = E1000e { migrate_timadj: true, ..Default::default() };
/// dst.load_state(&mut StreamReader::new(&bytes), 3).unwrap();
/// assert_eq!((dst.ctrl, dst.ring.clone()), (7, vec![1, 2]));
/// ```
#[doc(inline)]
pub use compat_derive::VMState;

/// Declares a closed enum usable as a property kind (the derive; see the
/// trait [`PropertyEnum`](trait@PropertyEnum)).
///
/// ```
/// use compat_core::{PropertyEnum, PropertyKind, PropertyType, PropertyValue};
///
/// #[derive(Clone, Copy, Debug, PartialEq, PropertyEnum)]
/// #[property_enum(name = "LostTickPolicy")]
/// pub enum LostTickPolicy {
///     Discard,
///     Delay,
///     #[property_enum(name = "slew")]
///     Catchup,
/// }
///
/// let kind = LostTickPolicy::KIND;
/// assert_eq!(kind.parse("slew"), Ok(PropertyValue::Enum("slew")));
/// assert_eq!(
///     LostTickPolicy::from_value(&PropertyValue::Enum("delay")),
///     Some(LostTickPolicy::Delay)
/// );
/// ```
#[doc(inline)]
pub use compat_derive::PropertyEnum;

/// Declares compat sets.
///
/// ```
/// use compat_core::{compat_set, Device};
///
/// #[derive(Device)]
/// #[device(name = "pci-device", abstract)]
/// pub struct PciDevice {
///     #[property(name = "x-pcie-err-unc-mask", bit = 0, default = true)]
///     pub cap: u32,
/// }
///
/// compat_set! {
///     /// What 8.0 changed, undone for machine types up to 7.2.
///     pub HW_COMPAT_7_2 = "hw_compat_7_2" [
///         // Checked by the compiler: the type, the property, the value.
///         { PciDevice, "x-pcie-err-unc-mask", "off" },
///         // A type named by string is checked when the release is built.
///         { "e1000e", "migrate-timadj", "off" },
///     ];
/// }
///
/// assert_eq!(HW_COMPAT_7_2.name, "hw_compat_7_2");
/// assert_eq!(
///     HW_COMPAT_7_2.entries[0].to_string(),
///     "{pci-device, x-pcie-err-unc-mask, off}"
/// );
/// ```
///
/// A compile error names the entry on its token:
///
/// ```compile_fail
/// use compat_core::{compat_set, Device};
///
/// #[derive(Device)]
/// #[device(name = "virtio-blk-device")]
/// pub struct VirtioBlk {
///     #[property(name = "num-queues", default = 1)]
///     pub num_queues: u16,
/// }
///
/// compat_set! {
///     // QEMU's trap: the property is `num-queues`.
///     pub HW_COMPAT_5_1 = "hw_compat_5_1" [ { VirtioBlk, "num_queues", 1 } ];
/// }
/// ```
#[doc(inline)]
pub use compat_derive::compat_set;
pub use device::{
    Board, BusPlace, Device, DeviceObject, DeviceTypeInfo, RealizeError, TypeRegistry,
};
pub use machine::{BusDef, MachineDef, MachineFamily, MachineType, Version, VersionStep};
pub use migration::{migrate, migrate_chain, MigrationError};
pub use property::cmdline::{parse_device, parse_global, DeviceOption, GlobalOption};
pub use property::{
    OnOffAuto, PropertyDef, PropertyEnum, PropertyError, PropertyKind, PropertyType, PropertyValue,
    Size,
};
pub use release::{Release, ReleaseBuilder};
pub use resolve::{Adoption, Explanation, Machine, MachineConfig, Source};
pub use stream::StreamFormat;
pub use vmstate::{Backups, Migratable, TmpView, VMState, VmStateDescription};

/// Paths the derives' generated code names. Not a public API: it may change
/// in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::codec::{LoadError, SaveError, StreamReader, StreamWriter};
    pub use crate::compat::derive_support::{check_compat_property, check_compat_value};
    pub use crate::compat::{CompatSet, GlobalProperty};
    pub use crate::device::derive_support::{chain_declares, check_gate, check_inert_property};
    pub use crate::device::{
        Board, Device, DeviceTypeInfo, RealizeError, SetPropertyError, DEVICE,
    };
    pub use crate::property::derive_support::BitField;
    pub use crate::property::{
        EnumInfo, PropertyDef, PropertyEnum, PropertyKind, PropertyType, PropertyValue, Size,
    };
    pub use crate::vmstate::derive_support::{
        check_subsection, check_version, checked_array_len, checked_len, hook_load, hook_save,
        list_marker, map_marker, must_match, must_match_bytes, next_subsection, null_marker,
        saved_len, slot_marker, unknown_subsection, OwnState,
    };
    pub use crate::vmstate::{
        Element, FieldKind, FieldLayout, Layout, ListKind, MapKey, Migratable, Needed, Scalar,
        TmpView, VMState, VmStateDescription, VmStateField, NULL_MARKER, VALID_MARKER,
    };
    pub use std::any::TypeId;

    pub use std::boxed::Box;
    pub use std::option::Option::{None, Some};
    pub use std::result::Result::{Err, Ok};
}
