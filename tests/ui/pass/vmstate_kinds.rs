// Every field kind in one private struct, with warnings denied: generated
// code adds none (a `tmp: ()` field is not "never read"), two temporary
// views may share QEMU's name "tmp", and a view may say whether it exists.
#![deny(warnings)]

use std::collections::{BTreeMap, VecDeque};

use compat_core::{TmpView, VMState};

#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, VMState)]
#[vmstate(name = "k", version = 1)]
struct K {
    k: u64,
}

#[derive(Clone, Default, VMState)]
#[vmstate(name = "e", version = 1)]
struct E {
    v: u32,
}

#[derive(Clone, Default, VMState)]
#[vmstate(name = "view", version = 1)]
struct View {
    twice: u32,
}

impl TmpView<All> for View {
    fn from_parent(p: &All) -> Self {
        View { twice: p.hidden * 2 }
    }
    fn into_parent(self, p: &mut All) {
        p.hidden = self.twice / 2;
    }
}

#[derive(Clone, Default, VMState)]
#[vmstate(name = "all", version = 1)]
struct All {
    grid: [[u8; 2]; 2],
    structs: [E; 2],
    boxed: Box<E>,
    slots: [Option<Box<E>>; 2],
    #[vmstate(alloc)]
    marked: [Option<u16>; 2],
    #[vmstate(qtailq, max = 4)]
    q: VecDeque<E>,
    #[vmstate(qlist, max = 4)]
    l: Vec<E>,
    #[vmstate(gtree, max = 4)]
    m: BTreeMap<K, E>,
    #[vmstate(gtree, max = 4)]
    d: BTreeMap<u64, E>,
    #[vmstate(skip)]
    hidden: u32,
    #[vmstate(tmp = View)]
    tmp: (),
    #[vmstate(tmp = View, exists = All::second_view)]
    tmp2: (),
    #[vmstate(unused = 2)]
    pad: (),
}

impl All {
    fn second_view(&self, _version: u32) -> bool {
        self.hidden > 0
    }
}

fn main() {
    let mut a = All::default();
    let mut w = compat_core::codec::StreamWriter::new();
    a.save_state(&mut w).unwrap();
    let _ = a.layout();
}
