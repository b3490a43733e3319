use compat_core::Device;

#[derive(Device)]
#[device(name = "pci-device", abstract)]
struct PciDevice {}

#[derive(Device)]
#[device(name = "pcie-root-port", parent = PciDevice)]
struct RootPort {
    #[property(name = "chassis")]
    chassis: u8,
}

#[derive(Device)]
#[device(name = "orphan")]
struct Orphan {
    #[device(parent)]
    pci: PciDevice,
}

#[derive(Device)]
#[device(name = "twice", parent = PciDevice)]
struct Twice {
    #[device(parent)]
    a: PciDevice,
    #[device(parent)]
    b: PciDevice,
}

fn main() {}
