//! The device types of release `10.0` with the properties of real QEMU
//! 10.0.2 (`-device TYPE,help` of Debian's build): the PCI devices'
//! common properties on `pci-device`, `e1000e` a PCI network card,
//! `PIIX4_PM` and `mch` created by the machine only, `virtio-blk-pci`.
//!
//! The root port, e1000e and am53c974 migrate QEMU 10.0's sections (their
//! declarations are shared with the line's types); `PIIX4_PM` and
//! `virtio-blk-pci` keep the examples' state (the fields the migration
//! stories need).

use compat_core::Board;
use compat_core::{Device, PropertyEnum, Size, VMState};

use super::pci::{
    pci_device, pcie_root_port, AerLog, MsixState, PciDeviceState, ROOT_PORT_10_0,
    ROOT_PORT_10_0_NO_ACS,
};
pub use super::pci::{PcieLinkWidth, ACPI_INDEX_MAX};
use super::virtio::{realize_queues, VirtioBlk};

pci_device!(
    /// The abstract parent of every PCI device, with QEMU 10.0's properties.
    PciDevice,
    rombar = {
        /// Expansion ROM BAR: -1 automatic, 0 none, 1 present. Without a
        /// ROM file -1 and 1 behave alike: QEMU 7.2's default, 1, is no
        /// difference.
        #[property(name = "rombar", default = -1, absent = "-1", alike = "1")]
        pub rombar: i32,
    },
    props = {
        /// The bus number (set by QEMU, read back only).
        #[property(name = "busnr", absent = "0")]
        pub busnr: u8,
        /// The bounce buffer limit for indirect DMA (at most `u32::MAX`).
        #[property(
            name = "x-max-bounce-buffer-size",
            default = 4096,
            doc = "Maximum buffer size allocated for bounce buffers used for mapped access to indirect DMA memory",
            absent = "4096"
        )]
        pub max_bounce_buffer_size: Size,
    },
    bits = {
        #[property(
            name = "x-pcie-err-unc-mask",
            bit = 0,
            default = true,
            doc = "mask uncorrectable internal errors by default (new in 8.0)",
            sticky
        )]
        #[property(name = "x-pcie-ext-tag", bit = 1, default = true)]
        #[property(name = "x-pcie-ari-nextfn-1", bit = 4, default = false, absent = "off")]
    }
);

impl PciDevice {
    /// What QEMU's `pci_qdev_realize` refuses.
    pub fn check(&self, type_name: &str) -> Result<(), String> {
        self.check_common()?;
        let bounce = self.max_bounce_buffer_size.0;
        if bounce > u64::from(u32::MAX) {
            return Err(format!(
                "Property {type_name}.x-max-bounce-buffer-size doesn't take value {bounce} \
                 (maximum: {})",
                u32::MAX
            ));
        }
        Ok(())
    }
}

pub use super::e1000e::{E1000e10 as E1000e, DEFAULT_MAC};

/// PCIe link speed (QEMU's `PCIELinkSpeed`), in GT/s; the discriminant
/// is the speed's code in the link registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PropertyEnum)]
#[property_enum(name = "PCIELinkSpeed")]
pub enum PcieLinkSpeed {
    /// 2.5 GT/s.
    #[property_enum(name = "2_5")]
    Gt2_5 = 1,
    /// 5 GT/s.
    #[property_enum(name = "5")]
    Gt5 = 2,
    /// 8 GT/s.
    #[property_enum(name = "8")]
    Gt8 = 3,
    /// 16 GT/s.
    #[property_enum(name = "16")]
    Gt16 = 4,
    /// 32 GT/s.
    #[property_enum(name = "32")]
    Gt32 = 5,
    /// 64 GT/s.
    #[property_enum(name = "64")]
    Gt64 = 6,
}

pcie_root_port!(
    /// `pcie-root-port` of QEMU 10.0.
    PcieRootPort,
    parent = PciDevice,
    speed = PcieLinkSpeed,
    build = PcieRootPort::build_config,
    props = {
        /// Hide the native hot-plug capability.
        #[property(
            name = "x-do-not-expose-native-hotplug-cap",
            default = false,
            absent = "off"
        )]
        #[vmstate(skip)]
        pub no_native_hotplug_cap: bool,
        /// The slot status register writable, as before a fix.
        #[property(
            name = "x-pci-express-writeable-slt-bug",
            default = false,
            absent = "off"
        )]
        #[vmstate(skip)]
        pub writeable_slt_bug: bool,
    }
);

