//! The registry and type model, on device types written by hand the way
//! `#[derive(Device)]` writes them (the derive itself is tested in the
//! workspace's `tests/`).

use super::derive_support::chain_declares;
use super::*;
use crate::property::derive_support::BitField;
use crate::property::{PropertyKind, PropertyType};

struct PciDevice {
    cap: u32,
}

impl Device for PciDevice {
    const TYPE: &'static DeviceTypeInfo = &DeviceTypeInfo {
        name: "pci-device",
        parent: Some(DEVICE),
        is_abstract: true,
        hotpluggable: true,
        user_creatable: true,
        nic: false,
        child: None,
        bus: None,
        provides_bus: None,
        bus_slots: 32,
        inert: &[],
        properties: &[PropertyDef {
            name: "x-pcie-err-unc-mask",
            kind: PropertyKind::Bit { bit: 2, width: 32 },
            default: Some(|| PropertyValue::Bool(true)),
            doc: "mask uncorrectable errors",
            sticky: false,
            local: false,
            absent: None,
            alike: None,
        }],
        description: "",
        rust_type: TypeId::of::<PciDevice>,
        instantiate: None,
        vmstate: None,
        erroneous: false,
    };
    fn new_default() -> Self {
        PciDevice {
            cap: 0u32.with_bit(2, true),
        }
    }
    fn property_value(&self, name: &str) -> Option<PropertyValue> {
        match name {
            "x-pcie-err-unc-mask" => Some(PropertyValue::Bool(self.cap.bit(2))),
            _ => None,
        }
    }
    fn set_property_value(
        &mut self,
        name: &str,
        value: &PropertyValue,
    ) -> Result<(), SetPropertyError> {
        match name {
            "x-pcie-err-unc-mask" => {
                let on = bool::from_value(value).ok_or(SetPropertyError::WrongKind(
                    PropertyKind::Bit { bit: 2, width: 32 },
                ))?;
                self.cap = self.cap.with_bit(2, on);
                Ok(())
            }
            _ => Err(SetPropertyError::NotFound),
        }
    }
}

struct RootPort {
    parent: PciDevice,
    chassis: u8,
}

impl Device for RootPort {
    const TYPE: &'static DeviceTypeInfo = &DeviceTypeInfo {
        name: "pcie-root-port",
        parent: Some(PciDevice::TYPE),
        is_abstract: false,
        hotpluggable: true,
        user_creatable: true,
        nic: false,
        child: None,
        bus: None,
        provides_bus: None,
        bus_slots: 32,
        inert: &[],
        properties: &[PropertyDef {
            name: "chassis",
            kind: PropertyKind::U8,
            default: None,
            doc: "",
            sticky: false,
            local: false,
            absent: None,
            alike: None,
        }],
        description: "",
        rust_type: TypeId::of::<RootPort>,
        instantiate: Some(|| Box::new(RootPort::new_default())),
        vmstate: None,
        erroneous: false,
    };
    fn new_default() -> Self {
        RootPort {
            parent: PciDevice::new_default(),
            chassis: 0,
        }
    }
    fn property_value(&self, name: &str) -> Option<PropertyValue> {
        match name {
            "chassis" => Some(self.chassis.to_value()),
            _ => self.parent.property_value(name),
        }
    }
    fn set_property_value(
        &mut self,
        name: &str,
        value: &PropertyValue,
    ) -> Result<(), SetPropertyError> {
        match name {
            "chassis" => {
                self.chassis =
                    u8::from_value(value).ok_or(SetPropertyError::WrongKind(PropertyKind::U8))?;
                Ok(())
            }
            _ => self.parent.set_property_value(name, value),
        }
    }
}

