use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
enum X {
    A,
    B,
}

fn main() {}
