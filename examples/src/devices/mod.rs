//! Example device types, declared with `#[derive(Device)]` only.

mod virtio;

pub use virtio::{VirtioBlk, VirtioDevice, VIRTIO_BLK_AUTO_NUM_QUEUES};

use compat_core::device::RegistryError;
use compat_core::TypeRegistry;

/// A registry holding every example device type.
pub fn registry() -> Result<TypeRegistry, RegistryError> {
    let mut registry = TypeRegistry::new();
    registry.register::<VirtioBlk>()?;
    Ok(registry)
}
