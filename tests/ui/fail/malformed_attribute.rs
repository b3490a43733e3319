use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct X {
    #[property(name = num_queues)]
    a: u16,
    #[property(name = "b", bit = "3")]
    b: u32,
}

fn main() {}
