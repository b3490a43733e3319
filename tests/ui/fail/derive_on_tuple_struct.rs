use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct X(#[property(name = "a")] u16);

fn main() {}
