use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct X {
    #[property(name = "a")]
    #[property(name = "b")]
    two_plain: u32,
    #[property(name = "c", bit = 0)]
    #[property(name = "d")]
    mixed: u32,
}

fn main() {}
