//! The example releases that re-enact QEMU's migration stories, one line of them, each
//! defined as the one before plus its changes:
//!
//! * `3.1`, `4.2`, `5.0` — the xen story: 4.x added smbus state to
//!   `PIIX4_PM` and the `smbus_no_migration_support` flag for
//!   `pc-i440fx-3.1`, but `xenfv` kept using the newest i440fx options; 5.0
//!   adds `xenfv-4.2` and keeps the alias `xenfv` on `xenfv-3.1`;
//! * `5.1`, `5.2` — virtio-blk `num-queues` goes from 1 to one per vCPU, with
//!   `hw_compat_5_1` restoring 1 for old machine types;
//! * `7.2`, `8.0`, `8.0.1`, `8.2` — the AER `x-pcie-err-unc-mask` change, the
//!   compat entry forgotten in 8.0 and added in 8.0.1, and
//!   e1000e's `migrate-timadj`;
//! * `10.0` — the device types with the properties of real QEMU 10.0.2:
//!   `e1000e` a PCI network card, `pcie-root-port`'s and `pci-device`'s
//!   whole property sets, `virtio-blk-pci`, `mch` on `pc-q35` machines;
//!   machine types up to `*-10.0`, every `*-7.0` and older deprecated.

use compat_core::compat_set;
use compat_core::release::ReleaseError;
use compat_core::{
    BusDef, CompatSet, MachineDef, MachineFamily, Release, ReleaseBuilder, StreamFormat, Version,
    VersionStep,
};

use crate::devices::{
    qemu10, v7_2, Am53c974, Am53c97472, Am53c97480, E1000e, E1000e52, E1000e72, Mch, PciDevice,
    PcieRootPort, Piix4Pm, Piix4Pm31, Piix4Pm80, VirtioBlk, VirtioBlk51, X86Cpu,
    SMBUS_NO_MIGRATION_SUPPORT,
};

/// The releases, oldest first.
pub const RELEASES: [&str; 10] = [
    "3.1", "4.2", "5.0", "5.1", "5.2", "7.2", "8.0", "8.0.1", "8.2", "10.0",
];

/// Why QEMU 10.0 deprecates a machine type of version 7.0 or older.
pub const OLD_MACHINE_DEPRECATION: &str =
    "machines more than 3 years old are subject to deletion after 6 years";

compat_set! {
    /// 4.0 gave PCIe ports a 16 GT/s x32 link (and the properties choosing
    /// it) and root ports an ACS capability; 3.1 machine types keep 2.5 GT/s
    /// x1 and no ACS. The example line's root
    /// port has the properties from its first release on, so its 3.1
    /// machine types carry the set from the start.
    pub HW_COMPAT_3_1 = "hw_compat_3_1" [
        { v7_2::PcieRootPort, "x-speed", "2_5" },
        { v7_2::PcieRootPort, "x-width", "1" },
        { v7_2::PcieRootPort, "disable-acs", "on" },
    ];
    /// 6.1 gave e1000e `init-vet`; older machine types keep it off.
    pub HW_COMPAT_6_0 = "hw_compat_6_0" [
        { E1000e72, "init-vet", "off" },
    ];
    /// 8.1 gave PCI devices `x-pcie-ari-nextfn-1` off; older machine types
    /// keep the old next-function number.
    pub HW_COMPAT_8_0 = "hw_compat_8_0" [
        { qemu10::PciDevice, "x-pcie-ari-nextfn-1", "on" },
    ];
    /// 8.2 fixed the writable slot status register of PCIe ports; older
    /// machine types keep the bug.
    pub HW_COMPAT_8_1 = "hw_compat_8_1" [
        { qemu10::PcieRootPort, "x-pci-express-writeable-slt-bug", "on" },
    ];
    /// What 4.0 changed, undone, as QEMU 10.0 has it: a 16 GT/s x32 link
    /// for PCIe ports and root ports with an ACS capability; older machine
    /// types keep 2.5 GT/s x1 and no ACS.
    pub HW_COMPAT_3_1_AS_IN_10_0 = "hw_compat_3_1" [
        { qemu10::PcieRootPort, "x-speed", "2_5" },
        { qemu10::PcieRootPort, "x-width", "1" },
        { qemu10::PcieRootPort, "disable-acs", "on" },
    ];
    /// 9.2 turned PCI Express extended tags on; older machine types keep
    /// them off.
    pub HW_COMPAT_9_1 = "hw_compat_9_1" [
        { qemu10::PciDevice, "x-pcie-ext-tag", "off" },
    ];
    /// 5.2 gave virtio-blk one queue per vCPU; older machine types keep 1.
    pub HW_COMPAT_5_1 = "hw_compat_5_1" [
        { VirtioBlk, "num-queues", 1 },
    ];
    /// What 8.0 changed, undone, as 8.0 shipped it: the AER change forgotten.
    pub HW_COMPAT_7_2_AS_IN_8_0 = "hw_compat_7_2" [
        { E1000e, "migrate-timadj", "off" },
    ];
    /// `hw_compat_7_2` as 8.0.1 fixed it.
    pub HW_COMPAT_7_2 = "hw_compat_7_2" [
        { E1000e, "migrate-timadj", "off" },
        { PciDevice, "x-pcie-err-unc-mask", "off" },
    ];
}

