//! Example device types, declared with the derives only. Where a device
//! changed between releases, each version is its own type; a release
//! registers the one it shipped.

mod cpu;
mod e1000e;
mod esp;
mod pci;
mod piix4;
pub mod qemu10;
mod virtio;

pub use cpu::{feature_bits, X86Cpu, FEATURES};
pub use e1000e::{E1000e, E1000e52, E1000e72};
pub use esp::{Am53c974, Am53c97472, Am53c97480, Fifo16, Fifo32, PciConfig256};
pub use pci::{
    build_aer_config, v7_2, AerError, AerLog, Mch, MsixState, PciDevice, PciDeviceState,
    PcieRootPort, RecordedConfig, AER_LOG_MAX_LIMIT, AER_OFFSET, PCI_ERR_UNCOR_MASK,
    PCI_ERR_UNC_INTN, ROOT_PORT_10_0, ROOT_PORT_10_0_UNC_MASK,
};
pub use piix4::{Piix4Pm, Piix4Pm31, Piix4Pm80, SMBUS_NO_MIGRATION_SUPPORT};
pub use virtio::{VirtioBlk, VirtioBlk51, VirtioDevice, VIRTIO_BLK_AUTO_NUM_QUEUES};

use compat_core::device::RegistryError;
use compat_core::TypeRegistry;

/// A registry holding the newest version of every example device type.
pub fn registry() -> Result<TypeRegistry, RegistryError> {
    let mut registry = TypeRegistry::new();
    registry.register::<VirtioBlk>()?;
    registry.register::<PcieRootPort>()?;
    registry.register::<E1000e>()?;
    registry.register::<Piix4Pm80>()?;
    registry.register::<X86Cpu>()?;
    Ok(registry)
}
