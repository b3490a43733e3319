use compat_core::VMState;

#[derive(Clone, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    num_queues: u16,
    label: i32,
    #[vmstate(len = num_queue, max = 64)]
    a: Vec<u16>,
    #[vmstate(len = label, max = 64)]
    b: Vec<u16>,
    #[vmstate(len = later, max = 64)]
    c: Vec<u16>,
    later: u16,
    d: Vec<u16>,
    #[vmstate(len = num_queues)]
    e: Vec<u16>,
    #[vmstate(len = num_queues, max = 4)]
    f: u32,
}

fn main() {}
