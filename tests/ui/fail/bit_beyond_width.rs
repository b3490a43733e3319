use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct X {
    #[property(name = "a", bit = 31)]
    #[property(name = "b", bit = 32)]
    flags: u32,
    #[property(name = "c", bit = 8)]
    small: u8,
    #[property(name = "d", bit = 2)]
    #[property(name = "e", bit = 2)]
    more: u64,
}

fn main() {}
