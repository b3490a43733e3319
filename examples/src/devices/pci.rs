//! `pci-device` and `pcie-root-port` with an AER capability, after QEMU's
//! `hw/pci/pci.c`, `hw/pci/pcie_aer.c` and `hw/pci-bridge/pcie_root_port.c`,
//! each declared once (`pci_device!`, `pcie_root_port!`) for the property
//! sets of QEMU 7.2 (the example line's 7.2 and 8.x types) and 10.0.
//!
//! The config space is the one real QEMU builds (recorded), with what the
//! properties change set at realize: the physical slot, the link speed and
//! width, the AER mask, extended tags. On load it is
//! *must match* under a check mask, as QEMU's `get_pci_config_device`
//! compares the bits that are read-only (`cmask & ~wmask`): that is what
//! refuses the 8.0 → 7.2 migration ("Bad config data: i=0x10a").
//! The VMState layout mirrors QEMU's `pcie-root-port` section, so the model
//! loads the root-port section of a stream real QEMU wrote.

use compat_core::{Board, Size};
use compat_core::{Device, PropertyEnum, VMState};

use v7_2::PcieLinkSpeed;

/// Config space size of a PCIe function.
pub const PCIE_CONFIG_SPACE_SIZE: usize = 4096;
/// Where the AER extended capability starts.
pub const AER_OFFSET: usize = 0x100;
/// `PCI_ERR_UNCOR_MASK`, inside the AER capability.
pub const PCI_ERR_UNCOR_MASK: usize = 0x08;
/// `PCI_ERR_UNC_INTN`: uncorrectable internal error.
pub const PCI_ERR_UNC_INTN: u32 = 0x0040_0000;
/// `PCI_ERR_UNC_TLP_PRF_BLOCKED`.
pub const PCI_ERR_UNC_TLP_PRF_BLOCKED: u32 = 0x0200_0000;
/// The uncorrectable errors whose mask bits are writable
/// (`PCI_ERR_UNC_SUPPORTED` of 8.0: without the internal error).
pub const PCI_ERR_UNC_SUPPORTED: u32 = 0x03bf_f030;

/// The largest `acpi-index` QEMU accepts.
pub const ACPI_INDEX_MAX: u32 = 16383;

/// Declares a `pci-device` type (abstract, the parent of every PCI device)
/// with the properties QEMU 7.2 and later share, the version's `rombar`,
/// its other properties `$props` and its capability bits `$bits` beside
/// `x-pcie-lnksta-dllla` (bit 2) and `x-pcie-extcap-init` (bit 3).
macro_rules! pci_device {
    (
        $(#[$doc:meta])* $name:ident, rombar = { $($rombar:tt)* }, props = { $($props:tt)* },
        bits = { $(#[$bits:meta])* }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Device)]
        #[device(name = "pci-device", abstract, bus = "PCI")]
        pub struct $name {
            /// ACPI index of the device's slot (0: none).
            #[property(name = "acpi-index", default = 0, absent = "0")]
            pub acpi_index: u32,
            /// Slot and optional function number on its bus (`03.0`); the
            /// first free slot when empty.
            #[property(
                name = "addr",
                doc = "Slot and optional function number, example: 06.0 or 06",
                absent = ""
            )]
            pub addr: String,
            /// The id of the primary device of a failover pair.
            #[property(name = "failover_pair_id", absent = "")]
            pub failover_pair_id: String,
            /// Whether the slot has several functions.
            #[property(name = "multifunction", default = false, absent = "off")]
            pub multifunction: bool,
            $($rombar)*
            /// The expansion ROM image.
            #[property(name = "romfile", absent = "")]
            pub romfile: String,
            /// The expansion ROM's size (`u32::MAX`: the file's).
            #[property(name = "romsize", default = 4294967295, absent = "4294967295")]
            pub romsize: u32,
            $($props)*
            /// Capability bits (QEMU's `cap_present`).
            $(#[$bits])*
            #[property(name = "x-pcie-lnksta-dllla", bit = 2, default = true, absent = "on")]
            #[property(name = "x-pcie-extcap-init", bit = 3, default = true, absent = "on")]
            pub cap_present: u32,
        }

        impl $name {
            /// What QEMU's `pci_qdev_realize` refuses of the properties
            /// every version shares.
            pub fn check_common(&self) -> Result<(), String> {
                if self.acpi_index > ACPI_INDEX_MAX {
                    return Err(format!(
                        "acpi-index should be less or equal to {ACPI_INDEX_MAX}"
                    ));
                }
                if self.romsize != u32::MAX && !self.romsize.is_power_of_two() {
                    return Err(format!("ROM size {} is not a power of two", self.romsize));
                }
                Ok(())
            }
        }
    };
}
pub(crate) use pci_device;

pci_device!(
    /// `pci-device` since 8.0: QEMU 7.2's properties and the AER mask
    /// switch.
    PciDevice,
    rombar = {
        /// Expansion ROM BAR: 0 none, else present.
        #[property(name = "rombar", default = 1)]
        pub rombar: u32,
    },
    props = {},
    bits = {
        #[property(
            name = "x-pcie-err-unc-mask",
            bit = 0,
            default = true,
            doc = "mask uncorrectable internal errors by default (new in 8.0)",
            sticky
        )]
    }
);

