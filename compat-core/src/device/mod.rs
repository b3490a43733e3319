//! Device types with single inheritance, their instances, and the registry
//! of the types one release knows (QOM's `TypeInfo`/`object_dynamic_cast`).
//!
//! `#[derive(Device)]` emits a [`DeviceTypeInfo`] per struct and implements
//! [`Device`]; a [`TypeRegistry`] is filled explicitly from those — there is
//! no process-wide registry, so several releases can live in one process.

use std::any::{Any, TypeId};
use std::fmt::{self, Write as _};

use crate::property::{PropertyDef, PropertyError, PropertyValue};

mod board;
pub(crate) mod derive_support;
mod registry;

use crate::text::str_eq;
use crate::text::suggest::did_you_mean;
use crate::vmstate::{Migratable, VmStateDescription};
pub use board::{Board, BusPlace, RealizeError};
pub use registry::{RegistryError, TypeRegistry};

/// The static description of a device type, as `#[derive(Device)]` emits it.
pub struct DeviceTypeInfo {
    /// The type name (`virtio-blk-device`).
    pub name: &'static str,
    /// The parent type; `None` only for the root type [`DEVICE`].
    pub parent: Option<&'static DeviceTypeInfo>,
    /// An abstract type cannot be instantiated (`pci-device`).
    pub is_abstract: bool,
    /// Whether instances may be plugged in at run time; a user global on a
    /// hotpluggable type that matched no device is not reported as unused,
    /// as in QEMU.
    pub hotpluggable: bool,
    /// Whether `-device` may create it; `false` for a type only a machine
    /// creates on board (QEMU's `user_creatable`).
    pub user_creatable: bool,
    /// A network card model: QEMU creates one instance of each model at
    /// start-up to list them, which applies the user's globals to it, so a
    /// global it rejects fails even when the machine has no such card.
    pub nic: bool,
    /// The device type this one holds an instance of and forwards the
    /// properties of (QEMU's virtio PCI proxy and its virtio device):
    /// globals on that type, or its parents, apply to this one too.
    pub child: Option<&'static DeviceTypeInfo>,
    /// The kind of bus instances plug into (`"PCI"`), if this type says;
    /// derived types inherit it ([`bus_kind`](Self::bus_kind)).
    pub bus: Option<&'static str>,
    /// The kind of bus instances provide, named by their id (a PCI bridge
    /// or root port).
    pub provides_bus: Option<&'static str>,
    /// How many slots that bus has.
    pub bus_slots: u8,
    /// Properties inherited from an ancestor that have no effect on this
    /// type (a PCI Express switch on a conventional PCI function): settings
    /// of it that may differ between a source and its destination, which a
    /// pre-flight and `verify` do not compare — as for a `local` property.
    pub inert: &'static [&'static str],
    /// The properties this type declares itself (not inherited ones).
    pub properties: &'static [PropertyDef],
    /// One line of documentation.
    pub description: &'static str,
    /// The Rust type implementing it, to tell two types of the same name
    /// apart.
    pub rust_type: fn() -> TypeId,
    /// A new instance with every property at its class default; `None` for
    /// abstract types.
    pub instantiate: Option<fn() -> Box<dyn DeviceObject>>,
    /// The VMState description of its instances, if they migrate
    /// (`#[device(vmstate)]`).
    pub vmstate: Option<&'static VmStateDescription>,
    /// The derive found mistakes in the declaration and reported them:
    /// this is a stand-in, and compile-time checks against it (compat-set
    /// entries naming it) stay silent, so one mistake gives one error.
    #[doc(hidden)]
    pub erroneous: bool,
}

/// The root of every device type chain (QEMU's `TYPE_DEVICE`): abstract, no
/// properties.
pub const DEVICE: &DeviceTypeInfo = &DeviceTypeInfo {
    name: "device",
    parent: None,
    is_abstract: true,
    hotpluggable: true,
    user_creatable: true,
    nic: false,
    child: None,
    bus: None,
    provides_bus: None,
    bus_slots: 32,
    inert: &[],
    properties: &[],
    description: "the root of all device types",
    rust_type: TypeId::of::<RootDevice>,
    instantiate: None,
    vmstate: None,
    erroneous: false,
};

/// The Rust identity of the root type, which has no instances.
struct RootDevice;

impl fmt::Debug for DeviceTypeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceTypeInfo")
            .field("name", &self.name)
            .field("parent", &self.parent.map(|p| p.name))
            .field("is_abstract", &self.is_abstract)
            .field("hotpluggable", &self.hotpluggable)
            .field("properties", &self.properties)
            .finish_non_exhaustive()
    }
}

