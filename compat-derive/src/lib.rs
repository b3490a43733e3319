//! # compat-derive
//!
//! The derive macros of **compat**. Use them through `compat-core`, which
//! re-exports them (`use compat_core::{Device, VMState, PropertyEnum,
//! compat_set};`); the examples are there. Each macro reads its attributes,
//! checks them and emits code that names the runtime through one hidden
//! module, `compat_core::__private` (`crate = "path"` changes where that is).
//! One mistake gives one error, on its token: when a declaration is wrong,
//! the macro still emits a stand-in so that code using the type does not
//! fail too.
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
mod krate;
mod property_enum;
mod vmstate;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// The four stages of a derive: read the input into a model with no rules
/// (`ast`, attributes included), apply the rules (`check`), and — when
/// nothing was wrong — emit the code (`emit`).
fn stages<'a, A, M>(
    input: &'a DeriveInput,
    ast: fn(&ctxt::Ctxt, &'a DeriveInput) -> Option<A>,
    check: fn(&ctxt::Ctxt, A) -> M,
    emit: fn(&M) -> proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let cx = ctxt::Ctxt::new();
    let model = ast(&cx, input).map(|a| check(&cx, a));
    cx.check()?;
    Ok(emit(&model.expect("a model when there are no errors")))
}

/// Run a derive: its code, or its errors and a stand-in (`fallback`) so
/// that code using the type adds no errors of its own; either way inside
/// the block that imports the runtime.
fn derive(
    input: &DeriveInput,
    attr: &str,
    expand: fn(&DeriveInput) -> syn::Result<proc_macro2::TokenStream>,
    fallback: fn(&DeriveInput) -> proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let krate = krate::from_attrs(&input.attrs, attr);
    match expand(input) {
        Ok(code) => krate::wrap(&krate, code),
        Err(err) => {
            let mut out = err.into_compile_error();
            out.extend(krate::wrap(&krate, fallback(input)));
            out
        }
    }
}

/// Declares a device type: its name, its parent type, and its properties,
/// one field each (or several bit properties sharing an integer field).
/// Implements `compat_core::Device`.
///
/// Struct keys, in `#[device(...)]`:
/// * `name = "..."` (required): the type name, as `-device` takes it;
/// * `parent = Type`: another `#[derive(Device)]` type, embedded in a field
///   marked `#[device(parent)]`; without it the parent is the root type
///   `device`;
/// * `abstract`: the type cannot be instantiated (`pci-device`);
/// * `hotpluggable = bool` (default true): a user `-global` on a type that
///   cannot be plugged in and matched no device is reported as unused;
/// * `user_creatable = bool` (default true): `false` for a type only a
///   machine creates on board; `-device` refuses it;
/// * `nic`: a network card model: QEMU creates one instance of each at
///   start-up to list the models, so a user `-global` on it is applied
///   (and its error reported) even when the machine has no such card;
/// * `child = Type`: the device holds an instance of device type `Type`
///   and forwards its properties (QEMU's virtio PCI proxies and their
///   `virtio-blk-device`): globals on `Type` and its parents reach it too;
/// * `bus = "KIND"`: instances plug into a bus of that kind (`"PCI"`; an
///   `addr` property places them on it, else the first free slot);
///   inherited by derived types. The place names the migration section, as
///   QEMU's device path does (`0000:00:03.0/pcie-root-port`);
/// * `provides_bus = "KIND"`, `bus_slots = N`: instances provide a bus of
///   that kind with N slots (default 32), named by their id (a PCIe root
///   port: one slot);
/// * `inert = "a, b"`: inherited properties that have no effect on this
///   type (a PCI Express switch on a conventional PCI function), each
///   checked at compile time to be a property of the type or an ancestor:
///   like a `local` property, a pre-flight and `verify` do not compare them;
/// * `vmstate`: instances migrate, with the struct's `#[derive(VMState)]`;
/// * `realize = path`: `fn(&mut Self, &Board) -> Result<(), E>` where `E`
///   converts into `RealizeError` (a `String` or `&str` does), run once the
///   properties are resolved (QEMU's `realize`);
/// * `crate = "path"`: where the runtime is, for a crate that re-exports
///   `compat-core` (default `::compat_core`).
///
/// The struct's doc comment is the type's description.
///
/// Field keys, in `#[property(...)]`:
/// * `name = "..."` (required): the property's name;
/// * `default = value`: a literal checked against the field's kind at
///   compile time with the runtime's own parser, or any expression of the
///   field's type; without it the field starts at zero, `false` or empty;
/// * `bit = N`: a bit of an unsigned integer field; several bit properties
///   may share the field;
/// * `doc = "..."`: the help text (defaults to the field's doc comment);
/// * `accessor = "ident"` names the typed getter (and the setter
///   `set_ident`), `accessor = false` generates neither. Without the key
///   they are the property's name in snake case (`x_pcie_err_unc_mask()`,
///   `set_x_pcie_err_unc_mask()`), with the field's visibility;
/// * `sticky`: a destination may take the value from an incoming
///   migration, under its policy (a mitigation that stays with the guest);
/// * `local`: a setting of the host (a back end), which may differ between
///   a source and its destination and is not compared before a migration;
/// * `absent = "VALUE"`: how a release whose type lacks the property
///   behaved, as a value of it (checked at compile time): a migration from
///   or to such a release is no difference while the property holds it.
///   Without it, a property only one side has is a difference unless a
///   compat set gave its value — what a forgotten compat entry looks like;
/// * `alike = "VALUE"`: a value that behaves as the default (checked at
///   compile time), for a default that changed without changing behaviour
///   (QEMU's `rombar`: `1` up to 9.1, `-1` since, alike without a ROM
///   file): a type of another release holding it is no difference from
///   this property at its default, either way. Not for bit properties.
///
/// Fields that are neither the parent nor properties start at
/// `Default::default()`. A property field is configuration, not state: it
/// migrates only if a `#[vmstate(...)]` attribute on it says so (QEMU never
/// migrates properties; compare one with `#[vmstate(must_match)]`).
#[proc_macro_derive(Device, attributes(device, property))]
pub fn derive_device(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(&input, "device", device::expand, device::fallback).into()
}

