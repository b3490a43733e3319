use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct X {
    #[property(name = "ratio")]
    ratio: f32,
    #[property(name = "data")]
    data: Vec<u8>,
    #[property(name = "name")]
    name: &'static str,
    #[property(name = "pair")]
    pair: (u8, u8),
    #[property(name = "count")]
    count: usize,
}

fn main() {}