impl DeviceTypeInfo {
    /// The kind of bus instances plug into: this type's, or the nearest
    /// ancestor's.
    pub fn bus_kind(&'static self) -> Option<&'static str> {
        self.ancestors().find_map(|t| t.bus)
    }

    /// The types whose globals apply to this one: its ancestors, then its
    /// child's (QEMU applies a global to the proxy's child object, whose
    /// properties the proxy forwards).
    pub fn global_targets(&'static self) -> impl Iterator<Item = &'static DeviceTypeInfo> {
        self.ancestors()
            .chain(self.child.into_iter().flat_map(|c| c.ancestors()))
    }

    /// This type, then its parent, up to the root.
    pub fn ancestors(&'static self) -> impl Iterator<Item = &'static DeviceTypeInfo> {
        std::iter::successors(Some(self), |t| t.parent)
    }

    /// Whether property `name` has no effect on this type: it or an
    /// ancestor lists it as `inert`.
    pub fn is_inert(&'static self, name: &str) -> bool {
        self.ancestors().any(|t| t.inert.contains(&name))
    }

    /// Whether this type is `name` or derives from it (QOM's is-a).
    pub fn is_a(&'static self, name: &str) -> bool {
        self.ancestors().any(|t| t.name == name)
    }

    /// The property `name`, declared here or by an ancestor, with the type
    /// that declares it.
    pub fn find_property(
        &'static self,
        name: &str,
    ) -> Option<(&'static DeviceTypeInfo, &'static PropertyDef)> {
        self.ancestors()
            .find_map(|t| t.properties.iter().find(|p| p.name == name).map(|p| (t, p)))
    }

    /// Like [`find_property`](Self::find_property), with QEMU's error
    /// (`Property 'T.P' not found`) and a suggestion when it is not there.
    pub fn property(
        &'static self,
        name: &str,
    ) -> Result<(&'static DeviceTypeInfo, &'static PropertyDef), PropertyError> {
        self.find_property(name)
            .ok_or_else(|| PropertyError::NotFound {
                type_name: self.name.to_owned(),
                property: name.to_owned(),
                suggestion: did_you_mean(name, self.all_properties().map(|(_, p)| p.name)),
            })
    }

    /// Every property of the type, inherited ones first (root first), each
    /// with the type that declares it.
    pub fn all_properties(
        &'static self,
    ) -> impl Iterator<Item = (&'static DeviceTypeInfo, &'static PropertyDef)> {
        let mut chain: Vec<_> = self.ancestors().collect();
        chain.reverse();
        chain
            .into_iter()
            .flat_map(|t| t.properties.iter().map(move |p| (t, p)))
    }

    /// Parse `text` as the value of property `name` of this type.
    pub fn parse_property(
        &'static self,
        name: &str,
        text: &str,
    ) -> Result<PropertyValue, PropertyError> {
        let (_, def) = self.property(name)?;
        def.parse(self.name, text)
    }

    /// The help text QEMU prints for `-device NAME,help`: one line per
    /// property, inherited ones first, with kind and declared default.
    pub fn help(&'static self) -> String {
        let mut out = format!("{} options:\n", self.name);
        let rows: Vec<(String, &PropertyDef)> = self
            .all_properties()
            .map(|(_, p)| (format!("{}=<{}>", p.name, p.kind.type_name()), p))
            .collect();
        let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        for (left, p) in rows {
            let mut right = String::from(p.doc);
            if p.has_declared_default() {
                if !right.is_empty() {
                    right.push(' ');
                }
                let _ = write!(right, "(default: {})", p.default_value());
            }
            let line = format!("  {left:<width$} - {right}");
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// The property `name` declared by `ty` or an ancestor; usable in `const`.
pub const fn find_in_chain(
    ty: &'static DeviceTypeInfo,
    name: &str,
) -> Option<&'static PropertyDef> {
    let mut cur = Some(ty);
    while let Some(t) = cur {
        let mut i = 0;
        while i < t.properties.len() {
            if str_eq(t.properties[i].name, name) {
                return Some(&t.properties[i]);
            }
            i += 1;
        }
        cur = t.parent;
    }
    None
}

/// Why a generated property setter refused a value. [`DeviceObject`] turns
/// it into a [`PropertyError`] that names the instance's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetPropertyError {
    /// No property of that name along the chain.
    NotFound,
    /// The value is not of the property's kind, or out of its range.
    WrongKind(crate::property::PropertyKind),
}

/// A device type implemented by a Rust struct; `#[derive(Device)]`
/// implements it.
///
/// Device types are `Send`, so that a machine and its devices can move to
/// a migration thread or sit behind an `Arc<Mutex<_>>` in a device manager.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a device type",
    label = "not a device type",
    note = "declare it with #[derive(Device)] and #[device(name = \"...\")]"
)]
pub trait Device: Any + Send + Sized {
    /// The type's static description.
    const TYPE: &'static DeviceTypeInfo;

    /// A new instance with every property at its class default and every
    /// other field at `Default::default()` (QEMU's `object_new` before any
    /// compat, global or `-device` option is applied).
    fn new_default() -> Self;

    /// The value of property `name` (own or inherited).
    fn property_value(&self, name: &str) -> Option<PropertyValue>;

    /// Set property `name` (own or inherited) to `value`.
    fn set_property_value(
        &mut self,
        name: &str,
        value: &PropertyValue,
    ) -> Result<(), SetPropertyError>;

    /// The instance's migrated state, if the type migrates.
    fn migratable(&mut self) -> Option<&mut dyn Migratable> {
        None
    }

    /// Build the device's state from its resolved properties and the
    /// board it is on (QEMU's `realize`); `#[device(realize = path)]`
    /// names the function.
    fn realize(&mut self, _board: &Board<'_>) -> Result<(), RealizeError> {
        Ok(())
    }
}

/// A device instance behind a pointer, whatever its Rust type: what a
/// registry creates from a type name.
pub trait DeviceObject: Any + Send {
    /// The instance's type.
    fn type_info(&self) -> &'static DeviceTypeInfo;
    /// The value of property `name`, with QEMU's error if there is none.
    fn get(&self, name: &str) -> Result<PropertyValue, PropertyError>;
    /// Set property `name` to a value of its kind.
    fn set(&mut self, name: &str, value: &PropertyValue) -> Result<(), PropertyError>;
    /// The instance as `Any`, to downcast to its Rust type.
    fn as_any(&self) -> &dyn Any;
    /// The instance as mutable `Any`.
    fn as_any_mut(&mut self) -> &mut dyn Any;

    /// The instance's migrated state, if the type migrates.
    fn migratable(&mut self) -> Option<&mut dyn Migratable>;

    /// Realize the device on `board`.
    fn realize(&mut self, board: &Board<'_>) -> Result<(), RealizeError>;

    /// Parse `text` with the property's kind and set it (what a `-device`
    /// option or `-global` does).
    fn set_str(&mut self, name: &str, text: &str) -> Result<(), PropertyError> {
        let value = self.type_info().parse_property(name, text)?;
        self.set(name, &value)
    }
}

impl<T: Device> DeviceObject for T {
    fn type_info(&self) -> &'static DeviceTypeInfo {
        T::TYPE
    }

    fn get(&self, name: &str) -> Result<PropertyValue, PropertyError> {
        match self.property_value(name) {
            Some(v) => Ok(v),
            None => Err(T::TYPE.property(name).err().unwrap_or_else(|| {
                // Declared but not readable: the generated code and the
                // table disagree, which the derive makes impossible.
                unreachable_property(T::TYPE, name)
            })),
        }
    }

    fn set(&mut self, name: &str, value: &PropertyValue) -> Result<(), PropertyError> {
        self.set_property_value(name, value).map_err(|e| match e {
            SetPropertyError::NotFound => T::TYPE
                .property(name)
                .err()
                .unwrap_or_else(|| unreachable_property(T::TYPE, name)),
            SetPropertyError::WrongKind(kind) => PropertyError::WrongKind {
                type_name: T::TYPE.name.to_owned(),
                property: name.to_owned(),
                expected: kind.to_string(),
                got: value.variant_name(),
            },
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn migratable(&mut self) -> Option<&mut dyn Migratable> {
        Device::migratable(self)
    }

    fn realize(&mut self, board: &Board<'_>) -> Result<(), RealizeError> {
        Device::realize(self, board)
    }
}

fn unreachable_property(ty: &DeviceTypeInfo, name: &str) -> PropertyError {
    PropertyError::NotFound {
        type_name: ty.name.to_owned(),
        property: name.to_owned(),
        suggestion: " (declared in the type's table but not by its Rust type)".to_owned(),
    }
}

impl dyn DeviceObject {
    /// The instance as its Rust type, if it is one.
    pub fn downcast_ref<T: Device>(&self) -> Option<&T> {
        self.as_any().downcast_ref()
    }

    /// The instance as its mutable Rust type, if it is one.
    pub fn downcast_mut<T: Device>(&mut self) -> Option<&mut T> {
        self.as_any_mut().downcast_mut()
    }
}

#[cfg(test)]
mod tests;
