//! `e1000e`, after QEMU's `hw/net/e1000e.c`, a PCI Express network card,
//! migrating QEMU's whole `e1000e` section (about 136 KB: the PCI function,
//! MSI-X, the MAC register file, the EEPROM, the PHY, the interrupt timers
//! and both transmit contexts). `init-vet` arrived in 6.1 (`hw_compat_6_0`
//! keeps it off for older machine types); since 8.0 the `migrate-timadj`
//! property gates the `core.timadj` field (`VMSTATE_INT64_TEST`), and
//! `hw_compat_7_2` turns it off for older machine types; 10.0 names the two
//! interrupt-pending fields `unused` (the same bytes). A fresh card holds
//! the register files real QEMU builds (recorded), with its MAC address,
//! subsystem ids and VLAN ether type put where QEMU puts them.

use compat_core::Board;
use compat_core::{Device, VMState};

use super::pci::{
    v7_2, PciDevice, PciDeviceState, RecordedConfig, E1000E_10_0, E1000E_10_0_ENDPOINT, E1000E_7_2,
    E1000E_7_2_ENDPOINT,
};
use super::qemu10;

/// An interrupt delay timer as QEMU migrates it: its expiry time (-1 when
/// not armed) and whether it runs.
#[derive(Debug, Clone, Copy, Default, VMState)]
#[vmstate(name = "e1000e-intr-timer", version = 1)]
pub struct IntrTimer {
    /// When it expires, in QEMU's virtual clock (-1: not armed).
    #[vmstate(timer)]
    pub timer: i64,
    /// Whether it runs.
    pub running: bool,
}

/// A transmit queue's offload context (`e1000e-tx`).
#[derive(Debug, Clone, Copy, Default, VMState)]
#[vmstate(name = "e1000e-tx", version = 1)]
pub struct TxContext {
    /// Checksums to insert.
    pub sum_needed: u8,
    /// IP checksum start.
    #[vmstate(name = "props.ipcss")]
    pub ipcss: u8,
    /// IP checksum offset.
    #[vmstate(name = "props.ipcso")]
    pub ipcso: u8,
    /// IP checksum end.
    #[vmstate(name = "props.ipcse")]
    pub ipcse: u16,
    /// TCP/UDP checksum start.
    #[vmstate(name = "props.tucss")]
    pub tucss: u8,
    /// TCP/UDP checksum offset.
    #[vmstate(name = "props.tucso")]
    pub tucso: u8,
    /// TCP/UDP checksum end.
    #[vmstate(name = "props.tucse")]
    pub tucse: u16,
    /// Header length.
    #[vmstate(name = "props.hdr_len")]
    pub hdr_len: u8,
    /// Maximum segment size.
    #[vmstate(name = "props.mss")]
    pub mss: u16,
    /// Payload length.
    #[vmstate(name = "props.paylen")]
    pub paylen: u32,
    /// IPv4 (vs IPv6).
    #[vmstate(name = "props.ip")]
    pub ip: i8,
    /// TCP (vs UDP).
    #[vmstate(name = "props.tcp")]
    pub tcp: i8,
    /// TCP segmentation.
    #[vmstate(name = "props.tse")]
    pub tse: bool,
    /// Segmentation of the current packet.
    pub cptse: bool,
    /// Skip the current packet.
    pub skip_cp: bool,
}

/// e1000e's MSI-X state (five vectors and their pending bits), opaque.
#[derive(Debug, Clone, VMState)]
#[vmstate(name = "msix", version = 0, minimum_version = 0)]
pub struct E1000eMsix {
    /// The table and pending bits as QEMU writes them.
    pub msix: [u8; 81],
}

impl Default for E1000eMsix {
    fn default() -> Self {
        E1000eMsix { msix: [0; 81] }
    }
}

/// The MAC address QEMU gives the first network card without `mac=`.
pub const DEFAULT_MAC: &str = "52:54:00:12:34:56";

