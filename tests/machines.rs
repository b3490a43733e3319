//! Machine types, compat sets, global resolution with provenance, explain:
//! every rule of QEMU's model, on small releases built here.

use compat_core::compat_set;
use compat_core::property::cmdline::{parse_device, parse_global, GlobalOption};
use compat_core::release::ReleaseProblem;
use compat_core::{
    Device, MachineDef, MachineFamily, PropertyValue, Release, ReleaseBuilder, Source, Version,
    VersionStep,
};

#[derive(Device)]
#[device(name = "pci-device", abstract)]
pub struct PciDevice {
    #[property(name = "x-pcie-err-unc-mask", bit = 0, default = true)]
    #[property(name = "x-pcie-ext-tag", bit = 1, default = true)]
    pub cap: u32,
    #[property(name = "rombar", default = 1)]
    pub rombar: u32,
}

#[derive(Device)]
#[device(name = "pcie-port", abstract, parent = PciDevice)]
pub struct PciePort {
    #[device(parent)]
    pub pci: PciDevice,
    #[property(name = "chassis")]
    pub chassis: u8,
}

#[derive(Device)]
#[device(name = "pcie-root-port", parent = PciePort)]
pub struct PcieRootPort {
    #[device(parent)]
    pub port: PciePort,
    #[property(name = "slot", default = 0)]
    pub slot: u16,
}

#[derive(Device)]
#[device(name = "virtio-blk-device")]
pub struct VirtioBlk {
    #[property(name = "num-queues", default = 65535)]
    pub num_queues: u16,
    #[property(name = "queue-size", default = 256)]
    pub queue_size: u16,
}

#[derive(Device)]
#[device(name = "piix4-pm", hotpluggable = false)]
pub struct Piix4Pm {
    #[property(name = "smm-enabled", default = true)]
    pub smm: bool,
}

// The compat sets of a release whose newest machine is 6.0.
compat_set! {
    pub HW_COMPAT_5_2 = "hw_compat_5_2" [
        { VirtioBlk, "num-queues", 4 },
    ];
    pub HW_COMPAT_5_1 = "hw_compat_5_1" [
        { VirtioBlk, "num-queues", "1" },
        { PciDevice, "x-pcie-ext-tag", "off" },
    ];
    pub HW_COMPAT_5_0 = "hw_compat_5_0" [
        { VirtioBlk, "queue-size", "128" },
    ];
    pub PC_COMPAT_5_0 = "pc_compat_5_0" [
        { "virtio-blk-device", "queue-size", "64" },
    ];
    pub PC_Q35_DEFAULTS = "pc_q35_compat_defaults" [
        { PcieRootPort, "chassis", 7 },
    ];
}