/// `mch`, the Q35 host bridge at `00.0`, since 8.0 (a PCI device of 8.0).
/// Its migrated state is not modelled.
#[derive(Debug, Clone, Device)]
#[device(
    name = "mch",
    parent = PciDevice,
    inert = "x-pcie-lnksta-dllla, x-pcie-extcap-init, x-pcie-err-unc-mask",
    hotpluggable = false,
    user_creatable = false
)]
pub struct Mch {
    #[device(parent)]
    pub pci: PciDevice,
}

/// A PCI function's migrated config space (QEMU's `PCIDevice` VMState).
#[derive(Debug, Clone, VMState)]
#[vmstate(name = "PCIDevice", version = 2, minimum_version = 1)]
pub struct PciDeviceState {
    /// QEMU's `version_id` field.
    pub version_id: i32,
    /// The config space; must match under `check_mask`.
    #[vmstate(name = "config", must_match, mask = PciDeviceState::check_mask)]
    pub config: [u8; PCIE_CONFIG_SPACE_SIZE],
    /// INTx levels: four big-endian int32s, one 16-byte field as QEMU
    /// declares it (`vmstate_info_pci_irq_state`), since version 2.
    #[vmstate(since = 2)]
    pub irq_state: [u8; 16],
    /// Bits compared on load: read-only ones (`cmask & ~wmask`).
    #[vmstate(skip)]
    pub check: [u8; PCIE_CONFIG_SPACE_SIZE],
}

impl Default for PciDeviceState {
    fn default() -> Self {
        PciDeviceState {
            version_id: 2,
            config: [0; PCIE_CONFIG_SPACE_SIZE],
            irq_state: [0; 16],
            check: [0; PCIE_CONFIG_SPACE_SIZE],
        }
    }
}

impl PciDeviceState {
    fn check_mask(&self) -> &[u8] {
        &self.check
    }