/// A second, unrelated Rust type claiming the name `pci-device`.
struct Impostor;
impl Device for Impostor {
    const TYPE: &'static DeviceTypeInfo = &DeviceTypeInfo {
        name: "pci-device",
        parent: Some(DEVICE),
        is_abstract: false,
        hotpluggable: true,
        user_creatable: true,
        nic: false,
        child: None,
        bus: None,
        provides_bus: None,
        bus_slots: 32,
        inert: &[],
        properties: &[],
        description: "",
        rust_type: TypeId::of::<Impostor>,
        instantiate: None,
        vmstate: None,
        erroneous: false,
    };
    fn new_default() -> Self {
        Impostor
    }
    fn property_value(&self, _: &str) -> Option<PropertyValue> {
        None
    }
    fn set_property_value(&mut self, _: &str, _: &PropertyValue) -> Result<(), SetPropertyError> {
        Err(SetPropertyError::NotFound)
    }
}

const CLASHING: &DeviceTypeInfo = &DeviceTypeInfo {
    name: "bad-port",
    parent: Some(PciDevice::TYPE),
    is_abstract: false,
    hotpluggable: true,
    user_creatable: true,
    nic: false,
    child: None,
    bus: None,
    provides_bus: None,
    bus_slots: 32,
    inert: &[],
    properties: &[PropertyDef {
        name: "x-pcie-err-unc-mask",
        kind: PropertyKind::Bool,
        default: None,
        doc: "",
        sticky: false,
        local: false,
        absent: None,
        alike: None,
    }],
    description: "",
    rust_type: TypeId::of::<u8>,
    instantiate: None,
    vmstate: None,
    erroneous: false,
};

const TWICE: &DeviceTypeInfo = &DeviceTypeInfo {
    name: "twice",
    parent: Some(DEVICE),
    is_abstract: false,
    hotpluggable: true,
    user_creatable: true,
    nic: false,
    child: None,
    bus: None,
    provides_bus: None,
    bus_slots: 32,
    inert: &[],
    properties: &[
        PropertyDef {
            name: "a",
            kind: PropertyKind::Bool,
            default: None,
            doc: "",
            sticky: false,
            local: false,
            absent: None,
            alike: None,
        },
        PropertyDef {
            name: "a",
            kind: PropertyKind::U8,
            default: None,
            doc: "",
            sticky: false,
            local: false,
            absent: None,
            alike: None,
        },
    ],
    description: "",
    rust_type: TypeId::of::<u16>,
    instantiate: None,
    vmstate: None,
    erroneous: false,
};

#[test]
fn registering_a_type_registers_its_ancestors() {
    let mut reg = TypeRegistry::new();
    reg.register::<RootPort>().unwrap();
    let names: Vec<_> = reg.types().map(|t| t.name).collect();
    assert_eq!(names, ["device", "pci-device", "pcie-root-port"]);
    // Registering again, or an ancestor alone, changes nothing.
    reg.register::<PciDevice>().unwrap();
    reg.register::<RootPort>().unwrap();
    assert_eq!(reg.types().count(), 3);
}

#[test]
fn is_a_through_two_levels() {
    let mut reg = TypeRegistry::new();
    reg.register::<RootPort>().unwrap();
    assert!(reg.is_a("pcie-root-port", "pcie-root-port"));
    assert!(reg.is_a("pcie-root-port", "pci-device"));
    assert!(reg.is_a("pcie-root-port", "device"));
    assert!(!reg.is_a("pci-device", "pcie-root-port"));
    assert!(!reg.is_a("nope", "device"));
    let under_pci: Vec<_> = reg.descendants("pci-device").map(|t| t.name).collect();
    assert_eq!(under_pci, ["pci-device", "pcie-root-port"]);
}

#[test]
fn inherited_properties() {
    let ty = RootPort::TYPE;
    let all: Vec<_> = ty
        .all_properties()
        .map(|(owner, p)| (owner.name, p.name))
        .collect();
    assert_eq!(
        all,
        [
            ("pci-device", "x-pcie-err-unc-mask"),
            ("pcie-root-port", "chassis")
        ]
    );
    let (owner, def) = ty.find_property("x-pcie-err-unc-mask").unwrap();
    assert_eq!(owner.name, "pci-device");
    assert_eq!(def.default_value(), PropertyValue::Bool(true));
    assert_eq!(
        ty.property("x-pcie-err-unc-msk").unwrap_err().to_string(),
        "Property 'pcie-root-port.x-pcie-err-unc-msk' not found; did you mean 'x-pcie-err-unc-mask'?"
    );
    assert_eq!(
        ty.parse_property("chassis", "300").unwrap_err().to_string(),
        "Property 'pcie-root-port.chassis' doesn't take value '300': expects uint8 (0..=255)"
    );
}

