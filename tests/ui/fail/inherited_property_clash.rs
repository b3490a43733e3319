use compat_core::Device;

#[derive(Device)]
#[device(name = "pci-device", abstract)]
struct PciDevice {
    #[property(name = "x-pcie-err-unc-mask", bit = 0, default = true)]
    cap: u32,
}

#[derive(Device)]
#[device(name = "pcie-port", abstract, parent = PciDevice)]
struct PciePort {
    #[device(parent)]
    pci: PciDevice,
}

#[derive(Device)]
#[device(name = "pcie-root-port", parent = PciePort)]
struct RootPort {
    #[device(parent)]
    port: PciePort,
    #[property(name = "x-pcie-err-unc-mask")]
    mask: bool,
}

fn main() {}
