use compat_core::VMState;

#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev/extra", version = 1)]
struct Extra {
    e: u8,
}

#[derive(Clone, Default, VMState)]
#[vmstate(name = "other/extra", version = 1)]
struct Misnamed {
    e: u8,
}

#[derive(Clone, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Twice {
    #[vmstate(subsection, needed = Twice::yes)]
    a: Extra,
    #[vmstate(subsection, needed = Twice::yes)]
    b: Extra,
}

impl Twice {
    fn yes(&self) -> bool {
        true
    }
}

#[derive(Clone, VMState)]
#[vmstate(name = "dev", version = 1)]
struct WrongPrefix {
    #[vmstate(subsection, needed = WrongPrefix::yes)]
    m: Misnamed,
}

impl WrongPrefix {
    fn yes(&self) -> bool {
        true
    }
}

fn main() {}