    /// Set `bytes` at `offset`, read-only except for the `writable` bits.
    fn set_le32(&mut self, offset: usize, value: u32, writable: u32) {
        self.config[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        self.check[offset..offset + 4].copy_from_slice(&(!writable).to_le_bytes());
    }

    /// The little-endian u32 at `offset`.
    pub fn le32(&self, offset: usize) -> u32 {
        u32::from_le_bytes(self.config[offset..offset + 4].try_into().expect("4 bytes"))
    }
}

/// One logged error (QEMU's `PCIE_AER_ERROR`).
#[derive(Debug, Clone, Default, VMState)]
#[vmstate(name = "PCIE_AER_ERROR", version = 1)]
pub struct AerError {
    /// The error's status bit.
    pub status: u32,
    /// The requester that reported it.
    pub source_id: u16,
    /// Whether the header and prefix were logged.
    pub flags: u16,
    /// The TLP header.
    pub header: [u32; 4],
    /// The TLP prefix.
    pub prefix: [u32; 4],
}

/// The largest AER log QEMU allows (`PCIE_AER_LOG_MAX_LIMIT`).
pub const AER_LOG_MAX_LIMIT: usize = 128;

/// The AER error log (QEMU's `PCIE_AER_ERROR_LOG`): the errors logged, as
/// many as `log_num` says.
#[derive(Debug, Clone, VMState)]
#[vmstate(name = "PCIE_AER_ERROR_LOG", version = 1)]
pub struct AerLog {
    /// Logged errors.
    pub log_num: u16,
    /// Log capacity; both sides must agree.
    #[vmstate(must_match)]
    pub log_max: u16,
    /// The errors (at most [`AER_LOG_MAX_LIMIT`]).
    #[vmstate(len = log_num, max = 128)]
    pub log: Vec<AerError>,
}

impl Default for AerLog {
    fn default() -> Self {
        AerLog {
            log_num: 0,
            log_max: 8,
            log: Vec::new(),
        }
    }
}

/// MSI-X state, opaque here (QEMU's `msix` VMState).
#[derive(Debug, Clone, Default, VMState)]
#[vmstate(name = "msix", version = 0, minimum_version = 0)]
pub struct MsixState {
    /// The pending bits and masks as QEMU writes them.
    pub msix: [u8; 17],
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

impl PcieLinkWidth {
    /// The number of lanes.
    pub fn lanes(self) -> u8 {
        match self {
            PcieLinkWidth::X1 => 1,
            PcieLinkWidth::X2 => 2,
            PcieLinkWidth::X4 => 4,
            PcieLinkWidth::X8 => 8,
            PcieLinkWidth::X12 => 12,
            PcieLinkWidth::X16 => 16,
            PcieLinkWidth::X32 => 32,
        }
    }
}

/// Declares a `pcie-root-port` on the `pci-device` type `$parent`, with the
/// properties QEMU 7.2 and later share, the version's link speeds
/// `$speed` (an enum with `Gt16`) and its other properties `$props`;
/// `$build` (`fn(&mut Self)`) builds the config space at realize.
macro_rules! pcie_root_port {
    (
        $(#[$doc:meta])* $name:ident, parent = $parent:ty, speed = $speed:ident,
        build = $build:path, props = { $($props:tt)* }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Device, VMState)]
        #[device(
            name = "pcie-root-port",
            parent = $parent,
            provides_bus = "PCI",
            bus_slots = 1,
            vmstate,
            realize = $name::realize
        )]
        #[vmstate(name = "pcie-root-port", version = 1)]
        pub struct $name {
            #[device(parent)]
            #[vmstate(skip)]
            pub pci: $parent,
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
            /// Migrate MSI-X state.
            #[property(name = "x-migrate-msix", default = true, absent = "on")]
            #[vmstate(skip)]
            pub migrate_msix: bool,
            $($props)*
            /// Link speed.
            #[property(name = "x-speed", default = $speed::Gt16, absent = "16")]
            #[vmstate(skip)]
            pub speed: $speed,
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

        impl $name {
            /// Check the properties, build the config space.
            pub fn realize(&mut self, _board: &Board<'_>) -> Result<(), String> {
                self.pci.check("pcie-root-port")?;
                let limit = $crate::devices::pci::AER_LOG_MAX_LIMIT;
                if usize::from(self.aer_log_max) > limit {
                    return Err(format!(
                        "Invalid aer_log_max {}. The max number of aer log is {limit}",
                        self.aer_log_max
                    ));
                }
                let build: fn(&mut Self) = $build;
                build(self);
                self.config.set_slot_number(self.slot);
                self.config.set_link(self.speed as u8, self.width.lanes());
                self.aer_log.log_max = self.aer_log_max;
                // Its one MSI-X vector starts masked (the vector control
                // word of the table entry), none pending.
                self.msix = MsixState::default();
                self.msix.msix[12] = 1;
                Ok(())
            }
        }
    };
}
pub(crate) use pcie_root_port;

