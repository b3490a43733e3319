use compat_core::Device;

#[derive(Default)]
struct Backend {}

#[derive(Device)]
#[device(name = "x-dev")]
struct X {
    #[property(name = "backend")]
    backend: Backend,
}

fn main() {}