fn step(sets: &[&'static compat_core::CompatSet]) -> VersionStep {
    VersionStep::compat(sets.iter().copied())
}

fn v(s: &str) -> Version {
    s.parse().unwrap()
}

fn release_6_0() -> Release {
    ReleaseBuilder::new("6.0")
        .device::<PcieRootPort>()
        .device::<VirtioBlk>()
        .device::<Piix4Pm>()
        .family(
            MachineFamily::new("pc-q35", "Standard PC (Q35 + ICH9, 2009)")
                .defaults(PC_Q35_DEFAULTS)
                .latest_alias("q35")
                .version(v("6.0"), VersionStep::default())
                .version(v("5.2"), step(&[HW_COMPAT_5_2]))
                .version(v("5.1"), step(&[HW_COMPAT_5_1]))
                .version(v("5.0"), step(&[HW_COMPAT_5_0, PC_COMPAT_5_0]))
                .version(
                    v("4.2"),
                    VersionStep::default().deprecated("machines older than 5.0 are going away"),
                ),
        )
        .family(
            MachineFamily::new("pc-i440fx", "Standard PC (i440FX + PIIX, 1996)")
                .latest_alias("pc")
                .default_machine()
                .onboard("piix4-pm,id=pm")
                .version(v("6.0"), VersionStep::default())
                .version(v("5.2"), step(&[HW_COMPAT_5_2])),
        )
        .build()
        .unwrap()
}

fn globals(texts: &[&str]) -> Vec<GlobalOption> {
    texts.iter().map(|t| parse_global(t).unwrap()).collect()
}

/// The value of `property` on the first device of type `ty` on `machine`.
fn value(
    release: &Release,
    machine: &str,
    globals: &[GlobalOption],
    ty: &str,
    property: &str,
) -> PropertyValue {
    let m = release
        .instantiate(machine, globals, &[parse_device(ty).unwrap()])
        .unwrap();
    m.devices.last().unwrap().object.get(property).unwrap()
}

#[test]
fn cumulative_chain_newest_first_oldest_wins() {
    let r = release_6_0();
    let nq = |machine| value(&r, machine, &[], "virtio-blk-device", "num-queues").to_string();
    let qs = |machine| value(&r, machine, &[], "virtio-blk-device", "queue-size").to_string();
    assert_eq!(nq("pc-q35-6.0"), "65535");
    assert_eq!(nq("pc-q35-5.2"), "4");
    // hw_compat_5_2 says 4, hw_compat_5_1 says 1: the older set is appended
    // later and wins.
    assert_eq!(nq("pc-q35-5.1"), "1");
    assert_eq!(nq("pc-q35-5.0"), "1");
    assert_eq!(nq("pc-q35-4.2"), "1");
    // Within one step, pc_compat after hw_compat.
    assert_eq!(qs("pc-q35-5.1"), "256");
    assert_eq!(qs("pc-q35-5.0"), "64");

    let m = r.machine("pc-q35-5.0").unwrap();
    assert_eq!(
        m.compat_sets(),
        [
            "pc_q35_compat_defaults",
            "hw_compat_5_2",
            "hw_compat_5_1",
            "hw_compat_5_0",
            "pc_compat_5_0"
        ]
    );
    assert_eq!(
        r.machine("pc-q35-6.0").unwrap().compat_sets(),
        ["pc_q35_compat_defaults"]
    );
    let e = r
        .explain("pc-q35-5.0", &[], "virtio-blk-device", "num-queues")
        .unwrap();
    assert_eq!(
        e.summary(),
        "default 65535 (virtio-blk-device) → 4 by hw_compat_5_2 applied by pc-q35-5.0 \
         → 1 by hw_compat_5_1 applied by pc-q35-5.0"
    );
}

#[test]
fn aliases_default_and_lookup() {
    let r = release_6_0();
    assert_eq!(r.machine("q35").unwrap().name, "pc-q35-6.0");
    assert_eq!(r.machine("pc").unwrap().name, "pc-i440fx-6.0");
    assert_eq!(r.default_machine().unwrap().name, "pc-i440fx-6.0");
    assert_eq!(r.machine("pc-q35-5.2").unwrap().alias, None);
    assert_eq!(
        r.machine_help(),
        "Supported machines are:
pc-i440fx-5.2        Standard PC (i440FX + PIIX, 1996)
pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-6.0)
pc-i440fx-6.0        Standard PC (i440FX + PIIX, 1996) (default)
pc-q35-4.2           Standard PC (Q35 + ICH9, 2009) (deprecated)
pc-q35-5.0           Standard PC (Q35 + ICH9, 2009)
pc-q35-5.1           Standard PC (Q35 + ICH9, 2009)
pc-q35-5.2           Standard PC (Q35 + ICH9, 2009)
q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-6.0)
pc-q35-6.0           Standard PC (Q35 + ICH9, 2009)
"
    );
}

