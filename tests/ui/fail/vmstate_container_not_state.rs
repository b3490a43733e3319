// The elements of a list and the values of a map must have VMState.
use std::collections::BTreeMap;

use compat_core::VMState;

#[derive(Clone, Default)]
struct NotState {
    x: u32,
}

#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(qlist, max = 4)]
    list: Vec<NotState>,
    #[vmstate(gtree, max = 4)]
    map: BTreeMap<u64, NotState>,
}

fn main() {}