#[test]
fn instances_get_and_set_through_the_chain() {
    let mut reg = TypeRegistry::new();
    reg.register::<RootPort>().unwrap();
    let mut dev = reg.create("pcie-root-port").unwrap();
    assert_eq!(
        dev.get("x-pcie-err-unc-mask").unwrap(),
        PropertyValue::Bool(true)
    );
    dev.set_str("x-pcie-err-unc-mask", "off").unwrap();
    dev.set_str("chassis", "0x10").unwrap();
    let port = dev.downcast_ref::<RootPort>().unwrap();
    assert_eq!(port.parent.cap, 0);
    assert_eq!(port.chassis, 16);
    assert_eq!(
        dev.set_str("chassis", "-1").unwrap_err().to_string(),
        "Property 'pcie-root-port.chassis' doesn't take value '-1': expects uint8 (0..=255)"
    );
    assert_eq!(
        dev.set("chassis", &PropertyValue::Bool(true))
            .unwrap_err()
            .to_string(),
        "Property 'pcie-root-port.chassis' is of kind uint8, not a bool value"
    );
    assert_eq!(
        dev.get("chasis").unwrap_err().to_string(),
        "Property 'pcie-root-port.chasis' not found; did you mean 'chassis'?"
    );
    assert_eq!(
        dev.set("bogus", &PropertyValue::Bool(true))
            .unwrap_err()
            .to_string(),
        "Property 'pcie-root-port.bogus' not found"
    );
}

#[test]
fn registry_errors_leave_it_unchanged() {
    let mut reg = TypeRegistry::new();
    reg.register::<RootPort>().unwrap();
    assert_eq!(
        reg.register::<Impostor>().unwrap_err().to_string(),
        "device type 'pci-device' is registered twice, by two different types"
    );
    assert_eq!(
        reg.register_type(CLASHING).unwrap_err().to_string(),
        "device type 'bad-port' declares property 'x-pcie-err-unc-mask', \
         which its ancestor 'pci-device' already declares"
    );
    assert_eq!(
        reg.register_type(TWICE).unwrap_err().to_string(),
        "device type 'twice' declares property 'a' twice"
    );
    assert_eq!(reg.types().count(), 3);
    assert_eq!(
        reg.create("pcie-root-prot").err().unwrap().to_string(),
        "'pcie-root-prot' is not a valid device model name; did you mean 'pcie-root-port'?"
    );
    assert_eq!(
        reg.create("pci-device").err().unwrap().to_string(),
        "device type 'pci-device' is abstract and cannot be instantiated"
    );
    assert_eq!(
        reg.create("device").err().unwrap().to_string(),
        "device type 'device' is abstract and cannot be instantiated"
    );
}

#[test]
fn const_clash_check() {
    // Evaluated by the compiler, as the derive's check is.
    const { assert!(chain_declares(RootPort::TYPE, "x-pcie-err-unc-mask")) };
    const { assert!(!chain_declares(RootPort::TYPE, "x-pcie-err-unc-mas")) };
    assert!(chain_declares(RootPort::TYPE, "chassis"));
    assert!(!chain_declares(DEVICE, "chassis"));
}

#[test]
fn help_lists_inherited_then_own_properties() {
    assert_eq!(
        RootPort::TYPE.help(),
        "pcie-root-port options:\n  \
         x-pcie-err-unc-mask=<bool> - mask uncorrectable errors (default: on)\n  \
         chassis=<uint8>            -\n"
    );
}

#[test]
fn property_type_kinds() {
    assert_eq!(<u16 as PropertyType>::KIND, PropertyKind::U16);
}