#[test]
fn unknown_machine_lists_close_names() {
    let r = release_6_0();
    let err = |name| r.machine(name).unwrap_err().to_string();
    assert_eq!(
        err("pc-q35-7.0"),
        "unsupported machine type 'pc-q35-7.0' in release 6.0; close names: \
         pc-q35-6.0, pc-q35-5.0, pc-q35-5.2, pc-q35-5.1, pc-q35-4.2"
    );
    assert_eq!(
        err("pc-q53-5.2"),
        "unsupported machine type 'pc-q53-5.2' in release 6.0; close names: \
         pc-q35-5.2, pc-q35-5.1, pc-q35-5.0, pc-q35-4.2, pc-q35-6.0"
    );
    assert_eq!(
        err("Q35"),
        "unsupported machine type 'Q35' in release 6.0; close names: q35"
    );
    assert_eq!(
        err("microvm"),
        "unsupported machine type 'microvm' in release 6.0; \
         use -machine help to list the supported machine types"
    );
    assert_eq!(
        r.instantiate("pc-q35-9.9", &[], &[])
            .unwrap_err()
            .to_string(),
        err("pc-q35-9.9")
    );
}

#[test]
fn bugfix_variant() {
    compat_set! {
        HW_COMPAT_4_1 = "hw_compat_4_1" [ { VirtioBlk, "queue-size", "200" } ];
        HW_COMPAT_4_0 = "hw_compat_4_0" [ { VirtioBlk, "num-queues", "2" } ];
    }
    // pc-q35-4.0.1 chains from 4.1 and applies the 4.0 compat sets;
    // pc-q35-4.0 chains from 4.0.1 and only flips a flag.
    let r = ReleaseBuilder::new("4.1")
        .device::<VirtioBlk>()
        .family(
            MachineFamily::new("pc-q35", "Q35")
                .flag("default_kernel_irqchip_split", true)
                .version(v("4.2"), VersionStep::default())
                .version(v("4.1"), step(&[HW_COMPAT_4_1]))
                .version(v("4.0.1"), step(&[HW_COMPAT_4_0]))
                .version(
                    v("4.0"),
                    VersionStep::default().flag("default_kernel_irqchip_split", false),
                ),
        )
        .build()
        .unwrap();
    let names: Vec<&str> = r.machines().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["pc-q35-4.0", "pc-q35-4.0.1", "pc-q35-4.1", "pc-q35-4.2"]
    );
    let m401 = r.machine("pc-q35-4.0.1").unwrap();
    let m40 = r.machine("pc-q35-4.0").unwrap();
    assert_eq!(m401.compat_sets(), ["hw_compat_4_1", "hw_compat_4_0"]);
    assert_eq!(
        m40.compat_props, m401.compat_props,
        "compat props come from 4.0.1"
    );
    assert!(m401.flag("default_kernel_irqchip_split"));
    assert!(!m40.flag("default_kernel_irqchip_split"));
    assert_eq!(m401.version, Some(Version::bugfix(4, 0, 1)));
    assert_eq!(
        value(&r, "pc-q35-4.0.1", &[], "virtio-blk-device", "num-queues").to_string(),
        "2"
    );
    assert_eq!(
        value(&r, "pc-q35-4.1", &[], "virtio-blk-device", "num-queues").to_string(),
        "65535"
    );
}