impl PcieRootPort {
    /// As QEMU 10.0 builds it (recorded on pc-q35-7.2: the mask and
    /// extended tags off; with and without ACS), with what the properties
    /// change.
    pub fn build_config(&mut self) {
        self.config = PciDeviceState::from_recorded(match self.disable_acs {
            false => &ROOT_PORT_10_0,
            true => &ROOT_PORT_10_0_NO_ACS,
        });
        if self.pci.x_pcie_err_unc_mask() {
            self.config.set_unc_mask_10_0();
        }
        if self.pci.x_pcie_ext_tag() {
            self.config.set_ext_tag();
        }
    }
}

/// `virtio-blk-pci` of QEMU 10.0: a virtio block device on PCI, a PCI
/// proxy holding a `virtio-blk-device` whose properties it forwards, so
/// globals on `virtio-blk-device` (`hw_compat_5_1`'s `num-queues`) reach it.
#[derive(Debug, Clone, Device, VMState)]
#[device(
    name = "virtio-blk-pci",
    parent = PciDevice,
    child = VirtioBlk,
    vmstate,
    realize = VirtioBlkPci::realize
)]
#[vmstate(name = "virtio-blk", version = 2, minimum_version = 2)]
pub struct VirtioBlkPci {
    #[device(parent)]
    #[vmstate(skip)]
    pub pci: PciDevice,
    /// The block back end, a host setting.
    #[property(name = "drive", local)]
    #[vmstate(skip)]
    pub drive: String,
    /// Number of request queues (65535: one per vCPU).
    #[property(name = "num-queues", default = 65535)]
    #[vmstate(skip)]
    pub num_queues: u16,
    /// Size of each virtqueue.
    #[property(name = "queue-size", default = 256)]
    #[vmstate(skip)]
    pub queue_size: u16,
    /// MSI-X vectors.
    #[property(name = "vectors", default = 4294967295)]
    #[vmstate(skip)]
    pub vectors: u32,
    /// Feature and behaviour switches.
    #[property(name = "request-merging", bit = 0, default = true)]
    #[property(name = "seg-max-adjust", bit = 1, default = true)]
    #[property(name = "indirect_desc", bit = 2, default = true)]
    #[property(name = "event_idx", bit = 3, default = true)]
    #[property(name = "any_layout", bit = 4, default = true)]
    #[property(name = "config-wce", bit = 5, default = true)]
    #[property(name = "discard", bit = 6, default = true)]
    #[property(name = "write-zeroes", bit = 7, default = true)]
    #[vmstate(skip)]
    pub flags: u32,
    /// Disk serial number.
    #[property(name = "serial")]
    #[vmstate(skip)]
    pub serial: String,
    /// The queues realized: both sides must have as many.
    #[vmstate(name = "num_queues", must_match)]
    pub queues: u16,
    /// Per-queue state: the last available index of each queue.
    #[vmstate(name = "last_avail_idx", len = queues, max = 1024)]
    pub last_avail: Vec<u16>,
}

impl VirtioBlkPci {
    /// Check the back end and create the queues; `num-queues` then reads
    /// back the number realized, as in QEMU.
    pub fn realize(&mut self, board: &Board<'_>) -> Result<(), String> {
        self.pci.check("virtio-blk-pci")?;
        if self.drive.is_empty() {
            return Err("drive property not set".into());
        }
        self.queues = realize_queues(self.num_queues, board.smp)?;
        self.num_queues = self.queues;
        self.last_avail = (1..=self.queues).collect();
        Ok(())
    }
}

pub use super::piix4::Piix4Pm10 as Piix4Pm;

/// `mch`, the Q35 host bridge at `00.0`, created by `pc-q35` machines.
/// Its migrated state is not modelled.
#[derive(Debug, Clone, Device)]
#[device(
    name = "mch",
    parent = PciDevice,
    inert = "x-pcie-lnksta-dllla, x-pcie-extcap-init, x-pcie-err-unc-mask, x-pcie-ext-tag, x-pcie-ari-nextfn-1",
    hotpluggable = false,
    user_creatable = false
)]
pub struct Mch {
    #[device(parent)]
    pub pci: PciDevice,
}
