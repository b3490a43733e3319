use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct X {
    #[property(name = "merge", bit = 0)]
    merge: bool,
    #[property(name = "signed", bit = 0)]
    signed: i32,
}

fn main() {}
