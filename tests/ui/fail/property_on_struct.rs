use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
#[property(name = "a")]
struct X {
    #[device(parnet)]
    a: u16,
}

fn main() {}
