use compat_core::VMState;

#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev/elem", version = 1)]
struct Elem {
    x: u32,
}

#[derive(Clone, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    n: u32,
    // A 30-byte stream could otherwise ask for 32 GiB.
    #[vmstate(len = n, max = 18446744073709551615)]
    a: Vec<u32>,
    #[vmstate(qtailq, max = 16777217)]
    b: Vec<Elem>,
    // The ceiling itself is allowed.
    #[vmstate(len = n, max = 16777216)]
    c: Vec<u8>,
}

fn main() {}
