//! The device types of release `10.0` with the properties of real QEMU
//! 10.0.2 (`-device TYPE,help` of Debian's build): the PCI devices'
//! common properties on `pci-device`, `e1000e` a PCI network card,
//! `PIIX4_PM` and `mch` created by the machine only, `virtio-blk-pci`.
//!
//! Their migrated state is still the examples' (the fields the migration
//! stories need), shared with the 8.x types so the line migrates.

use compat_core::Board;
use compat_core::{Device, PropertyEnum, Size, VMState};

use super::pci::{AerLog, MsixState, PciDeviceState, ROOT_PORT_10_0};
use super::virtio::{realize_queues, VirtioBlk};

/// The largest `acpi-index` QEMU accepts.
pub const ACPI_INDEX_MAX: u32 = 16383;

/// The abstract parent of every PCI device, with QEMU 10.0's properties.
#[derive(Debug, Clone, Device)]
#[device(name = "pci-device", abstract, bus = "PCI")]
pub struct PciDevice {
    /// ACPI index of the device's slot (0: none).
    #[property(name = "acpi-index", default = 0, absent = "0")]
    pub acpi_index: u32,
    /// Slot and optional function number, e.g. `06.0` or `06`.
    #[property(
        name = "addr",
        doc = "Slot and optional function number, example: 06.0 or 06",
        absent = ""
    )]
    pub addr: String,
    /// The bus number (set by QEMU, read back only).
    #[property(name = "busnr", absent = "0")]
    pub busnr: u8,
    /// The id of the primary device of a failover pair.
    #[property(name = "failover_pair_id", absent = "")]
    pub failover_pair_id: String,
    /// Whether the slot has several functions.
    #[property(name = "multifunction", default = false, absent = "off")]
    pub multifunction: bool,
    /// Expansion ROM BAR: -1 automatic, 0 none, 1 present.
    #[property(name = "rombar", default = -1, absent = "-1")]
    pub rombar: i32,
    /// The expansion ROM image.
    #[property(name = "romfile", absent = "")]
    pub romfile: String,
    /// The expansion ROM's size (`u32::MAX`: the file's).
    #[property(name = "romsize", default = 4294967295, absent = "4294967295")]
    pub romsize: u32,
    /// The bounce buffer limit for indirect DMA (at most `u32::MAX`).
    #[property(
        name = "x-max-bounce-buffer-size",
        default = 4096,
        doc = "Maximum buffer size allocated for bounce buffers used for mapped access to indirect DMA memory",
        absent = "4096"
    )]
    pub max_bounce_buffer_size: Size,
    /// Capability bits (QEMU's `cap_present`).
    #[property(
        name = "x-pcie-err-unc-mask",
        bit = 0,
        default = true,
        doc = "mask uncorrectable internal errors by default (new in 8.0)",
        sticky
    )]
    #[property(name = "x-pcie-ext-tag", bit = 1, default = true)]
    #[property(name = "x-pcie-lnksta-dllla", bit = 2, default = true, absent = "on")]
    #[property(name = "x-pcie-extcap-init", bit = 3, default = true, absent = "on")]
    #[property(name = "x-pcie-ari-nextfn-1", bit = 4, default = false, absent = "off")]
    pub cap_present: u32,
}

