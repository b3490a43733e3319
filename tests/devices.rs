//! `#[derive(Device)]` and `#[derive(PropertyEnum)]` on real types: the
//! tables they emit, defaults, accessors, get/set through the inheritance
//! chain, and `-device` strings applied to instances.

use compat_core::property::cmdline::parse_device;
use compat_core::{
    Device, DeviceObject, OnOffAuto, PropertyEnum, PropertyKind, PropertyType, PropertyValue, Size,
    TypeRegistry,
};
use compat_examples::devices::{self, VirtioBlk, VirtioDevice, VIRTIO_BLK_AUTO_NUM_QUEUES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PropertyEnum)]
#[property_enum(name = "LostTickPolicy")]
enum LostTickPolicy {
    Discard,
    Delay,
    #[property_enum(name = "slew")]
    CatchUp,
}

/// One field of every kind.
#[derive(Debug, Device)]
#[device(name = "kitchen-sink", hotpluggable = false)]
struct KitchenSink {
    #[property(name = "b", default = true)]
    b: bool,
    #[property(name = "u8", default = 0xff)]
    u8_: u8,
    #[property(name = "u16")]
    u16_: u16,
    #[property(name = "u32", default = 4_000_000_000)]
    u32_: u32,
    #[property(name = "u64", default = 18446744073709551615)]
    u64_: u64,
    #[property(name = "i32", default = -2147483648)]
    i32_: i32,
    #[property(name = "i64", default = -1)]
    i64_: i64,
    #[property(name = "size", default = "2G")]
    size: Size,
    #[property(name = "small-size", default = 512)]
    small_size: Size,
    #[property(name = "str", default = "hello")]
    s: String,
    #[property(name = "policy", default = LostTickPolicy::Delay)]
    policy: LostTickPolicy,
    #[property(name = "mode")]
    mode: OnOffAuto,
    #[property(name = "type", default = 7)]
    r#type: u8,
    #[property(name = "lo", bit = 0)]
    #[property(name = "hi", bit = 7, default = true)]
    bits: u8,
    not_a_property: Vec<u32>,
}

#[test]
fn the_example_virtio_blk_table() {
    let help = VirtioBlk::TYPE.help();
    println!("{help}");
    assert_eq!(
        help,
        "virtio-blk-device options:
  indirect_desc=<bool>   - (default: on)
  event_idx=<bool>       - (default: on)
  any_layout=<bool>      - (default: on)
  num-queues=<uint16>    - Number of request queues. (default: 65535)
  queue-size=<uint16>    - Size of each virtqueue. (default: 256)
  request-merging=<bool> - merge adjacent requests (default: on)
  seg-max-adjust=<bool>  - adjust seg_max to the queue size (default: on)
  serial=<str>           - Disk serial number.
"
    );
    let table: Vec<String> = VirtioBlk::TYPE
        .properties
        .iter()
        .map(|p| format!("{} {} {}", p.name, p.kind, p.default_value()))
        .collect();
    assert_eq!(
        table,
        [
            "num-queues uint16 65535",
            "queue-size uint16 256",
            "request-merging bool (bit 0 of a u32) on",
            "seg-max-adjust bool (bit 1 of a u32) on",
            "serial str ",
        ]
    );
    assert_eq!(
        VirtioBlk::TYPE.description,
        "A virtio block device since 5.2: one queue per vCPU by default."
    );
    assert_eq!(VirtioBlk::TYPE.parent.unwrap().name, "virtio-device");
    assert!(VirtioDevice::TYPE.is_abstract && VirtioDevice::TYPE.instantiate.is_none());
    assert!(!VirtioBlk::TYPE.is_abstract);
}

#[test]
fn class_defaults_and_typed_accessors() {
    let mut blk = VirtioBlk::new_default();
    assert_eq!(blk.num_queues(), VIRTIO_BLK_AUTO_NUM_QUEUES);
    assert_eq!(blk.realized_num_queues(4), 4);
    assert!(blk.request_merging() && blk.seg_max_adjust());
    assert_eq!(blk.flags, 0b11);
    assert_eq!(blk.virtio.host_features, (1 << 27) | (1 << 28) | (1 << 29));
    assert!(blk.virtio.event_idx());
    assert_eq!(blk.serial(), "");
    assert_eq!(blk.queues, 0, "queues are created at realize");
    assert!(blk.last_avail.is_empty());

    blk.set_request_merging(false);
    blk.set_num_queues(2);
    blk.set_serial("disk0");
    blk.virtio.set_event_idx(false);
    assert_eq!(blk.flags, 0b10);
    assert_eq!(blk.realized_num_queues(4), 2);
    assert_eq!(blk.serial, "disk0");
    assert_eq!(blk.virtio.host_features, (1 << 27) | (1 << 28));
}

