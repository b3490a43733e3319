use compat_core::{Device, VMState};

#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev/extra", version = 1)]
struct Extra {
    e: u8,
}

// A gate must name a bool property of the device type...
#[derive(Clone, Device, VMState)]
#[device(name = "dev", vmstate)]
#[vmstate(name = "dev", version = 1)]
struct Misspelt {
    #[property(name = "x-migrate-extra", default = true)]
    migrate_extra: bool,
    #[vmstate(subsection, needed = Misspelt::yes, gate = "x-migrate-extr")]
    extra: Extra,
}

impl Misspelt {
    fn yes(&self) -> bool {
        true
    }
}

#[derive(Clone, Device, VMState)]
#[device(name = "dev", vmstate)]
#[vmstate(name = "dev", version = 1)]
struct NotBool {
    #[property(name = "extra-size", default = 4)]
    extra_size: u32,
    #[vmstate(subsection, needed = NotBool::yes, gate = "extra-size")]
    extra: Extra,
}

impl NotBool {
    fn yes(&self) -> bool {
        true
    }
}

// ...so the type must be a device.
#[derive(Clone, VMState)]
#[vmstate(name = "dev", version = 1)]
struct NoDevice {
    #[vmstate(subsection, needed = NoDevice::yes, gate = "x-migrate-extra")]
    extra: Extra,
}

impl NoDevice {
    fn yes(&self) -> bool {
        true
    }
}

// And `gate` only gates a subsection.
#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev", version = 1)]
struct NotSubsection {
    #[vmstate(gate = "x-migrate-extra")]
    e: u8,
}

fn main() {}