/// The xen story (seed 003): `smbus_no_migration_support` is set for
/// pc-i440fx ≤ 3.1; in 4.2 `xenfv` used the release's own (newest) i440fx
/// options and so lost it; 5.0 adds `xenfv-4.2` for guests started on 4.2
/// while the alias `xenfv` stays on `xenfv-3.1`.
#[test]
fn xenfv_and_xenfv_4_2() {
    const SMBUS: &str = "smbus_no_migration_support";
    let i440fx = |versions: &[&str]| {
        let mut f = MachineFamily::new("pc-i440fx", "i440FX")
            .latest_alias("pc")
            .default_machine();
        for ver in versions {
            let step = if *ver == "3.1" {
                VersionStep::default().flag(SMBUS, true)
            } else {
                VersionStep::default()
            };
            f = f.version(v(ver), step);
        }
        f
    };
    let r42 = ReleaseBuilder::new("4.2")
        .device::<Piix4Pm>()
        .family(i440fx(&["3.1", "4.0", "4.1", "4.2"]))
        .machine(MachineDef::based_on("xenfv", "xenfv", "pc-i440fx", None))
        .build()
        .unwrap();
    let r50 = r42
        .to_builder("5.0")
        .family(i440fx(&["3.1", "4.0", "4.1", "4.2", "5.0"]))
        .without_machine("xenfv")
        .machine(MachineDef::based_on(
            "xenfv-4.2",
            "xenfv",
            "pc-i440fx",
            Some(v("4.2")),
        ))
        .machine(
            MachineDef::based_on("xenfv-3.1", "xenfv", "pc-i440fx", Some(v("3.1"))).alias("xenfv"),
        )
        .build()
        .unwrap();

    let xen42 = r42.machine("xenfv").unwrap();
    assert_eq!(xen42.name, "xenfv");
    assert!(!xen42.flag(SMBUS), "the bug: 4.2's xenfv lost the flag");
    assert!(r42.machine("pc-i440fx-3.1").unwrap().flag(SMBUS));
    assert!(r42.machine("xenfv-4.2").is_err());

    let xenfv = r50.machine("xenfv").unwrap();
    assert_eq!(
        xenfv.name, "xenfv-3.1",
        "the alias stays on the 3.1 variant"
    );
    assert!(xenfv.flag(SMBUS));
    let xen42_in_50 = r50.machine("xenfv-4.2").unwrap();
    assert!(
        !xen42_in_50.flag(SMBUS),
        "xenfv-4.2 targets guests started on 4.2"
    );
    assert_eq!(xen42_in_50.version, Some(v("4.2")));
    assert_eq!(xen42_in_50.family, "xenfv");
    assert_eq!(r50.name(), "5.0");
    assert_eq!(
        r42.name(),
        "4.2",
        "releases are values: deriving one leaves the other"
    );
}

/// A `-global` on a type that lacks the property (`device.rombar`) applies
/// to every subtype that has it, and is QEMU's error — not a crash — on the
/// first device that does not.
#[test]
fn a_global_on_a_parent_type_applies_where_a_subtype_has_the_property() {
    let r = release_6_0();
    let gs = globals(&["device.rombar=0"]);
    let port = [parse_device("pcie-root-port,id=rp0").unwrap()];
    let m = r.instantiate("q35", &gs, &port).unwrap();
    let port = m.devices[0].object.downcast_ref::<PcieRootPort>().unwrap();
    assert_eq!(port.port.pci.rombar, 0);
    let blk = [parse_device("virtio-blk-device,id=vb0").unwrap()];
    let err = r.instantiate("q35", &gs, &blk).unwrap_err();
    assert_eq!(
        err.to_string(),
        "can't apply global device.rombar=0: Property 'virtio-blk-device.rombar' not found"
    );
}

