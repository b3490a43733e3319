use compat_core::VMState;

#[derive(Clone)]
pub struct NotState;

#[derive(Clone, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    nested: NotState,
}

fn main() {}