/// The step of a Xen machine type: its streams are device state only.
fn xen() -> VersionStep {
    VersionStep::default().stream_format(StreamFormat::DeviceState)
}

fn v(major: u16, minor: u16) -> Version {
    Version::new(major, minor)
}

/// Add version `version` to both PC families, with `sets` in its step.
fn add_pc_version(
    b: ReleaseBuilder,
    version: Version,
    sets: &[&'static CompatSet],
) -> ReleaseBuilder {
    let step = || VersionStep::compat(sets.iter().copied());
    b.edit_family("pc-q35", |f| f.version(version, step()))
        .edit_family("pc-i440fx", |f| f.version(version, step()))
}

/// The step of an older version, changed in both PC families.
fn set_pc_step(b: ReleaseBuilder, version: Version, step: VersionStep) -> ReleaseBuilder {
    b.edit_family("pc-q35", |f| f.version(version, step.clone()))
        .edit_family("pc-i440fx", |f| f.version(version, step.clone()))
}

/// The definition of release `name`, if it is one of [`RELEASES`].
pub fn builder(name: &str) -> Option<ReleaseBuilder> {
    Some(match name {
        "3.1" => ReleaseBuilder::new("3.1")
            .device::<VirtioBlk51>()
            .device::<v7_2::PcieRootPort>()
            .device::<E1000e52>()
            .device::<Piix4Pm31>()
            .device::<v7_2::Mch>()
            .cpu::<X86Cpu>()
            // The host bridge at 00.0 and the ICH9 functions at 1f.x (LPC,
            // AHCI, SMBus; not modelled): user devices start at slot 1.
            .family(
                MachineFamily::new("pc-q35", "Standard PC (Q35 + ICH9, 2009)")
                    .latest_alias("q35")
                    .bus(
                        BusDef::pci_root("pcie.0")
                            .express()
                            .reserve("1f.0")
                            .reserve("1f.2")
                            .reserve("1f.3"),
                    )
                    .onboard("mch,addr=00.0")
                    .version(v(3, 1), VersionStep::compat([HW_COMPAT_3_1])),
            )
            // The i440FX host bridge at 00.0, PIIX3 at 01.0 and its IDE at
            // 01.1 (not modelled), PIIX4_PM at 01.3: user devices start at
            // slot 2.
            .family(
                MachineFamily::new("pc-i440fx", "Standard PC (i440FX + PIIX, 1996)")
                    .latest_alias("pc")
                    .default_machine()
                    .bus(
                        BusDef::pci_root("pci.0")
                            .reserve("00.0")
                            .reserve("01.0")
                            .reserve("01.1"),
                    )
                    .onboard("PIIX4_PM,id=pm,addr=01.3,smm-enabled=on")
                    .version(v(3, 1), VersionStep::compat([HW_COMPAT_3_1])),
            )
            .machine(
                MachineDef::based_on("xenfv", "xenfv", "pc-i440fx", None)
                    .step(xen())
                    .description("Xen Fully-virtualized PC"),
            ),
        // 4.x: smbus state in PIIX4_PM, off for pc-i440fx-3.1 — but xenfv
        // still takes the newest i440fx options, so it expects smbus state
        // that 3.1 never sent.
        "4.2" => {
            let b = builder("3.1")?.named("4.2").replace_device::<Piix4Pm>();
            let b = add_pc_version(b, v(4, 2), &[]);
            b.edit_family("pc-i440fx", |f| {
                f.version(
                    v(3, 1),
                    VersionStep::compat([HW_COMPAT_3_1]).flag(SMBUS_NO_MIGRATION_SUPPORT, true),
                )
            })
        }
        // 5.0: xenfv-4.2 for guests started on 4.2; the alias xenfv stays on
        // xenfv-3.1.
        "5.0" => add_pc_version(builder("4.2")?.named("5.0"), v(5, 0), &[])
            .without_machine("xenfv")
            .machine(
                MachineDef::based_on("xenfv-4.2", "xenfv", "pc-i440fx", Some(v(4, 2)))
                    .step(xen())
                    .description("Xen Fully-virtualized PC"),
            )
            .machine(
                MachineDef::based_on("xenfv-3.1", "xenfv", "pc-i440fx", Some(v(3, 1)))
                    .alias("xenfv")
                    .step(xen())
                    .description("Xen Fully-virtualized PC"),
            ),
        "5.1" => add_pc_version(builder("5.0")?.named("5.1"), v(5, 1), &[]),
        // 5.2: num-queues defaults to one per vCPU; hw_compat_5_1 keeps 1.
        "5.2" => {
            let b = builder("5.1")?.named("5.2").replace_device::<VirtioBlk>();
            let b = set_pc_step(b, v(5, 1), VersionStep::compat([HW_COMPAT_5_1]));
            add_pc_version(b, v(5, 2), &[])
        }
        // 7.2: e1000e's init-vet (6.1), off for older machine types.
        "7.2" => {
            let b = builder("5.2")?
                .named("7.2")
                .replace_device::<E1000e72>()
                .device::<Am53c97472>();
            let b = set_pc_step(b, v(5, 2), VersionStep::compat([HW_COMPAT_6_0]));
            add_pc_version(b, v(7, 2), &[])
        }
        // 8.0: the AER mask and e1000e's timadj; hw_compat_7_2 forgets AER.
        "8.0" => {
            let b = builder("7.2")?
                .named("8.0")
                .replace_device::<PcieRootPort>()
                .replace_device::<E1000e>()
                .replace_device::<Piix4Pm80>()
                .replace_device::<Mch>()
                .replace_device::<Am53c97480>();
            let b = set_pc_step(b, v(7, 2), VersionStep::compat([HW_COMPAT_7_2_AS_IN_8_0]));
            add_pc_version(b, v(8, 0), &[])
        }
        // 8.0.1: the fix, no new machine type.
        "8.0.1" => set_pc_step(
            builder("8.0")?.named("8.0.1"),
            v(7, 2),
            VersionStep::compat([HW_COMPAT_7_2]),
        ),
        "8.2" => add_pc_version(builder("8.0.1")?.named("8.2"), v(8, 2), &[]),
        // 10.0: the device types of real QEMU 10.0.2; old machine types
        // deprecated, their compat sets kept.
        "10.0" => {
            let b = builder("8.2")?
                .named("10.0")
                .replace_device::<qemu10::PciDevice>()
                .replace_device::<qemu10::E1000e>()
                .replace_device::<qemu10::PcieRootPort>()
                .replace_device::<qemu10::Piix4Pm>()
                .device::<qemu10::VirtioBlkPci>()
                .replace_device::<qemu10::Mch>()
                .replace_device::<Am53c974>();
            let old = |step: VersionStep| step.deprecated(OLD_MACHINE_DEPRECATION);
            let b = set_pc_step(b, v(5, 2), old(VersionStep::compat([HW_COMPAT_6_0])));
            let b = [(4, 2), (5, 0)].into_iter().fold(b, |b, (major, minor)| {
                set_pc_step(b, v(major, minor), old(VersionStep::default()))
            });
            let b = b
                .edit_family("pc-q35", |f| {
                    f.version(
                        v(3, 1),
                        old(VersionStep::compat([HW_COMPAT_3_1_AS_IN_10_0])),
                    )
                })
                .edit_family("pc-i440fx", |f| {
                    f.version(
                        v(3, 1),
                        old(VersionStep::compat([HW_COMPAT_3_1_AS_IN_10_0])
                            .flag(SMBUS_NO_MIGRATION_SUPPORT, true)),
                    )
                });
            let b = set_pc_step(b, v(5, 1), old(VersionStep::compat([HW_COMPAT_5_1])));
            // The compat sets of real 10.0 for what the line's older
            // releases modelled as absent.
            let b = set_pc_step(
                b,
                v(8, 0),
                VersionStep::compat([HW_COMPAT_8_1, HW_COMPAT_8_0]),
            );
            let b = set_pc_step(b, v(8, 2), VersionStep::compat([HW_COMPAT_9_1]));
            add_pc_version(b, v(10, 0), &[])
        }
        _ => return None,
    })
}

/// Why a release could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnknownRelease {
    /// No release of that name.
    #[error("unknown release '{name}'{suggestion}; the releases are {}", RELEASES.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// `"; did you mean '…'?"` or empty.
        suggestion: String,
    },
    /// Its definition is inconsistent (a bug in this crate; the tests
    /// build every release).
    #[error(transparent)]
    Inconsistent(#[from] ReleaseError),
}

/// Release `name`, built.
pub fn release(name: &str) -> Result<Release, UnknownRelease> {
    let b = builder(name).ok_or_else(|| UnknownRelease::Unknown {
        name: name.to_owned(),
        suggestion: compat_core::text::suggest::did_you_mean(name, RELEASES),
    })?;
    Ok(b.build()?)
}

/// Every release, oldest first.
pub fn all() -> Vec<Release> {
    RELEASES
        .iter()
        .map(|r| release(r).expect("a listed release"))
        .collect()
}
