//! `PIIX4_PM`, the ACPI device `pc-i440fx` and `xenfv` machines create on
//! board, after QEMU's `hw/acpi/piix4.c`: since 4.0 its VMState has smbus
//! fields, which exist only when the machine's `smbus_no_migration_support`
//! flag is false (QEMU's Xen story). The machine sets `smm-enabled`.

use compat_core::Board;
use compat_core::{Device, VMState};

use super::pci::{v7_2, PciDevice};
use super::qemu10;

/// The machine flag the smbus fields depend on.
pub const SMBUS_NO_MIGRATION_SUPPORT: &str = "smbus_no_migration_support";

/// Declares a `PIIX4_PM` with smbus state whose parent is `$parent`: the
/// PCI properties are what differs between versions.
macro_rules! piix4_pm {
    // Up to 8.x: `smm-enabled` the one property the stories need.
    ($(#[$doc:meta])* $name:ident, parent = $parent:ty, inert = $inert:literal) => {
        piix4_pm!(
            $(#[$doc])* $name, parent = $parent, inert = $inert,
            props = {
                /// SMM enabled (the machine turns it on).
                #[property(name = "smm-enabled", default = false)]
                #[vmstate(skip)]
                pub smm_enabled: bool,
            }
        );
    };
    (
        $(#[$doc:meta])* $name:ident, parent = $parent:ty, inert = $inert:literal,
        props = { $($props:tt)* }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Device, VMState)]
        #[device(
            name = "PIIX4_PM",
            parent = $parent,
            inert = $inert,
            hotpluggable = false,
            user_creatable = false,
            vmstate,
            realize = $name::realize
        )]
        #[vmstate(name = "piix4_pm", version = 3)]
        pub struct $name {
            #[device(parent)]
            #[vmstate(skip)]
            pub pci: $parent,
            $($props)*
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
            #[vmstate(name = "smb.smb_stat", exists = $name::smbus_exists)]
            pub smb_stat: u8,
            /// SMBus control.
            #[vmstate(name = "smb.smb_ctl", exists = $name::smbus_exists)]
            pub smb_ctl: u8,
            /// SMBus data.
            #[vmstate(name = "smb.smb_data", exists = $name::smbus_exists)]
            pub smb_data: [u8; 32],
        }

        impl $name {
            /// Check the properties, read the machine's smbus flag.
            pub fn realize(&mut self, board: &Board<'_>) -> Result<(), String> {
                self.pci.check("PIIX4_PM")?;
                self.smbus_no_migration_support = board.flag(SMBUS_NO_MIGRATION_SUPPORT);
                self.pm1_en = 0x0121;
                Ok(())
            }

            fn smbus_exists(&self, _version: u32) -> bool {
                !self.smbus_no_migration_support
            }
        }
    };
}

piix4_pm!(
    /// `PIIX4_PM` since 8.0: a PCI device of 8.0.
    Piix4Pm80,
    parent = PciDevice,
    inert = "x-pcie-lnksta-dllla, x-pcie-extcap-init, x-pcie-err-unc-mask"
);

piix4_pm!(
    /// `PIIX4_PM` from 4.0 to 7.2.
    Piix4Pm,
    parent = v7_2::PciDevice,
    inert = "x-pcie-lnksta-dllla, x-pcie-extcap-init"
);

piix4_pm!(
    /// `PIIX4_PM` of QEMU 10.0, with its properties.
    Piix4Pm10, parent = qemu10::PciDevice,
    inert = "x-pcie-lnksta-dllla, x-pcie-extcap-init, x-pcie-err-unc-mask, x-pcie-ext-tag, x-pcie-ari-nextfn-1",
    props = {
        /// ACPI and SMM switches.
        #[property(
            name = "acpi-pci-hotplug-with-bridge-support",
            bit = 0,
            default = true,
            absent = "on"
        )]
        #[property(name = "acpi-root-pci-hotplug", bit = 1, default = true, absent = "on")]
        #[property(name = "memory-hotplug-support", bit = 2, default = true, absent = "on")]
        #[property(name = "smm-compat", bit = 3, default = false, absent = "off")]
        #[property(name = "smm-enabled", bit = 4, default = false)]
        #[property(name = "x-not-migrate-acpi-index", bit = 5, default = false, absent = "off")]
        #[vmstate(skip)]
        pub switches: u32,
        /// S3 disabled.
        #[property(name = "disable_s3", default = 0, absent = "0")]
        #[vmstate(skip)]
        pub disable_s3: u8,
        /// S4 disabled.
        #[property(name = "disable_s4", default = 0, absent = "0")]
        #[vmstate(skip)]
        pub disable_s4: u8,
        /// The S4 value.
        #[property(name = "s4_val", default = 2, absent = "2")]
        #[vmstate(skip)]
        pub s4_val: u8,
        /// SMBus I/O base.
        #[property(name = "smb_io_base", default = 0, absent = "0")]
        #[vmstate(skip)]
        pub smb_io_base: u32,
    }
);

/// `PIIX4_PM` before 4.0: no smbus state.
#[derive(Debug, Clone, Device, VMState)]
#[device(
    name = "PIIX4_PM",
    parent = v7_2::PciDevice,
    inert = "x-pcie-lnksta-dllla, x-pcie-extcap-init",
    hotpluggable = false,
    user_creatable = false,
    vmstate,
    realize = Piix4Pm31::realize
)]
#[vmstate(name = "piix4_pm", version = 3)]
pub struct Piix4Pm31 {
    #[device(parent)]
    #[vmstate(skip)]
    pub pci: v7_2::PciDevice,
    /// SMM enabled (the machine turns it on).
    #[property(name = "smm-enabled", default = false)]
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
