use compat_core::VMState;

#[derive(Clone, VMState)]
#[vmstate(version = 1, minimum_verison = 1)]
struct NoName {
    #[vmstate(sinse = 1)]
    a: u32,
    #[vmstate(subsection)]
    b: u32,
    #[vmstate(needed = NoName::f)]
    c: u32,
    #[vmstate(skip, unused = 4)]
    d: u32,
    #[vmstate(since = 1, exists = NoName::g)]
    e: u32,
    #[vmstate(mask = NoName::h)]
    f: [u8; 4],
}

#[derive(Clone, VMState)]
#[vmstate(name = "inner", version = 1)]
struct Inner {
    x: u8,
}

#[derive(Clone, VMState)]
#[vmstate(name = "outer", version = 1)]
struct MustMatchStruct {
    #[vmstate(must_match)]
    inner: Inner,
}

#[derive(Clone, VMState)]
#[vmstate(name = "dev", version = 1)]
enum NotAStruct {
    A,
}

fn main() {}
