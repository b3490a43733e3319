use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev", abstract, name = "y-dev")]
struct X {
    #[property(name = "a", default = 1, default = 2)]
    a: u16,
}

fn main() {}
