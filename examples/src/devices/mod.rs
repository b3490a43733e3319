//! Example device types, declared with `#[derive(Device)]` only.

mod pci;
mod virtio;

pub use pci::{
    AerLog, MsixState, PciDevice, PciDeviceState, PcieRootPort, AER_OFFSET, PCI_ERR_UNCOR_MASK,
    PCI_ERR_UNC_INTN,
};

pub use virtio::{VirtioBlk, VirtioDevice, VIRTIO_BLK_AUTO_NUM_QUEUES};

use compat_core::device::RegistryError;
use compat_core::TypeRegistry;

/// A registry holding every example device type.
pub fn registry() -> Result<TypeRegistry, RegistryError> {
    let mut registry = TypeRegistry::new();
    registry.register::<VirtioBlk>()?;
    registry.register::<PcieRootPort>()?;
    Ok(registry)
}
