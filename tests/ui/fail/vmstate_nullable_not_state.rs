// The element type of an array of nullable elements must have VMState.
use compat_core::VMState;

#[derive(Clone, Default)]
struct NotState {
    x: u32,
}

#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    slots: [Option<Box<NotState>>; 2],
}

fn main() {}
