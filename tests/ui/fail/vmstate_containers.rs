// Lists and maps: the encoding and the bound must be said, a map's key is
// a u64 or a struct, and the keys belong on their containers.
use std::collections::BTreeMap;

use compat_core::VMState;

#[derive(Clone, Default, VMState)]
#[vmstate(name = "elem", version = 1)]
struct Elem {
    x: u32,
}

#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    no_encoding: Vec<Elem>,
    #[vmstate(qtailq)]
    no_bound: Vec<Elem>,
    #[vmstate(gtree, max = 4)]
    small_key: BTreeMap<u32, Elem>,
    #[vmstate(gtree, max = 4)]
    text_key: BTreeMap<String, Elem>,
    #[vmstate(max = 4)]
    not_said: BTreeMap<u64, Elem>,
    #[vmstate(gtree)]
    scalar: u32,
}

fn main() {}