/// Declares an `e1000e` with the whole section QEMU migrates. `$device`
/// is the rest of the `#[device(...)]` list, `$props` the property fields,
/// `$subsys` the two subsystem id fields (properties since 10.0), the
/// pending fields the interrupt-pending flags (skipped bytes since 10.0),
/// `$tail` what follows the transmit contexts.
macro_rules! e1000e {
    // Before 10.0: the subsystem ids are plain state, the pending flags
    // have their names.
    (
        $(#[$doc:meta])* $name:ident, parent = $parent:ty, device = { $($device:tt)* },
        props = { $($props:tt)* }, before_10_0, tail = { $($tail:tt)* }
    ) => {
        e1000e!(
            $(#[$doc])* $name, parent = $parent, device = { $($device)* },
            props = { $($props)* },
            itr_pending = {
                /// An interrupt held back by throttling.
                #[vmstate(name = "core.itr_intr_pending")]
                pub itr_intr_pending: bool,
            },
            eitr_pending = {
                /// The same per MSI-X vector.
                #[vmstate(name = "core.eitr_intr_pending")]
                pub eitr_intr_pending: [bool; 5],
            },
            tail = { $($tail)* }
        );
    };
    (
        $(#[$doc:meta])* $name:ident, parent = $parent:ty, device = { $($device:tt)* },
        props = { $($props:tt)* },
        itr_pending = { $($itr_pending:tt)* }, eitr_pending = { $($eitr_pending:tt)* },
        tail = { $($tail:tt)* }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Device, VMState)]
        #[device(name = "e1000e", parent = $parent, vmstate, $($device)*)]
        #[vmstate(name = "e1000e", version = 1)]
        pub struct $name {
            #[device(parent)]
            #[vmstate(skip)]
            pub pci: $parent,
            /// Boot order (-1: none).
            #[property(name = "bootindex", default = -1, absent = "-1")]
            #[vmstate(skip)]
            pub bootindex: i32,
            /// Do not use virtio headers, perform SW offloads emulation instead.
            #[property(
                name = "disable_vnet_hdr",
                default = 0,
                doc = "Do not use virtio headers, perform SW offloads emulation instead",
                absent = "0"
            )]
            #[vmstate(skip)]
            pub disable_vnet_hdr: u8,
            /// The MAC address (the first card's default when empty).
            #[property(
                name = "mac",
                doc = "Ethernet 6-byte MAC Address, example: 52:54:00:12:34:56",
                absent = ""
            )]
            #[vmstate(skip)]
            pub mac_address: String,
            /// The network back end, a host setting.
            #[property(name = "netdev", doc = "ID of a netdev to use as a backend", local)]
            #[vmstate(skip)]
            pub netdev: String,
            $($props)*
            /// The PCI function.
            #[vmstate(name = "parent_obj")]
            pub config: PciDeviceState,
            /// MSI-X (QEMU names this part `parent_obj` too: the C member
            /// both sit in).
            #[vmstate(name = "parent_obj")]
            pub msix: E1000eMsix,
            /// The I/O window's address register.
            pub ioaddr: u32,
            /// Receive buffer size shift.
            #[vmstate(name = "core.rxbuf_min_shift")]
            pub rxbuf_min_shift: u32,
            /// Receive descriptor length.
            #[vmstate(name = "core.rx_desc_len")]
            pub rx_desc_len: u8,
            /// Receive buffer sizes.
            #[vmstate(name = "core.rxbuf_sizes")]
            pub rxbuf_sizes: [u32; 4],
            /// Receive descriptor buffer size.
            #[vmstate(name = "core.rx_desc_buf_size")]
            pub rx_desc_buf_size: u32,
            /// The EEPROM.
            #[vmstate(name = "core.eeprom")]
            pub eeprom: [u16; 64],
            /// The PHY registers.
            #[vmstate(name = "core.phy")]
            pub phy: [u16; 224],
            /// The MAC register file.
            #[vmstate(name = "core.mac")]
            pub mac_regs: [u32; 32768],
            /// The permanent MAC address.
            #[vmstate(name = "core.permanent_mac", elements)]
            pub permanent_mac: [u8; 6],
            /// Interrupt causes held back.
            #[vmstate(name = "core.delayed_causes")]
            pub delayed_causes: u32,
            /// PCI subsystem id.
            #[property(name = "subsys", default = 0, doc = "PCI device Subsystem ID", absent = "0")]
            #[vmstate(name = "subsys")]
            pub subsys: u16,
            /// PCI subsystem vendor id.
            #[property(
                name = "subsys_ven",
                default = 32902,
                doc = "PCI device Subsystem Vendor ID",
                absent = "32902"
            )]
            #[vmstate(name = "subsys_ven")]
            pub subsys_ven: u16,
            /// Receive delay timer.
            #[vmstate(name = "core.rdtr")]
            pub rdtr: IntrTimer,
            /// Receive absolute delay timer.
            #[vmstate(name = "core.radv")]
            pub radv: IntrTimer,
            /// Receive interrupt absolute delay timer.
            #[vmstate(name = "core.raid")]
            pub raid: IntrTimer,
            /// Transmit absolute delay timer.
            #[vmstate(name = "core.tadv")]
            pub tadv: IntrTimer,
            /// Transmit interrupt delay timer.
            #[vmstate(name = "core.tidv")]
            pub tidv: IntrTimer,
            /// Interrupt throttling timer.
            #[vmstate(name = "core.itr")]
            pub itr: IntrTimer,
            $($itr_pending)*
            /// The same per MSI-X vector.
            #[vmstate(name = "core.eitr")]
            pub eitr: [IntrTimer; 5],
            $($eitr_pending)*
            /// Interrupt throttling guest values.
            #[vmstate(name = "core.itr_guest_value")]
            pub itr_guest_value: u32,
            /// The same per MSI-X vector.
            #[vmstate(name = "core.eitr_guest_value")]
            pub eitr_guest_value: [u32; 5],
            /// VLAN ether type.
            #[vmstate(name = "core.vet")]
            pub vet: u16,
            /// The two transmit queues' offload contexts.
            #[vmstate(name = "core.tx")]
            pub tx: [TxContext; 2],
            $($tail)*
        }

        impl $name {
            /// What every version does at realize: check the properties as
            /// QEMU does, then the card at reset — the config space
            /// (`recorded`) and register files (`registers`) QEMU builds,
            /// with the MAC address (the first card's default when none was
            /// set), the subsystem ids and the VLAN ether type (`init_vet`)
            /// the properties give; the MSI-X vectors masked, the timers
            /// idle.
            fn reset_to(
                &mut self,
                recorded: &RecordedConfig,
                registers: &RecordedRegisters,
                init_vet: bool,
            ) -> Result<(), String> {
                self.pci.check("e1000e")?;
                if self.mac_address.is_empty() {
                    self.mac_address = DEFAULT_MAC.to_owned();
                }
                self.permanent_mac = parse_mac(&self.mac_address).ok_or_else(|| {
                    format!(
                        "Property 'e1000e.mac' doesn't take value '{}'",
                        compat_core::text::escape::escaped(&self.mac_address)
                    )
                })?;
                self.config = PciDeviceState::from_recorded(recorded);
                self.eeprom = registers.eeprom;
                self.phy = registers.phy;
                self.mac_regs.fill(0);
                for &(i, value) in &registers.mac {
                    self.mac_regs[i] = value;
                }
                let mac = self.permanent_mac;
                set_mac_address(&mut self.config, &mut self.eeprom, &mut self.mac_regs, mac);
                self.config.config[0x2c..0x2e].copy_from_slice(&self.subsys_ven.to_le_bytes());
                self.config.config[0x2e..0x30].copy_from_slice(&self.subsys.to_le_bytes());
                self.mac_regs[VET] = if init_vet { ETH_P_VLAN } else { 0 };
                self.msix = E1000eMsix::default();
                for vector in 0..5 {
                    self.msix.msix[vector * 16 + 12] = 1;
                }
                for t in [
                    &mut self.rdtr,
                    &mut self.radv,
                    &mut self.raid,
                    &mut self.tadv,
                    &mut self.tidv,
                    &mut self.itr,
                ]
                .into_iter()
                .chain(&mut self.eitr)
                {
                    t.timer = -1;
                }
                self.rxbuf_min_shift = 5;
                Ok(())
            }
        }
    };
}