#[test]
fn every_kind_through_the_derive() {
    let sink = KitchenSink::new_default();
    assert!(sink.b);
    assert_eq!(
        (sink.u8_, sink.u16_, sink.u32_, sink.u64_),
        (255, 0, 4_000_000_000, u64::MAX)
    );
    assert_eq!((sink.i32_, sink.i64_), (i32::MIN, -1));
    assert_eq!((sink.size, sink.small_size), (Size(2 << 30), Size(512)));
    assert_eq!(sink.s, "hello");
    assert_eq!(sink.policy, LostTickPolicy::Delay);
    assert_eq!(sink.mode, OnOffAuto::Auto);
    assert_eq!(
        sink.r#type(),
        7,
        "a keyword property name gets a raw accessor"
    );
    assert_eq!(sink.bits, 0x80);
    assert!(sink.not_a_property.is_empty());
    assert!(!KitchenSink::TYPE.hotpluggable);

    let kinds: Vec<String> = KitchenSink::TYPE
        .properties
        .iter()
        .map(|p| format!("{}:{}={}", p.name, p.kind.type_name(), p.default_value()))
        .collect();
    assert_eq!(
        kinds.join(" "),
        "b:bool=on u8:uint8=255 u16:uint16=0 u32:uint32=4000000000 u64:uint64=18446744073709551615 \
         i32:int32=-2147483648 i64:int64=-1 size:size=2G small-size:size=512 str:str=hello \
         policy:LostTickPolicy=delay mode:OnOffAuto=auto type:uint8=7 lo:bool=off hi:bool=on"
    );
    // Declared defaults are told apart from zero values, as QEMU's help does.
    let declared: Vec<&str> = KitchenSink::TYPE
        .properties
        .iter()
        .filter(|p| !p.has_declared_default())
        .map(|p| p.name)
        .collect();
    assert_eq!(declared, ["u16", "mode", "lo"]);

    // What every property reads back equals its class default.
    for p in KitchenSink::TYPE.properties {
        assert_eq!(
            sink.property_value(p.name),
            Some(p.default_value()),
            "{}",
            p.name
        );
    }
}

#[test]
fn set_by_name_parses_with_the_kind() {
    let mut obj: Box<dyn DeviceObject> = Box::new(KitchenSink::new_default());
    let cases = [
        ("b", "no", "off"),
        ("u8", "0x10", "16"),
        ("u16", "010", "8"),
        ("i32", "-0x10", "-16"),
        ("size", "1.5K", "1536"),
        ("size", "4096", "4K"),
        ("str", "a,b", "a,b"),
        ("policy", "slew", "slew"),
        ("mode", "off", "off"),
        ("lo", "on", "on"),
        ("hi", "n", "off"),
    ];
    for (name, text, canonical) in cases {
        obj.set_str(name, text).unwrap();
        assert_eq!(
            obj.get(name).unwrap().to_string(),
            canonical,
            "{name}={text}"
        );
    }
    let sink = obj.downcast_ref::<KitchenSink>().unwrap();
    assert_eq!(sink.policy, LostTickPolicy::CatchUp);
    assert_eq!(sink.bits, 0x01);

    let errors = [
        (
            "u8",
            "256",
            "Property 'kitchen-sink.u8' doesn't take value '256': expects uint8 (0..=255)",
        ),
        (
            "policy",
            "catch-up",
            "Property 'kitchen-sink.policy' doesn't take value 'catch-up': \
             expects LostTickPolicy ('discard', 'delay', 'slew')",
        ),
        (
            "polcy",
            "slew",
            "Property 'kitchen-sink.polcy' not found; did you mean 'policy'?",
        ),
    ];
    for (name, text, message) in errors {
        assert_eq!(obj.set_str(name, text).unwrap_err().to_string(), message);
    }
    assert_eq!(
        obj.set("u16", &PropertyValue::Int(1))
            .unwrap_err()
            .to_string(),
        "Property 'kitchen-sink.u16' is of kind uint16, not a signed integer value"
    );
    assert_eq!(
        obj.set("u8", &PropertyValue::Uint(300))
            .unwrap_err()
            .to_string(),
        "Property 'kitchen-sink.u8' is of kind uint8, not a unsigned integer value"
    );
}

#[test]
fn property_enum_derive() {
    assert_eq!(LostTickPolicy::INFO.values, ["discard", "delay", "slew"]);
    assert_eq!(LostTickPolicy::KIND.type_name(), "LostTickPolicy");
    assert_eq!(LostTickPolicy::zero(), LostTickPolicy::Discard);
    assert_eq!(LostTickPolicy::CatchUp.as_str(), "slew");
    assert_eq!(LostTickPolicy::from_index(3), None);
    assert_eq!(
        LostTickPolicy::from_value(&PropertyValue::Enum("delay")),
        Some(LostTickPolicy::Delay)
    );
    assert_eq!(
        LostTickPolicy::from_value(&PropertyValue::Enum("auto")),
        None
    );
    assert!(matches!(LostTickPolicy::KIND, PropertyKind::Enum(_)));
}

