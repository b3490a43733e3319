// A subtype migrates its parent's state unless it says `vmstate`; saying
// it without a VMState of its own is an error at the key.
use compat_core::{Device, VMState};

#[derive(Clone, Device, VMState)]
#[device(name = "pl011", vmstate)]
#[vmstate(name = "pl011", version = 2)]
pub struct Pl011 {
    pub flags: u32,
}

#[derive(Clone, Device)]
#[device(name = "pl011_luminary", parent = Pl011, vmstate)]
pub struct Pl011Luminary {
    #[device(parent)]
    pub parent: Pl011,
}

fn main() {}
