use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct X {
    #[property(name = "num-queues", defualt = 1)]
    num_queues: u16,
}

fn main() {}
