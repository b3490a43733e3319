//! `piix4-pm`, the ACPI device `pc-i440fx` and `xenfv` machines create on
//! board, after QEMU's `hw/acpi/piix4.c`: since 4.0 its VMState has smbus
//! fields, which exist only when the machine's `smbus_no_migration_support`
//! flag is false (QEMU's Xen story).

use compat_core::Board;
use compat_core::{Device, VMState};

/// The machine flag the smbus fields depend on.
pub const SMBUS_NO_MIGRATION_SUPPORT: &str = "smbus_no_migration_support";

/// `piix4-pm` since 4.0.
#[derive(Debug, Clone, Device, VMState)]
#[device(name = "piix4-pm", hotpluggable = false, vmstate, realize = Piix4Pm::realize)]
#[vmstate(name = "piix4_pm", version = 3)]
pub struct Piix4Pm {
    /// SMM enabled.
    #[property(name = "smm-enabled", default = true)]
    #[vmstate(skip)]
    pub smm_enabled: bool,
    /// The machine's flag, read at realize.
    #[vmstate(skip)]
    pub smbus_no_migration_support: bool,
    /// PM1 event status.
    #[vmstate(name = "ar.pm1.evt.sts")]
    pub pm1_sts: u16,
    /// PM1 event enable.
    #[vmstate(name = "ar.pm1.evt.en")]
    pub pm1_en: u16,
    /// SMBus status, migrated only when the machine supports it.
    #[vmstate(name = "smb.smb_stat", exists = Piix4Pm::smbus_exists)]
    pub smb_stat: u8,
    /// SMBus control.
    #[vmstate(name = "smb.smb_ctl", exists = Piix4Pm::smbus_exists)]
    pub smb_ctl: u8,
    /// SMBus data.
    #[vmstate(name = "smb.smb_data", exists = Piix4Pm::smbus_exists)]
    pub smb_data: [u8; 32],
}

impl Piix4Pm {
    /// Read the machine's smbus flag.
    pub fn realize(&mut self, board: &Board<'_>) -> Result<(), String> {
        self.smbus_no_migration_support = board.flag(SMBUS_NO_MIGRATION_SUPPORT);
        self.pm1_en = 0x0121;
        Ok(())
    }

    fn smbus_exists(&self, _version: u32) -> bool {
        !self.smbus_no_migration_support
    }
}

/// `piix4-pm` before 4.0: no smbus state.
#[derive(Debug, Clone, Device, VMState)]
#[device(name = "piix4-pm", hotpluggable = false, vmstate, realize = Piix4Pm31::realize)]
#[vmstate(name = "piix4_pm", version = 3)]
pub struct Piix4Pm31 {
    /// SMM enabled.
    #[property(name = "smm-enabled", default = true)]
    #[vmstate(skip)]
    pub smm_enabled: bool,
    /// PM1 event status.
    #[vmstate(name = "ar.pm1.evt.sts")]
    pub pm1_sts: u16,
    /// PM1 event enable.
    #[vmstate(name = "ar.pm1.evt.en")]
    pub pm1_en: u16,
}

impl Piix4Pm31 {
    /// Set the registers as the firmware leaves them.
    pub fn realize(&mut self, _board: &Board<'_>) -> Result<(), String> {
        self.pm1_en = 0x0121;
        Ok(())
    }
}