pcie_root_port!(
    /// A PCIe root port since 8.0: `x-pcie-err-unc-mask` decides the mask.
    PcieRootPort,
    parent = PciDevice,
    speed = PcieLinkSpeed,
    build = PcieRootPort::build_config,
    props = {
        /// Native PCIe hot-plug in the slot (10.0 has no such switch:
        /// a release without it behaves as on).
        #[property(name = "x-native-hotplug", default = true, absent = "on")]
        #[vmstate(skip)]
        pub native_hotplug: bool,
    }
);

impl PcieRootPort {
    /// The config space as QEMU 7.2 builds it, with 8.0's mask.
    pub fn build_config(&mut self) {
        build_aer_config(
            &mut self.config,
            self.pci.x_pcie_err_unc_mask(),
            self.disable_acs,
        );
    }
}

impl PciDevice {
    /// What QEMU's `pci_qdev_realize` refuses.
    pub fn check(&self, _type_name: &str) -> Result<(), String> {
        self.check_common()
    }
}

/// A config space as real QEMU built it, and the bits it compares on load,
/// recorded by `scripts/real-qemu/record.sh config` from a paused guest's
/// stream and from loads of it with bytes flipped.
pub struct RecordedConfig {
    /// The bytes at reset.
    pub config: [u8; PCIE_CONFIG_SPACE_SIZE],
    /// Per byte, the bits compared (`cmask & ~wmask & ~w1cmask`).
    pub check: [u8; PCIE_CONFIG_SPACE_SIZE],
}

impl RecordedConfig {
    /// Read a recording: `config HEX`, then `check OFFSET BITS` lines.
    fn parse(text: &str) -> RecordedConfig {
        let mut r = RecordedConfig {
            config: [0; PCIE_CONFIG_SPACE_SIZE],
            check: [0; PCIE_CONFIG_SPACE_SIZE],
        };
        let hex = |t: &str| u8::from_str_radix(t, 16).expect("a recorded hex byte");
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            match line.split_whitespace().collect::<Vec<_>>()[..] {
                ["config", bytes] => {
                    for (i, pair) in bytes.as_bytes().chunks(2).enumerate() {
                        r.config[i] = hex(std::str::from_utf8(pair).expect("ASCII"));
                    }
                }
                ["check", offset, bits] => {
                    let i = usize::from_str_radix(offset, 16).expect("a recorded offset");
                    r.check[i] = hex(bits);
                }
                _ => panic!("not a line of a recorded config space: {line}"),
            }
        }
        r
    }
}