#[test]
fn is_a_matching_through_two_levels() {
    let r = release_6_0();
    // pci-device is the grandparent of pcie-root-port.
    let gs = globals(&["pci-device.rombar=0", "pcie-port.chassis=3"]);
    let m = r
        .instantiate(
            "q35",
            &gs,
            &[parse_device("pcie-root-port,id=rp0").unwrap()],
        )
        .unwrap();
    let port = m.devices[0].object.downcast_ref::<PcieRootPort>().unwrap();
    assert_eq!(port.port.pci.rombar, 0);
    assert_eq!(
        port.port.chassis, 3,
        "-global beats the machine's own default (7)"
    );
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn precedence_of_all_four_sources_with_provenance() {
    compat_set! {
        HW_COMPAT_7_2 = "hw_compat_7_2" [ { PciDevice, "x-pcie-err-unc-mask", "off" } ];
    }
    let r = ReleaseBuilder::new("8.0.1")
        .device::<PcieRootPort>()
        .family(
            MachineFamily::new("pc-q35", "Q35")
                .version(v("8.0"), VersionStep::default())
                .version(v("7.2"), step(&[HW_COMPAT_7_2])),
        )
        .build()
        .unwrap();
    let explain = |globals: &[&str], device: &str| {
        r.explain(
            "pc-q35-7.2",
            &self::globals(globals),
            device,
            "x-pcie-err-unc-mask",
        )
        .unwrap()
    };

    // The seed's case: only the machine's compat set.
    let e = explain(&[], "pcie-root-port");
    assert_eq!(e.value(), &PropertyValue::Bool(false));
    assert_eq!(
        e.summary(),
        "default on (pci-device) → off by hw_compat_7_2 applied by pc-q35-7.2"
    );
    assert_eq!(
        e.to_string(),
        "pcie-root-port[0] (pcie-root-port): x-pcie-err-unc-mask = off  [machine pc-q35-7.2, release 8.0.1]
  1. on   default (pci-device)
  2. off  hw_compat_7_2 applied by pc-q35-7.2 (global {pci-device, x-pcie-err-unc-mask, off}), overriding on
"
    );

    // All four, each overriding the one before.
    let e = explain(
        &["pcie-root-port.x-pcie-err-unc-mask=on"],
        "pcie-root-port,id=rp1,x-pcie-err-unc-mask=off",
    );
    assert_eq!(
        e.summary(),
        "default on (pci-device) → off by hw_compat_7_2 applied by pc-q35-7.2 \
         → on by -global pcie-root-port.x-pcie-err-unc-mask=on \
         → off by -device pcie-root-port,id=rp1,x-pcie-err-unc-mask=off"
    );
    assert_eq!(e.device, "rp1");
    let kinds: Vec<&str> = e
        .steps
        .iter()
        .map(|s| match s.source {
            Source::Default { .. } => "default",
            Source::Compat { .. } => "compat",
            Source::Global { .. } => "global",
            Source::Device { .. } => "device",
            _ => "another source",
        })
        .collect();
    assert_eq!(kinds, ["default", "compat", "global", "device"]);

    // On the newest machine nothing overrides the default.
    let e = r
        .explain("pc-q35-8.0", &[], "pcie-root-port", "x-pcie-err-unc-mask")
        .unwrap();
    assert_eq!(e.summary(), "default on (pci-device)");
}

/// QEMU's tests/unit/test-qdev-global-props.c `test_subclass_global_props`:
/// within one list, registration order wins, not type specificity.
#[test]
fn subclass_global_props() {
    #[derive(Device)]
    #[device(name = "base-type")]
    pub struct Base {
        #[property(name = "prop1", default = 1)]
        pub prop1: u32,
        #[property(name = "prop2", default = 2)]
        pub prop2: u32,
    }
    #[derive(Device)]
    #[device(name = "sub-type", parent = Base)]
    pub struct Sub {
        #[device(parent)]
        pub base: Base,
    }
    let r = ReleaseBuilder::new("t")
        .device::<Sub>()
        .family(MachineFamily::new("m", "").version(v("1.0"), VersionStep::default()))
        .build()
        .unwrap();
    let gs = globals(&[
        "base-type.prop1=101",
        "sub-type.prop1=102",
        "sub-type.prop2=103",
        "base-type.prop2=104",
    ]);
    let m = r
        .instantiate("m-1.0", &gs, &[parse_device("sub-type").unwrap()])
        .unwrap();
    let sub = m.devices[0].object.downcast_ref::<Sub>().unwrap();
    assert_eq!((sub.base.prop1, sub.base.prop2), (102, 104));
}

#[test]
fn user_global_errors_and_unused_warnings() {
    let r = release_6_0();
    // As in QEMU: a property or value the type rejects is an error where
    // the global is applied to a device, in QEMU's words.
    let blk = [parse_device("virtio-blk-device").unwrap()];
    let err = |g: &str| {
        r.instantiate("q35", &globals(&[g]), &blk)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("virtio-blk-device.num_queues=2"),
        "can't apply global virtio-blk-device.num_queues=2: \
         Property 'virtio-blk-device.num_queues' not found; did you mean 'num-queues'?"
    );
    assert_eq!(
        err("virtio-blk-device.num-queues=70000"),
        "can't apply global virtio-blk-device.num-queues=70000: \
         Property 'virtio-blk-device.num-queues' doesn't take value '70000': \
         expects uint16 (0..=65535)"
    );
    // Applied to no device, they are no error; an unknown type is a
    // warning.
    let m = r
        .instantiate(
            "q35",
            &globals(&[
                "virtio-blk.num-queues=2",
                "virtio-blk-device.num_queues=2",
                "virtio-blk-device.num-queues=70000",
            ]),
            &[],
        )
        .unwrap();
    assert_eq!(
        m.warnings,
        ["global virtio-blk.num-queues has invalid class name"]
    );
    // piix4-pm is not hotpluggable: an unused global is reported with
    // QEMU's wording; virtio-blk-device is, so it is not.
    let m = r
        .instantiate(
            "q35",
            &globals(&["piix4-pm.smm-enabled=off", "virtio-blk-device.num-queues=2"]),
            &[],
        )
        .unwrap();
    assert_eq!(m.warnings, ["global piix4-pm.smm-enabled=off not used"]);
    // On pc the machine creates piix4-pm on board: the global is used.
    let m = r
        .instantiate("pc", &globals(&["piix4-pm.smm-enabled=off"]), &[])
        .unwrap();
    assert!(m.warnings.is_empty());
    assert!(m.devices[0].onboard);
    assert_eq!(m.devices[0].label, "pm");
    assert_eq!(
        m.explain("pm", "smm-enabled").unwrap().summary(),
        "default on (piix4-pm) → off by -global piix4-pm.smm-enabled=off"
    );
}

#[test]
fn device_errors_and_deprecation() {
    let r = release_6_0();
    let err = |d: &str| {
        r.instantiate("q35", &[], &[parse_device(d).unwrap()])
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("pcie-root-port,slot=x"),
        "-device pcie-root-port,slot=x: Property 'pcie-root-port.slot' doesn't take value 'x': \
         expects uint16 (0..=65535)"
    );
    assert_eq!(
        err("pcie-port"),
        "-device pcie-port: device type 'pcie-port' is abstract and cannot be instantiated"
    );
    assert_eq!(
        r.instantiate(
            "q35",
            &[],
            &[
                parse_device("virtio-blk-device,id=d").unwrap(),
                parse_device("pcie-root-port,id=d").unwrap()
            ]
        )
        .unwrap_err()
        .to_string(),
        "-device pcie-root-port,id=d: Duplicate ID 'd' for device"
    );
    let m = r.instantiate("pc-q35-4.2", &[], &[]).unwrap();
    assert_eq!(
        m.warnings,
        ["Machine type 'pc-q35-4.2' is deprecated: machines older than 5.0 are going away"]
    );
    let m = r
        .instantiate(
            "q35",
            &[],
            &[
                parse_device("virtio-blk-device").unwrap(),
                parse_device("virtio-blk-device").unwrap(),
            ],
        )
        .unwrap();
    let labels: Vec<&str> = m.devices.iter().map(|d| d.label.as_str()).collect();
    assert_eq!(labels, ["virtio-blk-device[0]", "virtio-blk-device[1]"]);
    assert_eq!(
        m.explain("nvme", "x").unwrap_err().to_string(),
        "no device 'nvme' on machine pc-q35-6.0; devices are: virtio-blk-device[0], virtio-blk-device[1]"
    );
    assert_eq!(
        m.explain("virtio-blk-device[1]", "num-queus")
            .unwrap_err()
            .to_string(),
        "Property 'virtio-blk-device.num-queus' not found; did you mean 'num-queues'?"
    );
}

#[test]
fn release_build_checks_string_entries_and_machines() {
    compat_set! {
        BROKEN = "hw_compat_9_9" [
            { "vhost-scsi", "num_queues", "1" },
            { "virtio-blk-devices", "num-queues", "1" },
            { "virtio-blk-device", "num_queues", "1" },
            { "virtio-blk-device", "queue-size", "big" },
        ];
    }
    let err = ReleaseBuilder::new("9.9")
        .device::<VirtioBlk>()
        .family(
            MachineFamily::new("pc-q35", "")
                .default_machine()
                .latest_alias("pc")
                .version(v("10.0"), VersionStep::default())
                .version(v("9.9"), step(&[BROKEN])),
        )
        .family(
            MachineFamily::new("pc-i440fx", "")
                .default_machine()
                .latest_alias("pc")
                .version(v("10.0"), VersionStep::default()),
        )
        .machine(MachineDef::based_on(
            "xenfv",
            "xenfv",
            "pc-i440fx",
            Some(v("3.1")),
        ))
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "release 9.9 is inconsistent:
  - machine type 'xenfv' is based on 'pc-i440fx-3.1', which this release does not define
  - compat set 'hw_compat_9_9', entry {vhost-scsi, num_queues, 1}: device type 'vhost-scsi' is unknown
  - compat set 'hw_compat_9_9', entry {virtio-blk-devices, num-queues, 1}: device type 'virtio-blk-devices' is unknown; did you mean 'virtio-blk-device'?
  - compat set 'hw_compat_9_9', entry {virtio-blk-device, num_queues, 1}: Property 'virtio-blk-device.num_queues' not found; did you mean 'num-queues'?
  - compat set 'hw_compat_9_9', entry {virtio-blk-device, queue-size, big}: Property 'virtio-blk-device.queue-size' doesn't take value 'big': expects uint16 (0..=65535)
  - machine type name 'pc' is used twice
  - machine types 'pc-q35-10.0' and 'pc-i440fx-10.0' are both the default"
    );
    assert!(matches!(
        err.problems[0],
        ReleaseProblem::UnknownBase { .. }
    ));
}