/// Apply a `-device` string the way QEMU's `qdev_device_add` does: create
/// the type, then set each option in order.
fn device_from_cmdline(
    registry: &TypeRegistry,
    text: &str,
) -> Result<Box<dyn DeviceObject>, String> {
    let opt = parse_device(text).map_err(|e| e.to_string())?;
    let mut dev = registry.create(&opt.driver).map_err(|e| e.to_string())?;
    for p in &opt.properties {
        dev.set_str(&p.key, &p.value).map_err(|e| e.to_string())?;
    }
    Ok(dev)
}

#[test]
fn device_strings_applied_to_instances() {
    let registry = devices::registry().unwrap();
    let dev = device_from_cmdline(
        &registry,
        "virtio-blk-device,id=blk0,num-queues=4,request-merging=off,event_idx=off,serial=a,,b",
    )
    .unwrap();
    let blk = dev.downcast_ref::<VirtioBlk>().unwrap();
    assert_eq!(blk.num_queues, 4);
    assert!(!blk.request_merging());
    assert!(
        !blk.virtio.event_idx(),
        "an inherited property set through the child"
    );
    assert_eq!(blk.serial, "a,b");

    let bad = [
        (
            "virtio-blk-device,num-queues=70000",
            "Property 'virtio-blk-device.num-queues' doesn't take value '70000': \
             expects uint16 (0..=65535)",
        ),
        (
            "virtio-blk-device,num_queues=2",
            "Property 'virtio-blk-device.num_queues' not found; did you mean 'num-queues'?",
        ),
        (
            "virtio-blk,num-queues=2",
            "'virtio-blk' is not a valid device model name; did you mean 'virtio-blk-device'?",
        ),
        (
            "virtio-device",
            "device type 'virtio-device' is abstract and cannot be instantiated",
        ),
        // QEMU's deprecated short form: `num-queues` is `num-queues=on`.
        (
            "virtio-blk-device,num-queues",
            "Property 'virtio-blk-device.num-queues' doesn't take value 'on': \
             expects uint16 (0..=65535)",
        ),
    ];
    for (text, message) in bad {
        assert_eq!(
            device_from_cmdline(&registry, text).err().as_deref(),
            Some(message),
            "{text}"
        );
    }
}

#[test]
fn registry_of_the_examples() {
    let registry = devices::registry().unwrap();
    let names: Vec<&str> = registry.types().map(|t| t.name).collect();
    assert_eq!(
        names,
        [
            "PIIX4_PM",
            "device",
            "e1000e",
            "pci-device",
            "pcie-root-port",
            "virtio-blk-device",
            "virtio-device",
            "x86-cpu"
        ]
    );
    assert!(registry.is_a("virtio-blk-device", "virtio-device"));
    assert!(registry.is_a("virtio-blk-device", "device"));
    let mut more = registry.clone();
    more.register::<KitchenSink>().unwrap();
    assert_eq!(more.types().count(), 9);
    assert_eq!(
        registry.types().count(),
        8,
        "registries are values, not a global"
    );
}

/// A property whose accessor would clash with the type's own method, and
/// one renamed; a property migrated because it says so, one that is not.
#[derive(Clone, Device, compat_core::VMState)]
#[device(name = "timer", vmstate)]
#[vmstate(name = "timer", version = 1)]
pub struct Timer {
    #[property(name = "irq", default = 5, accessor = false)]
    pub irq: u32,
    #[property(name = "period", default = 1000, accessor = "period_ns")]
    pub period: u64,
    #[property(name = "ticks-per-period", default = 4)]
    #[vmstate(must_match)]
    pub ticks: u32,
    pub count: u64,
}

impl Timer {
    /// The type's own `irq()`, which a generated accessor would clash with.
    pub fn irq(&self) -> String {
        format!("IRQ{}", self.irq)
    }
}

#[test]
fn accessors_can_be_renamed_or_dropped() {
    let mut t = Timer::new_default();
    assert_eq!(t.irq(), "IRQ5");
    assert_eq!(t.period_ns(), 1000);
    t.set_period_ns(20);
    assert_eq!(t.get("period").unwrap(), PropertyValue::Uint(20));
    assert_eq!(t.ticks_per_period(), 4);
}

#[test]
fn properties_migrate_only_when_they_say_so() {
    let fields: Vec<&str> = <Timer as compat_core::VMState>::DESCRIPTION
        .fields
        .iter()
        .map(|f| f.name)
        .collect();
    // `irq` and `period` are configuration; `ticks-per-period` says
    // #[vmstate(must_match)], so both sides compare it.
    assert_eq!(fields, ["ticks", "count"]);
}