impl PciDevice {
    /// What QEMU's `pci_qdev_realize` refuses of the common properties.
    pub fn check(&self, type_name: &str) -> Result<(), String> {
        if self.acpi_index > ACPI_INDEX_MAX {
            return Err(format!(
                "acpi-index should be less or equal to {ACPI_INDEX_MAX}"
            ));
        }
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

/// PCIe link speed (QEMU's `PCIELinkSpeed`), in GT/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PropertyEnum)]
#[property_enum(name = "PCIELinkSpeed")]
pub enum PcieLinkSpeed {
    /// 2.5 GT/s.
    #[property_enum(name = "2_5")]
    Gt2_5,
    /// 5 GT/s.
    #[property_enum(name = "5")]
    Gt5,
    /// 8 GT/s.
    #[property_enum(name = "8")]
    Gt8,
    /// 16 GT/s.
    #[property_enum(name = "16")]
    Gt16,
    /// 32 GT/s.
    #[property_enum(name = "32")]
    Gt32,
    /// 64 GT/s.
    #[property_enum(name = "64")]
    Gt64,
}

/// PCIe link width (QEMU's `PCIELinkWidth`), in lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PropertyEnum)]
#[property_enum(name = "PCIELinkWidth")]
pub enum PcieLinkWidth {
    /// x1.
    #[property_enum(name = "1")]
    X1,
    /// x2.
    #[property_enum(name = "2")]
    X2,
    /// x4.
    #[property_enum(name = "4")]
    X4,
    /// x8.
    #[property_enum(name = "8")]
    X8,
    /// x12.
    #[property_enum(name = "12")]
    X12,
    /// x16.
    #[property_enum(name = "16")]
    X16,
    /// x32.
    #[property_enum(name = "32")]
    X32,
}

/// `pcie-root-port` of QEMU 10.0.
#[derive(Debug, Clone, Device, VMState)]
#[device(
    name = "pcie-root-port",
    parent = PciDevice,
    provides_bus = "PCI",
    bus_slots = 1,
    vmstate,
    realize = PcieRootPort::realize
)]
#[vmstate(name = "pcie-root-port", version = 1)]
pub struct PcieRootPort {
    #[device(parent)]
    #[vmstate(skip)]
    pub pci: PciDevice,
    /// Size of the AER log.
    #[property(name = "aer_log_max", default = 8, absent = "8")]
    #[vmstate(skip)]
    pub aer_log_max: u16,
    /// Buses to reserve behind the port (`u32::MAX`: none asked).
    #[property(name = "bus-reserve", default = 4294967295, absent = "4294967295")]
    #[vmstate(skip)]
    pub bus_reserve: u32,
    /// Chassis number.
    #[property(name = "chassis", default = 0)]
    #[vmstate(skip)]
    pub chassis: u8,
    /// Disable the ACS capability.
    #[property(name = "disable-acs", default = false, absent = "off")]
    #[vmstate(skip)]
    pub disable_acs: bool,
    /// Allow hot-plug behind the port.
    #[property(name = "hotplug", default = true, absent = "on")]
    #[vmstate(skip)]
    pub hotplug: bool,
    /// I/O window to reserve.
    #[property(
        name = "io-reserve",
        default = 18446744073709551615,
        absent = "18446744073709551615"
    )]
    #[vmstate(skip)]
    pub io_reserve: Size,
    /// Memory window to reserve.
    #[property(
        name = "mem-reserve",
        default = 18446744073709551615,
        absent = "18446744073709551615"
    )]
    #[vmstate(skip)]
    pub mem_reserve: Size,
    /// Port number.
    #[property(name = "port", default = 0, absent = "0")]
    #[vmstate(skip)]
    pub port: u8,
    /// A power controller in the slot.
    #[property(name = "power_controller_present", default = true, absent = "on")]
    #[vmstate(skip)]
    pub power_controller_present: bool,
    /// 32-bit prefetchable window to reserve.
    #[property(
        name = "pref32-reserve",
        default = 18446744073709551615,
        absent = "18446744073709551615"
    )]
    #[vmstate(skip)]
    pub pref32_reserve: Size,
    /// 64-bit prefetchable window to reserve.
    #[property(
        name = "pref64-reserve",
        default = 18446744073709551615,
        absent = "18446744073709551615"
    )]
    #[vmstate(skip)]
    pub pref64_reserve: Size,
    /// Slot number.
    #[property(name = "slot", default = 0)]
    #[vmstate(skip)]
    pub slot: u16,
    /// Hide the native hot-plug capability.
    #[property(
        name = "x-do-not-expose-native-hotplug-cap",
        default = false,
        absent = "off"
    )]
    #[vmstate(skip)]
    pub no_native_hotplug_cap: bool,
    /// Migrate MSI-X state.
    #[property(name = "x-migrate-msix", default = true, absent = "on")]
    #[vmstate(skip)]
    pub migrate_msix: bool,
    /// The slot status register writable, as before a fix.
    #[property(
        name = "x-pci-express-writeable-slt-bug",
        default = false,
        absent = "off"
    )]
    #[vmstate(skip)]
    pub writeable_slt_bug: bool,
    /// Link speed.
    #[property(name = "x-speed", default = PcieLinkSpeed::Gt16, absent = "16")]
    #[vmstate(skip)]
    pub speed: PcieLinkSpeed,
    /// Link width.
    #[property(name = "x-width", default = PcieLinkWidth::X32, absent = "32")]
    #[vmstate(skip)]
    pub width: PcieLinkWidth,
    /// The config space.
    #[vmstate(name = "parent_obj.parent_obj.parent_obj")]
    pub config: PciDeviceState,
    /// The AER log.
    #[vmstate(name = "parent_obj.parent_obj.parent_obj.exp.aer_log")]
    pub aer_log: AerLog,
    /// MSI-X.
    #[vmstate(name = "parent_obj.parent_obj.parent_obj.parent_obj")]
    pub msix: MsixState,
}

impl PcieRootPort {
    /// Build the config space from the properties.
    pub fn realize(&mut self, _board: &Board<'_>) -> Result<(), String> {
        self.pci.check("pcie-root-port")?;
        // As QEMU 10.0 builds it (recorded on pc-q35-7.2: the mask and
        // extended tags off), with what the properties change.
        self.config = PciDeviceState::from_recorded(&ROOT_PORT_10_0);
        if self.pci.x_pcie_err_unc_mask() {
            self.config.set_unc_mask_10_0();
        }
        if self.pci.x_pcie_ext_tag() {
            self.config.set_ext_tag();
        }
        self.config.set_slot_number(self.slot);
        self.aer_log.log_max = self.aer_log_max;
        Ok(())
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
#[device(name = "mch", parent = PciDevice, hotpluggable = false, user_creatable = false)]
pub struct Mch {
    #[device(parent)]
    pub pci: PciDevice,
}