/// Declares compat sets: named lists of `{driver, property, value}`, as
/// QEMU's `hw_compat_X_Y` arrays.
///
/// Each set is `VISIBILITY IDENT = "name" [ {DRIVER, "property", VALUE}, ... ];`
/// and becomes a `const IDENT: &CompatSet`. `DRIVER` is a Rust device type
/// (then a misspelt type, a property it does not have, or a value its kind
/// rejects is a compile error on that token) or a string (checked when the
/// release is built). `VALUE` is a string, integer or bool literal. One set
/// may not set the same property twice. A first line `crate = "path";`
/// says where the runtime is, for a crate that re-exports `compat-core`.
#[proc_macro]
pub fn compat_set(input: TokenStream) -> TokenStream {
    let sets = parse_macro_input!(input as compat::Sets);
    compat::expand(sets).into()
}

/// Declares a closed enum usable as a property kind (QEMU's QAPI enums such
/// as `OnOffAuto`). Implements `compat_core::PropertyEnum` and
/// `compat_core::PropertyType`.
///
/// Value names default to the variant name in kebab case (`DelayMore` →
/// `delay-more`); `#[property_enum(name = "...")]` on a variant overrides
/// one. On the enum, `#[property_enum(name = "...")]` names it for help and
/// errors (default: the Rust name) and `crate = "path"` says where the
/// runtime is. The first variant is the value of a property without a
/// default.
#[proc_macro_derive(PropertyEnum, attributes(property_enum))]
pub fn derive_property_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(
        &input,
        "property_enum",
        property_enum::expand,
        property_enum::fallback,
    )
    .into()
}

