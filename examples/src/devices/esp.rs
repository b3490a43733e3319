//! `am53c974`, the AMD PCscsi PCI SCSI adapter, after QEMU's
//! `hw/scsi/esp-pci.c` and `hw/scsi/esp.c`: its section `pciespscsi`
//! holds the PCI function, the DMA registers, and the ESP controller's
//! state after the version of that state (`esp.mig_version_id`), since a
//! nested state carries no version of its own on the wire.
//!
//! QEMU 7.2 writes ESP state version 6, ending `ti_cmd, lun`; QEMU 10.0
//! writes version 7, ending `lun, drq_state`, and reads `ti_cmd` only from
//! versions 5 and 6 (`mig_ti_cmd`). So 7.2 → 10.0 fails (10.0 reads one
//! byte past the section), and 10.0 → 7.2 completes while 7.2 reads 10.0's
//! `lun` as `ti_cmd` and `drq_state` as `lun` — the same bytes, in other
//! fields. The models here do what QEMU does, byte for byte.

use compat_core::Board;
use compat_core::{Device, VMState};

use super::pci::{v7_2, PciDevice};
use super::qemu10;

/// The config space of a conventional PCI function (256 bytes): QEMU's
/// `PCIDevice` state as such a function writes it.
#[derive(Debug, Clone, VMState)]
#[vmstate(name = "PCIDevice", version = 2, minimum_version = 1)]
pub struct PciConfig256 {
    /// QEMU's `version_id` field.
    pub version_id: i32,
    /// The config space; its read-only bits must match.
    #[vmstate(name = "config", must_match, mask = PciConfig256::check_mask)]
    pub config: [u8; 256],
    /// INTx levels: four big-endian int32s, one 16-byte field as QEMU
    /// declares it (`vmstate_info_pci_irq_state`), since version 2.
    #[vmstate(since = 2)]
    pub irq_state: [u8; 16],
}

/// The bits of a conventional function's config space QEMU compares on
/// load (`cmask & ~wmask & ~w1cmask` of `pci_init_cmask`): the vendor and
/// device ids, the capability-list bit of the status, the revision, the
/// class, the header type and the capability pointer.
static CONVENTIONAL_CHECK: [u8; 256] = {
    let mut m = [0u8; 256];
    m[0x00] = 0xff;
    m[0x01] = 0xff;
    m[0x02] = 0xff;
    m[0x03] = 0xff;
    m[0x06] = 0x10;
    m[0x08] = 0xff;
    m[0x09] = 0xff;
    m[0x0a] = 0xff;
    m[0x0b] = 0xff;
    m[0x0e] = 0xff;
    m[0x34] = 0xff;
    m
};

impl PciConfig256 {
    fn check_mask(&self) -> &[u8] {
        &CONVENTIONAL_CHECK
    }

    /// The config space of an `am53c974` at reset: AMD's vendor id and the
    /// PCscsi device id, revision 0x10, class SCSI storage, an I/O BAR,
    /// QEMU's default subsystem ids, interrupt pin A.
    pub fn am53c974() -> Self {
        let mut config = [0u8; 256];
        config[0x00..0x04].copy_from_slice(&[0x22, 0x10, 0x20, 0x20]);
        config[0x08] = 0x10;
        config[0x0b] = 0x01;
        config[0x10] = 0x01;
        config[0x2c..0x30].copy_from_slice(&[0xf4, 0x1a, 0x00, 0x11]);
        config[0x3d] = 0x01;
        PciConfig256 {
            version_id: 2,
            config,
            irq_state: [0; 16],
        }
    }
}

impl Default for PciConfig256 {
    fn default() -> Self {
        PciConfig256::am53c974()
    }
}

/// QEMU's `Fifo8` of 16 bytes (the ESP data FIFO).
#[derive(Debug, Clone, Default, VMState)]
#[vmstate(name = "Fifo8", version = 1)]
pub struct Fifo16 {
    /// The buffer, as it is in memory.
    pub data: [u8; 16],
    /// Where the next byte is read.
    pub head: u32,
    /// How many bytes it holds.
    pub num: u32,
}

/// QEMU's `Fifo8` of 32 bytes (the ESP command FIFO).
#[derive(Debug, Clone, Default, VMState)]
#[vmstate(name = "Fifo8", version = 1)]
pub struct Fifo32 {
    /// The buffer, as it is in memory.
    pub data: [u8; 32],
    /// Where the next byte is read.
    pub head: u32,
    /// How many bytes it holds.
    pub num: u32,
}

/// The ESP registers after reset (the chip id in read register 8).
fn esp_reset_rregs() -> [u8; 16] {
    let mut r = [0u8; 16];
    r[8] = 0x07;
    r
}

/// The DMA engine's registers after reset (QEMU's `esp_pci_hard_reset`):
/// the working address (`DMA_WAC`, register 4) all ones, the working MDL
/// address (`DMA_WMAC`, register 7) `0xfffffffd`, as they are in memory.
fn dma_reset_regs() -> [u8; 32] {
    let mut r = [0u8; 32];
    r[4 * 4..5 * 4].copy_from_slice(&0xffff_ffffu32.to_le_bytes());
    r[7 * 4..8 * 4].copy_from_slice(&0xffff_fffdu32.to_le_bytes());
    r
}

