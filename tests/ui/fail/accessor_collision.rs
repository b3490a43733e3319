use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct X {
    #[property(name = "num-queues")]
    a: u16,
    #[property(name = "num_queues")]
    b: u16,
}

fn main() {}
