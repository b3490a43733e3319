use compat_core::OnOffAuto;
use compat_core::{compat_set, Device};

#[derive(Device)]
#[device(name = "pci-device", abstract)]
pub struct PciDevice {
    #[property(name = "x-pcie-err-unc-mask", bit = 0, default = true)]
    pub cap: u32,
    #[property(name = "rombar", default = 1)]
    pub rombar: u8,
    #[property(name = "x-mode")]
    pub mode: OnOffAuto,
}

compat_set! {
    pub HW_COMPAT_7_2 = "hw_compat_7_2" [
        { PciDevice, "x-pcie-err-unc-mask", "disabled" },
        { PciDevice, "rombar", 256 },
        { PciDevice, "x-mode", "maybe" },
    ];
}

fn main() {}
