// Keys on fields that cannot take them, one error each.
use compat_core::VMState;

#[derive(Clone, Default, VMState)]
#[vmstate(name = "e", version = 1)]
struct E {
    v: u32,
}

#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    n: u8,
    #[vmstate(skip, max = 4)]
    skipped: u32,
    #[vmstate(qtailq)]
    scalar_array: [u16; 4],
    #[vmstate(len = n, max = 4, qtailq)]
    structs: Vec<E>,
    #[vmstate(alloc)]
    bufs: [Option<Vec<u8>>; 2],
}

fn main() {}
