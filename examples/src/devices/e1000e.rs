//! `e1000e`, after QEMU's `hw/net/e1000e.c`, a PCI network card: `init-vet`
//! arrived in 6.1 (`hw_compat_6_0` keeps it off for older machine types);
//! since 8.0 the `migrate-timadj` property gates the `core.timadj` field
//! (`VMSTATE_UINT32_TEST`), and `hw_compat_7_2` turns it off for older
//! machine types.

use compat_core::{Device, VMState};

use super::pci::{v7_2, PciDevice};

/// `e1000e` since 8.0.
#[derive(Debug, Clone, Device, VMState)]
#[device(name = "e1000e", parent = PciDevice, vmstate)]
#[vmstate(name = "e1000e", version = 1)]
pub struct E1000e {
    #[device(parent)]
    #[vmstate(skip)]
    pub pci: PciDevice,
    /// Initialize the VLAN ether type register (new in 6.1).
    #[property(name = "init-vet", default = true)]
    #[vmstate(skip)]
    pub init_vet: bool,
    /// Migrate the time adjustment (new in 8.0).
    #[property(name = "migrate-timadj", default = true)]
    #[vmstate(skip)]
    pub migrate_timadj: bool,
    /// MAC address.
    #[vmstate(name = "core.mac")]
    pub mac: [u8; 6],
    /// Device control register.
    #[vmstate(name = "core.ctrl")]
    pub ctrl: u32,
    /// Interrupt throttling.
    #[vmstate(name = "core.itr_guest_value")]
    pub itr: u32,
    /// Time adjustment, sent only with `migrate-timadj`.
    #[vmstate(name = "core.timadj", exists = E1000e::timadj_exists)]
    pub timadj: u32,
}

impl E1000e {
    fn timadj_exists(&self, _version: u32) -> bool {
        self.migrate_timadj
    }
}

/// `e1000e` of 7.2: no time adjustment.
#[derive(Debug, Clone, Device, VMState)]
#[device(name = "e1000e", parent = v7_2::PciDevice, vmstate)]
#[vmstate(name = "e1000e", version = 1)]
pub struct E1000e72 {
    #[device(parent)]
    #[vmstate(skip)]
    pub pci: v7_2::PciDevice,
    /// Initialize the VLAN ether type register (new in 6.1).
    #[property(name = "init-vet", default = true)]
    #[vmstate(skip)]
    pub init_vet: bool,
    /// MAC address.
    #[vmstate(name = "core.mac")]
    pub mac: [u8; 6],
    /// Device control register.
    #[vmstate(name = "core.ctrl")]
    pub ctrl: u32,
    /// Interrupt throttling.
    #[vmstate(name = "core.itr_guest_value")]
    pub itr: u32,
}

/// `e1000e` up to 5.2: no `init-vet` either.
#[derive(Debug, Clone, Device, VMState)]
#[device(name = "e1000e", parent = v7_2::PciDevice, vmstate)]
#[vmstate(name = "e1000e", version = 1)]
pub struct E1000e52 {
    #[device(parent)]
    #[vmstate(skip)]
    pub pci: v7_2::PciDevice,
    /// MAC address.
    #[vmstate(name = "core.mac")]
    pub mac: [u8; 6],
    /// Device control register.
    #[vmstate(name = "core.ctrl")]
    pub ctrl: u32,
    /// Interrupt throttling.
    #[vmstate(name = "core.itr_guest_value")]
    pub itr: u32,
}