/// The register files of an `e1000e` at reset as real QEMU builds them
/// (the default MAC address, `init-vet` on), recorded by
/// `scripts/real-qemu/record.sh config` from a paused guest's stream.
pub struct RecordedRegisters {
    /// The EEPROM.
    pub eeprom: [u16; 64],
    /// The PHY registers.
    pub phy: [u16; 224],
    /// The MAC registers that are not zero, `(index, value)`.
    pub mac: Vec<(usize, u32)>,
}

impl RecordedRegisters {
    /// Read a recording: `FIELD INDEX VALUE` lines, in hex.
    fn parse(text: &str) -> RecordedRegisters {
        let mut r = RecordedRegisters {
            eeprom: [0; 64],
            phy: [0; 224],
            mac: Vec::new(),
        };
        let hex = |t: &str| u32::from_str_radix(t, 16).expect("a recorded hex number");
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let [field, index, value] = line.split_whitespace().collect::<Vec<_>>()[..] else {
                panic!("not a line of recorded registers: {line}");
            };
            let (i, value) = (hex(index) as usize, hex(value));
            let half = || u16::try_from(value).expect("a 16-bit register");
            match field {
                "core.eeprom" => r.eeprom[i] = half(),
                "core.phy" => r.phy[i] = half(),
                "core.mac" => r.mac.push((i, value)),
                _ => panic!("not a recorded register file: {line}"),
            }
        }
        r
    }
}

