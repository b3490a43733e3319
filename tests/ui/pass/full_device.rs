//! Every accepted form of the derives in one program.

use compat_core::{Device, DeviceObject, OnOffAuto, PropertyValue, Size, TypeRegistry};
use compat_core::PropertyEnum;

const DEFAULT_QUEUES: u16 = 2;

#[derive(Clone, Copy, Debug, PartialEq, PropertyEnum)]
#[property_enum(name = "Endian")]
pub enum Endian {
    Unspecified,
    Big,
    Little,
}

/// A bus device.
#[derive(Device)]
#[device(name = "bus-device", abstract = true, hotpluggable = false)]
pub struct BusDevice {
    #[property(name = "addr", default = 0x10)]
    pub addr: u32,
}

/// A leaf device.
#[derive(Device)]
#[device(name = "leaf", parent = BusDevice)]
pub struct Leaf {
    #[device(parent)]
    pub bus: BusDevice,
    #[property(name = "queues", default = DEFAULT_QUEUES, doc = "queue count")]
    pub queues: u16,
    #[property(name = "offset", default = -5)]
    pub offset: i64,
    #[property(name = "mem", default = 1048576)]
    pub mem: Size,
    #[property(name = "endian", default = Endian::Little)]
    pub endian: Endian,
    #[property(name = "mode", default = OnOffAuto::On)]
    pub mode: OnOffAuto,
    #[property(name = "label", default = DEFAULT_LABEL)]
    pub label: String,
    #[property(name = "x-a", bit = 0, sticky)]
    #[property(name = "x-b", bit = 63, default = true, local = false)]
    pub features: u64,
    #[property(name = "backend", local, sticky = false)]
    pub backend: String,
    pub scratch: Vec<u8>,
}

const DEFAULT_LABEL: &str = "leaf0";

/// A device without properties or state.
#[derive(Device)]
#[device(name = "empty")]
pub struct Empty;

fn main() {
    let leaf = Leaf::new_default();
    assert_eq!(leaf.bus.addr(), 16);
    assert_eq!(leaf.queues(), 2);
    assert_eq!(leaf.offset(), -5);
    assert_eq!(leaf.mem(), Size(1 << 20));
    assert_eq!(leaf.endian(), Endian::Little);
    assert_eq!(leaf.mode(), OnOffAuto::On);
    assert_eq!(leaf.label(), "leaf0");
    assert!(!leaf.x_a() && leaf.x_b());
    assert_eq!(leaf.get("addr").unwrap(), PropertyValue::Uint(16));
    let mut reg = TypeRegistry::new();
    reg.register::<Leaf>().unwrap();
    reg.register::<Empty>().unwrap();
    assert!(reg.create("empty").is_ok());
    assert!(reg.create("bus-device").is_err());
    assert!(!BusDevice::TYPE.hotpluggable);
    // `sticky` and `local`, as flags or `= bool`, reach the property table.
    let flags = |name: &str| {
        let (_, def) = Leaf::TYPE.property(name).unwrap();
        (def.sticky, def.local)
    };
    assert_eq!(flags("x-a"), (true, false));
    assert_eq!(flags("x-b"), (false, false));
    assert_eq!(flags("backend"), (false, true));
    assert_eq!(flags("queues"), (false, false));
}
