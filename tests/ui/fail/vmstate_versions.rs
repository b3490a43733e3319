use compat_core::VMState;

#[derive(Clone, VMState)]
#[vmstate(name = "dev", version = 2, minimum_version = 3)]
struct MinimumAbove {
    a: u32,
}

#[derive(Clone, VMState)]
#[vmstate(name = "dev", version = 2)]
struct SinceAbove {
    a: u32,
    #[vmstate(since = 3)]
    b: u32,
}

fn main() {}