/// e1000e's register files on QEMU 7.2.22.
pub static E1000E_REGISTERS_7_2: std::sync::LazyLock<RecordedRegisters> =
    std::sync::LazyLock::new(|| {
        RecordedRegisters::parse(include_str!("recorded/e1000e-registers-7.2.txt"))
    });

/// e1000e's register files on QEMU 10.0.2.
pub static E1000E_REGISTERS_10_0: std::sync::LazyLock<RecordedRegisters> =
    std::sync::LazyLock::new(|| {
        RecordedRegisters::parse(include_str!("recorded/e1000e-registers-10.0.txt"))
    });

/// The VLAN ether type register (`VET`), as an index of the register file.
const VET: usize = 0x38 / 4;
/// The ether type of 802.1Q VLAN tags, which `init-vet` puts in `VET`.
const ETH_P_VLAN: u32 = 0x8100;
/// Receive address 0, low and high (`RAL0`, `RAH0`).
const RAL0: usize = 0x5400 / 4;
/// The address-valid bit of `RAH`.
const RAH_AV: u32 = 0x8000_0000;
/// The EEPROM word holding the checksum.
const EEPROM_CHECKSUM: usize = 0x3f;
/// The sum of all EEPROM words, the checksum included.
const EEPROM_SUM: u16 = 0xbaba;
/// Where the device serial number (an extended capability) holds its
/// number, derived from the MAC address.
const DSN_SERIAL: usize = 0x144;

/// Put MAC address `mac` where QEMU's e1000e puts it at realize: the
/// EEPROM's first three words (and its checksum), receive address 0, and
/// the device serial number of the config space (`mac[5..3]`, `ff ff`,
/// `mac[2..0]`).
fn set_mac_address(
    config: &mut PciDeviceState,
    eeprom: &mut [u16; 64],
    regs: &mut [u32],
    mac: [u8; 6],
) {
    for (word, pair) in eeprom.iter_mut().zip(mac.chunks(2)) {
        *word = u16::from_le_bytes([pair[0], pair[1]]);
    }
    let sum = eeprom[..EEPROM_CHECKSUM]
        .iter()
        .fold(0u16, |a, w| a.wrapping_add(*w));
    eeprom[EEPROM_CHECKSUM] = EEPROM_SUM.wrapping_sub(sum);
    regs[RAL0] = u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]);
    regs[RAL0 + 1] = u32::from(u16::from_le_bytes([mac[4], mac[5]])) | RAH_AV;
    let serial = [mac[5], mac[4], mac[3], 0xff, 0xff, mac[2], mac[1], mac[0]];
    config.config[DSN_SERIAL..DSN_SERIAL + 8].copy_from_slice(&serial);
}

