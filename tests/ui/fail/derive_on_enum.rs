use compat_derive::Device;

#[derive(Device)]
#[device(name = "x-dev")]
enum X {
    A,
    B,
}

fn main() {}
