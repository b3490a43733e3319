//! The device types one release knows, by name: registration with
//! ancestors, replacement by a newer version, lookup with suggestions.

use std::collections::BTreeMap;
use std::fmt;

use super::{Device, DeviceObject, DeviceTypeInfo, DEVICE};
use crate::text::suggest::did_you_mean;

/// An error building or querying a [`TypeRegistry`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    #[error("'{}' is not a valid device model name{suggestion}", crate::text::escape::escaped(.name))]
    UnknownType {
        /// The name asked for.
        name: String,
        /// `"; did you mean '…'?"` or empty.
        suggestion: String,
    },
    /// The type exists, but only a machine creates it, on board.
    #[error("'{name}': Parameter 'driver' expects a pluggable device type")]
    NotUserCreatable {
        /// The type.
        name: String,
    },
    /// A type whose ancestor migrates state migrates none itself: its
    /// instances would lose that state without a word.
    #[error(
        "device type '{type_name}' migrates no state, but its ancestor '{ancestor}' does \
         (VMState '{vmstate}'): a subtype migrates its parent's state (hold the parent in a \
         #[device(parent)] field) or its own (#[device(vmstate)])"
    )]
    StateLost {
        /// The type.
        type_name: String,
        /// The nearest ancestor with state.
        ancestor: String,
        /// That ancestor's VMState name.
        vmstate: String,
    },
    /// A type's description says its instances migrate (or not) and its
    /// instances say otherwise.
    #[error(
        "device type '{type_name}' {described}, but its instances {handed}: they must agree \
         (a hand-written Device implementation's migratable() and TYPE.vmstate)"
    )]
    StateMismatch {
        /// The type.
        type_name: String,
        /// What its description says.
        described: &'static str,
        /// What an instance hands out.
        handed: &'static str,
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
            check_state(t)?;
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

    /// The properties of type `name`, as `-device TYPE,help` lists them;
    /// an abstract type has no instances to configure, so none (as in
    /// QEMU).
    pub fn help(&self, name: &str) -> Result<String, RegistryError> {
        let ty = self.lookup(name)?;
        if ty.is_abstract {
            return Err(RegistryError::Abstract {
                name: name.to_owned(),
            });
        }
        Ok(ty.help())
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

/// A type migrates state where its ancestors do, and its instances hand
/// out state exactly when its description says they migrate.
fn check_state(ty: &'static DeviceTypeInfo) -> Result<(), RegistryError> {
    if ty.erroneous {
        return Ok(());
    }
    if ty.vmstate.is_none() {
        if let Some(ancestor) = ty.ancestors().skip(1).find(|a| a.vmstate.is_some()) {
            return Err(RegistryError::StateLost {
                type_name: ty.name.to_owned(),
                ancestor: ancestor.name.to_owned(),
                vmstate: ancestor
                    .vmstate
                    .map(|v| v.name)
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
    }
    let Some(new) = ty.instantiate.filter(|_| !ty.is_abstract) else {
        return Ok(());
    };
    let hands_out = new().migratable().is_some();
    if hands_out != ty.vmstate.is_some() {
        let (described, handed) = match hands_out {
            true => ("describes no VMState", "hand out state"),
            false => ("describes a VMState", "hand out none"),
        };
        return Err(RegistryError::StateMismatch {
            type_name: ty.name.to_owned(),
            described,
            handed,
        });
    }
    Ok(())
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