/// `mac` as six bytes, if it is six two-digit hex bytes separated by `:`
/// (or `-`).
fn parse_mac(mac: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = mac.split([':', '-']);
    for byte in &mut out {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

e1000e!(
    /// `e1000e` up to 5.2: no `init-vet`.
    E1000e52, parent = v7_2::PciDevice, device = { realize = E1000e52::realize },
    props = {},
    before_10_0,
    tail = {}
);

e1000e!(
    /// `e1000e` of 7.2: `init-vet`, no time adjustment.
    E1000e72, parent = v7_2::PciDevice, device = { realize = E1000e72::realize },
    props = {
        /// Initialize the VLAN ether type register (new in 6.1).
        #[property(name = "init-vet", default = true)]
        #[vmstate(skip)]
        pub init_vet: bool,
    },
    before_10_0,
    tail = {}
);

e1000e!(
    /// `e1000e` since 8.0: `migrate-timadj` gates the time adjustment.
    E1000e, parent = PciDevice, device = { realize = E1000e::realize },
    props = {
        /// Initialize the VLAN ether type register (new in 6.1).
        #[property(name = "init-vet", default = true)]
        #[vmstate(skip)]
        pub init_vet: bool,
        /// Migrate the time adjustment (new in 8.0).
        #[property(name = "migrate-timadj", default = true)]
        #[vmstate(skip)]
        pub migrate_timadj: bool,
    },
    before_10_0,
    tail = {
        /// The time adjustment, sent only with `migrate-timadj`.
        #[vmstate(name = "core.timadj", exists = E1000e::timadj_exists)]
        pub timadj: i64,
    }
);

impl E1000e52 {
    /// The card at reset, as QEMU 7.2 builds it.
    pub fn realize(&mut self, board: &Board<'_>) -> Result<(), String> {
        self.reset_to(config_7_2(board), &E1000E_REGISTERS_7_2, false)
    }
}

/// Whether the card sits on a PCI Express root complex's own bus, and so
/// is an integrated endpoint (QEMU's `pcie_endpoint_cap_init`); behind a
/// root port or on a conventional bus it is a plain endpoint, and its PCI
/// Express capability says so.
fn integrated(board: &Board<'_>) -> bool {
    board.bus.is_some_and(|b| b.root && b.express)
}

/// The config space QEMU 7.2 builds where the card sits.
fn config_7_2(board: &Board<'_>) -> &'static RecordedConfig {
    match integrated(board) {
        true => &E1000E_7_2,
        false => &E1000E_7_2_ENDPOINT,
    }
}

impl E1000e72 {
    /// The card at reset, as QEMU 7.2 builds it.
    pub fn realize(&mut self, board: &Board<'_>) -> Result<(), String> {
        self.reset_to(config_7_2(board), &E1000E_REGISTERS_7_2, self.init_vet)
    }
}

impl E1000e {
    /// The card at reset, as QEMU 7.2 builds it, with 8.0's AER mask (its
    /// AER capability is the root port's).
    pub fn realize(&mut self, board: &Board<'_>) -> Result<(), String> {
        self.reset_to(config_7_2(board), &E1000E_REGISTERS_7_2, self.init_vet)?;
        if self.pci.x_pcie_err_unc_mask() {
            self.config.set_unc_mask_8_0();
        }
        Ok(())
    }

    fn timadj_exists(&self, _version: u32) -> bool {
        self.migrate_timadj
    }
}

e1000e!(
    /// `e1000e` of QEMU 10.0: an Intel 82574L PCIe network card with the
    /// properties of QEMU 10.0.2.
    E1000e10, parent = qemu10::PciDevice, device = { nic, realize = E1000e10::realize },
    props = {
        /// Initialize the VLAN ether type register.
        #[property(name = "init-vet", default = true)]
        #[vmstate(skip)]
        pub init_vet: bool,
        /// Migrate the time adjustment (new in 8.0).
        #[property(name = "migrate-timadj", default = true)]
        #[vmstate(skip)]
        pub migrate_timadj: bool,
    },
    itr_pending = {
        #[vmstate(unused = 1)]
        pub unused_itr_pending: (),
    },
    eitr_pending = {
        #[vmstate(unused = 5)]
        pub unused_eitr_pending: (),
    },
    tail = {
        /// The time adjustment, sent only with `migrate-timadj`.
        #[vmstate(name = "core.timadj", exists = E1000e10::timadj_exists)]
        pub timadj: i64,
    }
);

impl E1000e10 {
    fn timadj_exists(&self, _version: u32) -> bool {
        self.migrate_timadj
    }

    /// The card at reset as QEMU 10.0 builds it (recorded on pc-q35-7.2:
    /// the mask and extended tags off), with what the properties change.
    pub fn realize(&mut self, board: &Board<'_>) -> Result<(), String> {
        let config = match integrated(board) {
            true => &E1000E_10_0,
            false => &E1000E_10_0_ENDPOINT,
        };
        self.reset_to(config, &E1000E_REGISTERS_10_0, self.init_vet)?;
        if self.pci.x_pcie_err_unc_mask() {
            self.config.set_unc_mask_10_0();
        }
        if self.pci.x_pcie_ext_tag() {
            self.config.set_ext_tag();
        }
        Ok(())
    }
}