/// Declares an `am53c974` on a `pci-device` of type `$parent` writing ESP
/// state version `$esp`: the fields both versions share, then `$tail`, the
/// fields that end the state in that version. QEMU's `esp_pre_save` writes
/// its own version whatever version was loaded.
macro_rules! am53c974 {
    (
        $(#[$doc:meta])* $name:ident, parent = $parent:ty, inert = $inert:literal, esp = $esp:expr,
        ready = $ready:literal, { $($tail:tt)* }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Device, VMState)]
        #[device(name = "am53c974", parent = $parent, inert = $inert, vmstate, realize = $name::realize)]
        #[vmstate(name = "pciespscsi", version = 2, minimum_version = 1, pre_save = $name::pre_save)]
        pub struct $name {
            #[device(parent)]
            #[vmstate(skip)]
            pub pci: $parent,
            /// The PCI function.
            #[vmstate(name = "parent_obj")]
            pub config: PciConfig256,
            /// The DMA engine's registers, as they are in memory.
            pub dma_regs: [u8; 32],
            /// The version of the ESP state that follows: this model's on
            /// save, the source's on load.
            #[vmstate(name = "esp.mig_version_id", since = 2)]
            pub mig_version_id: u8,
            /// Read registers.
            #[vmstate(name = "esp.rregs")]
            pub rregs: [u8; 16],
            /// Write registers.
            #[vmstate(name = "esp.wregs")]
            pub wregs: [u8; 16],
            /// Bytes left of the transfer.
            #[vmstate(name = "esp.ti_size")]
            pub ti_size: i32,
            /// SCSI status.
            #[vmstate(name = "esp.status")]
            pub status: u32,
            /// Whether DMA is on.
            #[vmstate(name = "esp.dma")]
            pub dma: u32,
            /// Whether a command is being taken.
            #[vmstate(name = "esp.do_cmd")]
            pub do_cmd: u32,
            /// Data ready for the guest.
            #[vmstate(name = $ready)]
            pub data_ready: bool,
            /// Where the CDB starts in the command FIFO.
            #[vmstate(name = "esp.cmdfifo_cdb_offset")]
            pub cmdfifo_cdb_offset: u8,
            /// The data FIFO.
            #[vmstate(name = "esp.fifo")]
            pub fifo: Fifo16,
            /// The command FIFO.
            #[vmstate(name = "esp.cmdfifo")]
            pub cmdfifo: Fifo32,
            $($tail)*
        }

        impl $name {
            /// Check the properties; the state at reset.
            pub fn realize(&mut self, _board: &Board<'_>) -> Result<(), String> {
                self.pci.check("am53c974")?;
                self.config = PciConfig256::am53c974();
                self.mig_version_id = $esp;
                self.rregs = esp_reset_rregs();
                self.dma_regs = dma_reset_regs();
                Ok(())
            }

            fn pre_save(&mut self) -> Result<(), String> {
                self.mig_version_id = $esp;
                Ok(())
            }
        }
    };
}

am53c974!(
    /// `am53c974` of QEMU 7.2 (ESP state version 6).
    Am53c97472, parent = v7_2::PciDevice, inert = "x-pcie-lnksta-dllla, x-pcie-extcap-init", esp = 6, ready = "esp.data_in_ready", {
        /// The transfer command.
        #[vmstate(name = "esp.ti_cmd")]
        pub ti_cmd: u8,
        /// The logical unit.
        #[vmstate(name = "esp.lun")]
        pub lun: u8,
    }
);

am53c974!(
    /// `am53c974` of QEMU 7.2, on the PCI device type of 8.0.
    Am53c97480, parent = PciDevice, inert = "x-pcie-lnksta-dllla, x-pcie-extcap-init, x-pcie-err-unc-mask", esp = 6, ready = "esp.data_in_ready", {
        /// The transfer command.
        #[vmstate(name = "esp.ti_cmd")]
        pub ti_cmd: u8,
        /// The logical unit.
        #[vmstate(name = "esp.lun")]
        pub lun: u8,
    }
);

am53c974!(
    /// `am53c974` of QEMU 10.0 (ESP state version 7): `ti_cmd` is read only
    /// from states of versions 5 and 6, `drq_state` always follows `lun`.
    Am53c974, parent = qemu10::PciDevice, inert = "x-pcie-lnksta-dllla, x-pcie-extcap-init, x-pcie-err-unc-mask, x-pcie-ext-tag, x-pcie-ari-nextfn-1", esp = 7, ready = "esp.data_ready", {
        /// The transfer command of an ESP state of version 5 or 6.
        #[vmstate(name = "esp.mig_ti_cmd", exists = Am53c974::is_version_5_or_6)]
        pub mig_ti_cmd: u8,
        /// The logical unit.
        #[vmstate(name = "esp.lun")]
        pub lun: u8,
        /// The DMA request line.
        #[vmstate(name = "esp.drq_state")]
        pub drq_state: bool,
    }
);

impl Am53c974 {
    /// QEMU's `esp_is_between_version_5_and_6`, on the ESP version the
    /// source wrote (read just before).
    fn is_version_5_or_6(&self, _version: u32) -> bool {
        (5..=6).contains(&self.mig_version_id)
    }
}
