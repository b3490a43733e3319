//! Device types with single inheritance, their instances, and the registry
//! of the types one release knows (QOM's `TypeInfo`/`object_dynamic_cast`).
//!
//! `#[derive(Device)]` emits a [`DeviceTypeInfo`] per struct and implements
//! [`Device`]; a [`TypeRegistry`] is filled explicitly from those — there is
//! no process-wide registry, so several releases can live in one process.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use crate::property::{PropertyDef, PropertyError, PropertyValue};
use crate::suggest::did_you_mean;

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
    pub vmstate: Option<&'static crate::vmstate::VmStateDescription>,
}

/// The root of every device type chain (QEMU's `TYPE_DEVICE`): abstract, no
/// properties.
pub const DEVICE: &DeviceTypeInfo = &DeviceTypeInfo {
    name: "device",
    parent: None,
    is_abstract: true,
    hotpluggable: true,
    properties: &[],
    description: "the root of all device types",
    rust_type: TypeId::of::<RootDevice>,
    instantiate: None,
    vmstate: None,
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
    /// This type, then its parent, up to the root.
    pub fn ancestors(&'static self) -> impl Iterator<Item = &'static DeviceTypeInfo> {
        std::iter::successors(Some(self), |t| t.parent)
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

/// Const-evaluable check that the chain starting at `ty` declares a property
/// `name`; `#[derive(Device)]` uses it to reject, at compile time, a property
/// that clashes with an inherited one.
#[doc(hidden)]
pub const fn chain_declares(ty: &'static DeviceTypeInfo, name: &str) -> bool {
    find_in_chain(ty, name).is_some()
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

/// The property along `ty`'s chain closest to the misspelt `name`;
/// usable in `const` (see [`crate::suggest::score`]).
pub const fn closest_in_chain(ty: &'static DeviceTypeInfo, name: &str) -> Option<&'static str> {
    let mut best: Option<(usize, &'static str)> = None;
    let mut cur = Some(ty);
    while let Some(t) = cur {
        let mut i = 0;
        while i < t.properties.len() {
            let candidate = t.properties[i].name;
            if let Some(s) = crate::suggest::score(name, candidate) {
                best = match best {
                    Some((b, _)) if b <= s => best,
                    _ => Some((s, candidate)),
                };
            }
            i += 1;
        }
        cur = t.parent;
    }
    match best {
        Some((_, name)) => Some(name),
        None => None,
    }
}

pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    crate::property::bytes_eq(a.as_bytes(), b.as_bytes())
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
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a device type",
    label = "not a device type",
    note = "declare it with #[derive(Device)] and #[device(name = \"...\")]"
)]
pub trait Device: Any + Sized {
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
    fn migratable(&mut self) -> Option<&mut dyn crate::vmstate::Migratable> {
        None
    }

    /// Build the device's state from its resolved properties and the
    /// board it is on (QEMU's `realize`); `#[device(realize = path)]`
    /// names the function.
    fn realize(&mut self, _board: &crate::machine::Board<'_>) -> Result<(), String> {
        Ok(())
    }
}

/// A device instance behind a pointer, whatever its Rust type: what a
/// registry creates from a type name.
pub trait DeviceObject: Any {
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
    fn migratable(&mut self) -> Option<&mut dyn crate::vmstate::Migratable>;

    /// Realize the device on `board`.
    fn realize(&mut self, board: &crate::machine::Board<'_>) -> Result<(), String>;

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

    fn migratable(&mut self) -> Option<&mut dyn crate::vmstate::Migratable> {
        Device::migratable(self)
    }

    fn realize(&mut self, board: &crate::machine::Board<'_>) -> Result<(), String> {
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

/// An error building or querying a [`TypeRegistry`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Two different types share a name.
    #[error("device type '{name}' is registered twice, by two different types")]
    DuplicateType {
        /// The shared name.
        name: String,
    },
    /// A property name appears twice along one inheritance chain.
    #[error(
        "device type '{type_name}' declares property '{property}', \
         which its ancestor '{ancestor}' already declares"
    )]
    PropertyClash {
        /// The type declaring the clashing property.
        type_name: String,
        /// The property name.
        property: String,
        /// The ancestor that declares it first.
        ancestor: String,
    },
    /// One type declares a property name twice.
    #[error("device type '{type_name}' declares property '{property}' twice")]
    DuplicateProperty {
        /// The type.
        type_name: String,
        /// The property name.
        property: String,
    },
    /// No type of that name is registered (QEMU's wording).
    #[error("'{name}' is not a valid device model name{suggestion}")]
    UnknownType {
        /// The name asked for.
        name: String,
        /// `"; did you mean '…'?"` or empty.
        suggestion: String,
    },
    /// The type is abstract.
    #[error("device type '{name}' is abstract and cannot be instantiated")]
    Abstract {
        /// The abstract type.
        name: String,
    },
}

/// The device types one release knows, by name.
#[derive(Clone)]
pub struct TypeRegistry {
    types: BTreeMap<&'static str, &'static DeviceTypeInfo>,
}

impl Default for TypeRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TypeRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.types.keys()).finish()
    }
}

impl TypeRegistry {
    /// A registry holding only the root type `device`.
    pub fn new() -> Self {
        let mut types = BTreeMap::new();
        types.insert(DEVICE.name, DEVICE);
        TypeRegistry { types }
    }

    /// Register `T` and, first, every ancestor not yet registered.
    pub fn register<T: Device>(&mut self) -> Result<(), RegistryError> {
        self.register_type(T::TYPE)
    }

    /// Register a type from its static description, with its ancestors.
    /// Registering the same type again is a no-op; another type of the same
    /// name, or a property declared twice along the chain, is an error and
    /// leaves the registry unchanged.
    pub fn register_type(&mut self, ty: &'static DeviceTypeInfo) -> Result<(), RegistryError> {
        let mut chain: Vec<&'static DeviceTypeInfo> = ty.ancestors().collect();
        chain.reverse();
        for t in &chain {
            if let Some(existing) = self.types.get(t.name) {
                if (existing.rust_type)() != (t.rust_type)() {
                    return Err(RegistryError::DuplicateType {
                        name: t.name.to_owned(),
                    });
                }
            }
            check_property_names(t)?;
        }
        for t in chain {
            self.types.insert(t.name, t);
        }
        Ok(())
    }

    /// Register `ty` in place of the types of the same names along its
    /// chain (a release shipping a new version of a device and its
    /// parents). Types whose own chains still name a replaced type keep
    /// their old ancestors: replace those too.
    pub fn replace_type(&mut self, ty: &'static DeviceTypeInfo) -> Result<(), RegistryError> {
        let mut removed = Vec::new();
        for t in ty.ancestors() {
            if let Some(existing) = self.types.get(t.name) {
                if (existing.rust_type)() != (t.rust_type)() {
                    removed.push(self.types.remove(t.name).expect("present"));
                }
            }
        }
        self.register_type(ty).inspect_err(|_| {
            for t in removed {
                self.types.insert(t.name, t);
            }
        })
    }

    /// The type called `name`, if registered.
    pub fn get(&self, name: &str) -> Option<&'static DeviceTypeInfo> {
        self.types.get(name).copied()
    }

    /// The type called `name`, or QEMU's error with a suggestion.
    pub fn lookup(&self, name: &str) -> Result<&'static DeviceTypeInfo, RegistryError> {
        self.get(name).ok_or_else(|| RegistryError::UnknownType {
            name: name.to_owned(),
            suggestion: did_you_mean(name, self.types.keys().copied()),
        })
    }

    /// Whether type `name` is, or derives from, `ancestor`. Unknown names
    /// are not anything.
    pub fn is_a(&self, name: &str, ancestor: &str) -> bool {
        self.get(name).is_some_and(|t| t.is_a(ancestor))
    }

    /// Every registered type, by name.
    pub fn types(&self) -> impl Iterator<Item = &'static DeviceTypeInfo> + '_ {
        self.types.values().copied()
    }

    /// Registered types that are `ancestor` or derive from it.
    pub fn descendants<'a>(
        &'a self,
        ancestor: &'a str,
    ) -> impl Iterator<Item = &'static DeviceTypeInfo> + 'a {
        self.types().filter(move |t| t.is_a(ancestor))
    }

    /// A new instance of type `name` with class defaults.
    pub fn create(&self, name: &str) -> Result<Box<dyn DeviceObject>, RegistryError> {
        let ty = self.lookup(name)?;
        match ty.instantiate {
            Some(new) if !ty.is_abstract => Ok(new()),
            _ => Err(RegistryError::Abstract {
                name: name.to_owned(),
            }),
        }
    }
}

fn check_property_names(ty: &'static DeviceTypeInfo) -> Result<(), RegistryError> {
    for (i, p) in ty.properties.iter().enumerate() {
        if ty.properties[..i].iter().any(|q| q.name == p.name) {
            return Err(RegistryError::DuplicateProperty {
                type_name: ty.name.to_owned(),
                property: p.name.to_owned(),
            });
        }
        if let Some(ancestor) = ty
            .parent
            .and_then(|parent| parent.find_property(p.name))
            .map(|(owner, _)| owner)
        {
            return Err(RegistryError::PropertyClash {
                type_name: ty.name.to_owned(),
                property: p.name.to_owned(),
                ancestor: ancestor.name.to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