#[test]
fn two_releases_differ_only_where_defined() {
    compat_set! {
        HW_COMPAT_7_2_IN_8_0 = "hw_compat_7_2" [ { VirtioBlk, "queue-size", "128" } ];
        HW_COMPAT_7_2_IN_8_0_1 = "hw_compat_7_2" [
            { VirtioBlk, "queue-size", "128" },
            { PciDevice, "x-pcie-err-unc-mask", "off" },
        ];
    }
    let q35 = |set| {
        MachineFamily::new("pc-q35", "Q35")
            .latest_alias("q35")
            .version(v("8.0"), VersionStep::default())
            .version(v("7.2"), step(&[set]))
    };
    let r80 = ReleaseBuilder::new("8.0")
        .device::<PcieRootPort>()
        .device::<VirtioBlk>()
        .family(q35(HW_COMPAT_7_2_IN_8_0))
        .build()
        .unwrap();
    let r801 = r80
        .to_builder("8.0.1")
        .family(q35(HW_COMPAT_7_2_IN_8_0_1))
        .build()
        .unwrap();
    let mask = |r: &Release| {
        value(
            r,
            "pc-q35-7.2",
            &[],
            "pcie-root-port",
            "x-pcie-err-unc-mask",
        )
        .to_string()
    };
    assert_eq!(mask(&r80), "on", "8.0 forgot the compat entry");
    assert_eq!(mask(&r801), "off", "8.0.1 added it");
    assert_eq!(
        value(&r801, "q35", &[], "pcie-root-port", "x-pcie-err-unc-mask").to_string(),
        "on"
    );
    assert_eq!(PcieRootPort::TYPE.name, "pcie-root-port");
}

/// Names from the command line are printed escaped: a crafted option
/// cannot print fake lines or drive the terminal through an error.
#[test]
fn command_line_names_are_escaped_in_errors() {
    let r = release_6_0();
    let evil = "e1000e\u{1b}[2J\nok";
    let e = r
        .instantiate("pc-q35-6.0", &[], &[parse_device(evil).unwrap()])
        .unwrap_err()
        .to_string();
    assert!(!e.chars().any(char::is_control), "{e:?}");
    assert!(
        e.contains(r"'e1000e\u{1b}[2J\nok' is not a valid device model name"),
        "{e}"
    );
    let e = r
        .instantiate("pc-q35-6.0\u{7}", &[], &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(r"unsupported machine type 'pc-q35-6.0\u{7}'"),
        "{e}"
    );
    let e = r
        .instantiate(
            "pc-q35-6.0",
            &[],
            &[parse_device("pcie-root-port,chassis=\u{1b}1").unwrap()],
        )
        .unwrap_err()
        .to_string();
    assert!(!e.chars().any(char::is_control), "{e:?}");
}
