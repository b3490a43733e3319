use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct X<T> {
    state: T,
}

fn main() {}
