//! # compat-derive
//!
//! Derive macros of **compat**. They only read attributes, check them, and
//! emit calls of `compat-core`; every rule lives in the core crate (the
//! derive even validates literal defaults with the core's own parsers).
//!
//! * [`macro@Device`]: a device type with qdev-style properties;
//! * [`macro@VMState`]: a struct's migrated state, with straight-line save and
//!   load code;
//! * [`macro@PropertyEnum`]: a closed enum usable as a property;
//! * [`compat_set!`]: compat sets checked by the compiler.

mod attr;
mod compat;
mod ctxt;
mod device;
mod model;
mod property_enum;
mod vmstate;
mod vmstate_model;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Declares a device type: its name, its parent type, and its properties,
/// one field each (or several bit properties sharing an integer field).
///
/// ```
/// use compat_derive::Device;
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
/// use compat_core::{Device, DeviceObject, PropertyValue, TypeRegistry};
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
///
/// Struct keys, in `#[device(...)]`: `name = "..."` (required), `parent = Type`
/// (another `#[derive(Device)]` type, embedded in a field marked
/// `#[device(parent)]`; without it the parent is the root type `device`),
/// `abstract`, `hotpluggable = bool` (default true). The struct's doc comment
/// is the type's description.
///
/// Field keys, in `#[property(...)]`: `name = "..."` (required), `default =
/// value` (a literal checked against the kind at compile time, or any
/// expression of the field's type), `bit = N` (a bit of an unsigned integer
/// field; several bit properties may share the field), `doc = "..."`
/// (defaults to the field's doc comment). Fields that are neither the parent
/// nor properties start at `Default::default()`.
///
/// For each property the derive adds a getter named after the property in
/// snake case (`x_pcie_err_unc_mask()`) and a setter (`set_...`), with the
/// field's visibility.
#[proc_macro_derive(Device, attributes(device, property))]
pub fn derive_device(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    device::expand(&input)
        .unwrap_or_else(|err| {
            let mut out = err.into_compile_error();
            out.extend(device::fallback(&input));
            out
        })
        .into()
}

/// Declares a closed enum usable as a property kind. Value names default to
/// the variant name in kebab case (`DelayMore` → `delay-more`); override
/// with `#[property_enum(name = "...")]` on a variant, and name the enum
/// itself (for help and errors) with `#[property_enum(name = "...")]` on the
/// enum. The first variant is the value of a property without a default.
///
/// ```
/// use compat_derive::PropertyEnum;
/// use compat_core::{PropertyKind, PropertyType, PropertyValue};
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
/// assert_eq!(LostTickPolicy::from_value(&PropertyValue::Enum("delay")), Some(LostTickPolicy::Delay));
/// ```
/// Declares compat sets: named lists of `{driver, property, value}`, as
/// QEMU's `hw_compat_X_Y` arrays.
///
/// ```
/// use compat_derive::{compat_set, Device};
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
/// assert_eq!(HW_COMPAT_7_2.entries[0].to_string(), "{pci-device, x-pcie-err-unc-mask, off}");
/// ```
///
/// Each set is `VISIBILITY IDENT = "name" [ {DRIVER, "property", VALUE}, ... ];`
/// and becomes a `const IDENT: &CompatSet`. `DRIVER` is a Rust device type
/// (then a misspelt type, a property it does not have, or a value its kind
/// rejects is a compile error) or a string. `VALUE` is a string, integer or
/// bool literal. One set may not set the same property twice.
#[proc_macro]
pub fn compat_set(input: TokenStream) -> TokenStream {
    let sets = parse_macro_input!(input as compat::Sets);
    compat::expand(sets)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

#[proc_macro_derive(PropertyEnum, attributes(property_enum))]
pub fn derive_property_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    property_enum::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Declares a struct's migrated state: a VMState description with a name
/// and version, and straight-line save, load and vmdesc code generated for
/// exactly this struct (no field table is interpreted at run time).
///
/// ```
/// use compat_derive::VMState;
/// use compat_core::codec::{StreamReader, StreamWriter};
/// use compat_core::VmState;
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
///
/// Struct keys, in `#[vmstate(...)]`: `name = "..."` (required), `version = N`
/// (default 1), `minimum_version = M` (default: `version`), `pre_save = path`
/// and `pre_load = path` (`fn(&mut Self) -> Result<(), E: Display>`),
/// `post_load = path` (`fn(&mut Self, version_id: u32) -> Result<(), E>`).
///
/// Field keys: `since = V` (added in version V: read only from streams of
/// version ≥ V), `exists = path` (`fn(&Self, version_id: u32) -> bool`, deciding
/// alone), `must_match` (a load compares the incoming value with the
/// destination's own and fails on a difference; `mask = path` (`fn(&Self) ->
/// &[u8]`) restricts the comparison of a byte buffer to some bits, like
/// QEMU's PCI config check), `skip`, `unused = N`, `subsection` with
/// `needed = path` (`fn(&Self) -> bool`; the field's type is the
/// subsection's VMState), `len = field, max = N` on a `Vec` (its length is
/// that earlier unsigned field; a stream announcing more than `max` is
/// refused before anything is allocated), `name = "..."` (the field's name
/// in descriptions).
#[proc_macro_derive(VMState, attributes(vmstate))]
pub fn derive_vmstate(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    vmstate::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
