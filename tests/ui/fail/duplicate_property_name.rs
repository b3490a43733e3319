use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct X {
    #[property(name = "num-queues")]
    a: u16,
    #[property(name = "num-queues")]
    b: u16,
    #[property(name = "flag", bit = 0)]
    #[property(name = "flag", bit = 1)]
    bits: u32,
}

fn main() {}