/// A config space recorded by `scripts/real-qemu/record.sh config`, read
/// once, on first use.
macro_rules! recorded {
    ($($(#[$doc:meta])* $name:ident = $file:literal;)*) => {
        $(
            $(#[$doc])*
            pub static $name: std::sync::LazyLock<RecordedConfig> =
                std::sync::LazyLock::new(|| RecordedConfig::parse(include_str!($file)));
        )*
    };
}

recorded! {
    /// The root port of QEMU 7.2.22 (`-M pc-q35-7.2`, chassis 1, slot 0).
    ROOT_PORT_7_2 = "recorded/pcie-root-port-7.2.txt";
    /// The root port of QEMU 7.2.22 with `disable-acs=on` (as on 3.1 machine
    /// types): no ACS capability.
    ROOT_PORT_7_2_NO_ACS = "recorded/pcie-root-port-7.2-no-acs.txt";
    /// The root port of QEMU 10.0.2 with `disable-acs=on`.
    ROOT_PORT_10_0_NO_ACS = "recorded/pcie-root-port-10.0-no-acs.txt";
    /// The root port of QEMU 10.0.2 on `pc-q35-7.2` (the mask off).
    ROOT_PORT_10_0 = "recorded/pcie-root-port-10.0.txt";
    /// The root port of QEMU 10.0.2 with `x-pcie-err-unc-mask=on`: what
    /// [`PciDeviceState::set_unc_mask_10_0`] must give (a test holds it to it).
    ROOT_PORT_10_0_UNC_MASK = "recorded/pcie-root-port-10.0-unc-mask.txt";
    /// e1000e of QEMU 7.2.22 on `pc-q35-7.2`.
    E1000E_7_2 = "recorded/e1000e-7.2.txt";
    /// e1000e of QEMU 10.0.2 on `pc-q35-7.2`.
    E1000E_10_0 = "recorded/e1000e-10.0.txt";
    /// e1000e of QEMU 7.2.22 behind a root port: a plain endpoint, not one
    /// integrated in the root complex (QEMU's `pcie_endpoint_cap_init`). On
    /// `pc-i440fx-7.2`'s conventional bus QEMU builds the same bytes (recorded
    /// too; a test holds the two alike).
    E1000E_7_2_ENDPOINT = "recorded/e1000e-7.2-behind-root-port.txt";
    /// e1000e of QEMU 10.0.2 behind a root port (and on `pc-i440fx-7.2`).
    E1000E_10_0_ENDPOINT = "recorded/e1000e-10.0-behind-root-port.txt";
}

/// `PCI_EXP_SLTCAP` inside the PCI Express capability; its physical slot
/// number is bits 31..19.
const PCI_EXP_SLTCAP: usize = 0x14;

/// `PCI_EXP_LNKCAP`, `PCI_EXP_LNKCAP2` and `PCI_EXP_LNKCTL2` inside the PCI
/// Express capability.
const PCI_EXP_LNKCAP: usize = 0x0c;
const PCI_EXP_LNKCAP2: usize = 0x2c;
const PCI_EXP_LNKCTL2: usize = 0x30;
/// Data-link-layer active reporting and link bandwidth notification, in
/// `PCI_EXP_LNKCAP`.
const LNKCAP_DLLLARC: u32 = 1 << 20;
const LNKCAP_LBNC: u32 = 1 << 21;

/// `PCI_EXP_DEVCAP` inside the PCI Express capability.
const PCI_EXP_DEVCAP: usize = 0x04;

/// `PCI_EXP_DEVCAP_EXT_TAG`: extended tag field supported.
const PCI_EXP_DEVCAP_EXT_TAG: u32 = 0x20;

/// The uncorrectable errors whose mask bits QEMU 10.0 makes writable with
/// `x-pcie-err-unc-mask` on: 8.0's, and the internal error.
pub const PCI_ERR_UNC_SUPPORTED_10_0: u32 = PCI_ERR_UNC_SUPPORTED | PCI_ERR_UNC_INTN;

impl PciDeviceState {
    /// Start from `recorded`: the bytes QEMU builds and the bits it
    /// compares.
    pub fn from_recorded(recorded: &RecordedConfig) -> PciDeviceState {
        PciDeviceState {
            config: recorded.config,
            check: recorded.check,
            ..PciDeviceState::default()
        }
    }

    /// The offset of capability `id` in the standard capability list.
    fn capability(&self, id: u8) -> Option<usize> {
        let mut at = usize::from(self.config[0x34]);
        for _ in 0..48 {
            if !(0x40..=0xfc).contains(&at) {
                return None;
            }
            if self.config[at] == id {
                return Some(at);
            }
            at = usize::from(self.config[at + 1]);
        }
        None
    }

    /// Advertise extended tags as QEMU does with `x-pcie-ext-tag` on (9.2
    /// and later machine types).
    pub fn set_ext_tag(&mut self) {
        if let Some(exp) = self.capability(0x10) {
            let at = exp + PCI_EXP_DEVCAP;
            let value = self.le32(at) | PCI_EXP_DEVCAP_EXT_TAG;
            self.config[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
    }

    /// The AER uncorrectable-error mask as 8.0 set it with
    /// `x-pcie-err-unc-mask` on: internal and TLP-prefix errors masked, the
    /// supported errors' bits writable — the internal error's forgotten, so
    /// that bit is compared on load.
    pub fn set_unc_mask_8_0(&mut self) {
        self.set_le32(
            AER_OFFSET + PCI_ERR_UNCOR_MASK,
            PCI_ERR_UNC_INTN | PCI_ERR_UNC_TLP_PRF_BLOCKED,
            PCI_ERR_UNC_SUPPORTED,
        );
    }

    /// The AER uncorrectable-error mask as QEMU 10.0 sets it with
    /// `x-pcie-err-unc-mask` on: internal and TLP-prefix errors masked,
    /// every supported error's bit writable.
    pub fn set_unc_mask_10_0(&mut self) {
        self.set_le32(
            AER_OFFSET + PCI_ERR_UNCOR_MASK,
            PCI_ERR_UNC_INTN | PCI_ERR_UNC_TLP_PRF_BLOCKED,
            PCI_ERR_UNC_SUPPORTED_10_0,
        );
    }

    /// Set the link QEMU advertises for speed `speed` (1: 2.5 GT/s, 2: 5,
    /// 3: 8, 4: 16, 5: 32, 6: 64) and width `lanes`, as its
    /// `pcie_cap_fill_slot_lnk` does: the link capabilities (speed, width,
    /// bandwidth notification unless 2.5 GT/s x1, active-state reporting
    /// above 2.5 GT/s), the supported speeds above 5 GT/s and the target
    /// speed above 2.5 GT/s.
    pub fn set_link(&mut self, speed: u8, lanes: u8) {
        let Some(exp) = self.capability(0x10) else {
            return;
        };
        let (speed, lanes) = (u32::from(speed), u32::from(lanes));
        let mut lnkcap = self.le32(exp + PCI_EXP_LNKCAP) & !(0x3ff | LNKCAP_DLLLARC | LNKCAP_LBNC);
        lnkcap |= speed | lanes << 4;
        if speed > 1 || lanes > 1 {
            lnkcap |= LNKCAP_LBNC;
        }
        if speed > 1 {
            lnkcap |= LNKCAP_DLLLARC;
        }
        let mut lnkcap2 = self.le32(exp + PCI_EXP_LNKCAP2) & !0xfe;
        if speed > 2 {
            lnkcap2 |= ((1 << speed) - 1) << 1;
        }
        let mut lnkctl2 = self.le32(exp + PCI_EXP_LNKCTL2) & !0xf;
        if speed > 1 {
            lnkctl2 |= speed;
        }
        for (at, value) in [
            (PCI_EXP_LNKCAP, lnkcap),
            (PCI_EXP_LNKCAP2, lnkcap2),
            (PCI_EXP_LNKCTL2, lnkctl2),
        ] {
            self.config[exp + at..exp + at + 4].copy_from_slice(&value.to_le_bytes());
        }
    }

    /// Set the physical slot number QEMU puts in the slot capabilities
    /// (the `slot` property).
    pub fn set_slot_number(&mut self, slot: u16) {
        if let Some(exp) = self.capability(0x10) {
            let at = exp + PCI_EXP_SLTCAP;
            let value = (self.le32(at) & 0x0007_ffff) | (u32::from(slot) << 19);
            self.config[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
    }
}

/// The config space of a root port of the example line, on QEMU 7.2's:
/// with `unc_mask` (8.0's behaviour) the uncorrectable-error mask register
/// starts with internal and TLP-prefix errors masked and is writable for
/// the supported errors, among which 8.0 forgot the internal error: that
/// bit stays read-only and is compared on load in both directions, as
/// QEMU's backward-compatibility document reports. Without it (QEMU 7.2)
/// the register is read-only zero. With `disable_acs` the port has no ACS
/// capability, as QEMU builds it then (recorded).
pub fn build_aer_config(c: &mut PciDeviceState, unc_mask: bool, disable_acs: bool) {
    *c = PciDeviceState::from_recorded(match disable_acs {
        false => &ROOT_PORT_7_2,
        true => &ROOT_PORT_7_2_NO_ACS,
    });
    if unc_mask {
        c.set_unc_mask_8_0();
    }
}

/// The PCI types as they were up to 7.2, before `x-pcie-err-unc-mask`.
pub mod v7_2 {
    use super::{
        build_aer_config, AerLog, MsixState, PciDeviceState, PcieLinkWidth, ACPI_INDEX_MAX,
    };
    use compat_core::{Board, Size};
    use compat_core::{Device, PropertyEnum, VMState};

    pci_device!(
        /// `pci-device` of QEMU 7.2.
        PciDevice,
        rombar = {
            /// Expansion ROM BAR: 0 none, else present.
            #[property(name = "rombar", default = 1)]
            pub rombar: u32,
        },
        props = {},
        bits = {}
    );

    /// `mch`, the Q35 host bridge at `00.0`, created by `pc-q35` machines.
    /// Its migrated state is not modelled.
    #[derive(Debug, Clone, Device)]
    #[device(
        name = "mch",
        parent = PciDevice,
        inert = "x-pcie-lnksta-dllla, x-pcie-extcap-init",
        hotpluggable = false,
        user_creatable = false
    )]
    pub struct Mch {
        #[device(parent)]
        pub pci: PciDevice,
    }

    /// PCIe link speed (QEMU 7.2's `PCIELinkSpeed`), in GT/s; the
    /// discriminant is the speed's code in the link registers.
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
    }

    pcie_root_port!(
        /// A PCIe root port of QEMU 7.2: the mask register read-only zero.
        PcieRootPort,
        parent = PciDevice,
        speed = PcieLinkSpeed,
        build = PcieRootPort::build_config,
        props = {
            /// Native PCIe hot-plug in the slot (10.0 has no such switch:
            /// a release without it behaves as on).
            #[property(name = "x-native-hotplug", default = true, absent = "on")]
            #[vmstate(skip)]
            pub native_hotplug: bool,
        }
    );

    impl PcieRootPort {
        /// The config space as QEMU 7.2 builds it.
        pub fn build_config(&mut self) {
            build_aer_config(&mut self.config, false, self.disable_acs);
        }
    }

    impl PciDevice {
        /// What QEMU's `pci_qdev_realize` refuses.
        pub fn check(&self, _type_name: &str) -> Result<(), String> {
            self.check_common()
        }
    }
}

#[cfg(test)]
mod recorded_tests {
    use super::{RecordedConfig, E1000E_10_0_ENDPOINT, E1000E_7_2_ENDPOINT};

    /// QEMU builds e1000e's config space alike behind a root port and on
    /// i440fx's conventional bus (both recorded), so one stands for both.
    #[test]
    fn an_endpoint_off_the_root_complex_is_one_config_on_either_bus() {
        let i440fx_72 = RecordedConfig::parse(include_str!("recorded/e1000e-7.2-i440fx.txt"));
        let i440fx_10 = RecordedConfig::parse(include_str!("recorded/e1000e-10.0-i440fx.txt"));
        for (a, b) in [
            (&i440fx_72, &*E1000E_7_2_ENDPOINT),
            (&i440fx_10, &*E1000E_10_0_ENDPOINT),
        ] {
            assert!(a.config == b.config);
            assert!(a.check == b.check);
        }
    }
}