/// Declares a struct's migrated state: a VMState description with a name
/// and version, and straight-line save, load and vmdesc code generated for
/// exactly this struct (no field table is interpreted at run time).
/// Implements `compat_core::VMState`; the struct must be `Clone` (a load
/// fills a copy, which replaces the state only when the whole stream has
/// loaded).
///
/// Struct keys, in `#[vmstate(...)]`:
/// * `name = "..."` (required): the name in the stream;
/// * `version = N` (default 1), `minimum_version = M` (default `version`):
///   the version saved, and the oldest loaded;
/// * `pre_save = path`, `pre_load = path`: `fn(&mut Self) -> Result<(), E>`
///   with `E: Display`; `post_load = path`: `fn(&mut Self, version_id: u32)
///   -> Result<(), E>`;
/// * `crate = "path"`: where the runtime is (default `::compat_core`).
///
/// Field keys, in `#[vmstate(...)]` (fields are saved in declaration order,
/// as QEMU's scalar kinds, `[T; N]` and `[[T; N]; M]` arrays, `[u8; N]`
/// buffers, `Vec`s, nested `#[derive(VMState)]` structs (also boxed, and in
/// `[T; N]` arrays), and arrays of nullable elements
/// `[Option<T>; N]` / `[Option<Box<T>>; N]` of scalars or structs — QEMU's
/// arrays of pointers, where an empty slot is the byte 0x30 and which slots
/// are empty is the destination's to say):
/// * `since = V`: added in version V, read only from streams of version ≥ V;
/// * `exists = path`: `fn(&Self, version_id: u32) -> bool`, deciding alone
///   whether the field is in the stream;
/// * `must_match`: a load compares the incoming value with the destination's
///   own and fails on a difference; with `mask = path` (`fn(&Self) -> &[u8]`)
///   a byte buffer is compared only under the mask, like QEMU's PCI config
///   check;
/// * `skip`: not migrated (a `#[property]` field is skipped unless a
///   `#[vmstate(...)]` attribute on it says otherwise);
/// * `unused = N`: N zero bytes on save, skipped on load (the field is `()`);
/// * `subsection` with `needed = path` (`fn(&Self) -> bool`): the field's type
///   is a subsection's VMState, sent after the fields when `needed` is true;
///   its name must start with the parent's and a `/`; with `gate = "prop"`,
///   a bool property of the device type, it is sent only while that property
///   is on, so that a compat set turning the property off for old machine
///   types provably keeps it off their streams;
/// * `timer` on an `i64`: a timer's expiry time (QEMU's
///   `VMSTATE_TIMER_PTR`), described with QEMU's type name `timer`;
/// * `elements` on a `[u8; N]`: described as N `uint8`s (QEMU's
///   `VMSTATE_UINT8_ARRAY`) instead of one buffer (`VMSTATE_BUFFER`) — the
///   same bytes on the wire, another shape in descriptions and dumps;
/// * `len = field, max = N` on a `Vec` of scalars or of structs deriving
///   VMState (QEMU's `VMSTATE_VARRAY_*` and `VMSTATE_STRUCT_VARRAY_*`): its
///   length is that earlier unsigned field, the elements one after another;
///   a stream announcing more than `max` is refused before anything is
///   allocated;
/// * `alloc` on an array of nullable elements: every slot is marked, 0x31
///   before an element and 0x30 for an empty slot, and the stream decides
///   which slots a load fills, allocating present elements (QEMU's
///   `VMS_ARRAY_OF_POINTER_AUTO_ALLOC`); without it an empty slot is 0x30
///   and a present one just its element, and the destination's empty slots
///   decide;
/// * `qtailq` or `qlist`, with `max = N`, on a `Vec` or `VecDeque` of
///   structs: a list in QEMU's `QTAILQ`/`QLIST` encoding (0x01 before each
///   element, 0x00 at the end), at most `max` elements on load;
/// * `tmp = View` on a field of type `()`: the fields of a temporary view
///   (QEMU's `VMSTATE_WITH_TMP`) at that place; `View` derives VMState and
///   implements `TmpView<Self>`, built from the struct before a save and
///   written back into it after a load;
/// * `gtree` with `max = N` on a `BTreeMap<K, V>` whose values derive
///   VMState and whose key is a struct deriving VMState or a `u64` (QEMU's
///   direct key): a node count, then 0x01, key and value per node in key
///   order, then 0x00; a count above `max` is refused before any node;
/// * `name = "..."`: the field's name in descriptions (default: the Rust
///   name).
///
/// List elements, map keys and values, and the elements of `alloc` arrays
/// implement `Default`: a load builds each from its default, then reads it.
#[proc_macro_derive(VMState, attributes(vmstate))]
pub fn derive_vmstate(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(&input, "vmstate", vmstate::expand, vmstate::fallback).into()
}
