// Arrays of nullable elements: an element that is neither a scalar nor a
// VMState, and `must_match` (which compares values both sides have).
use compat_core::VMState;

#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    bufs: [Option<Vec<u8>>; 2],
    #[vmstate(must_match)]
    ids: [Option<u32>; 2],
}

fn main() {}
