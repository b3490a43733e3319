use compat_core::Device;

#[derive(Device)]
#[device(name = "pci-device", abstract)]
struct PciDevice {}

#[derive(Device)]
#[device(name = "virtio-device", abstract)]
struct VirtioDevice {}

#[derive(Device)]
#[device(name = "pcie-root-port", parent = PciDevice)]
struct RootPort {
    #[device(parent)]
    parent: VirtioDevice,
}

fn main() {}
