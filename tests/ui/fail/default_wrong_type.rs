use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct X {
    #[property(name = "num-queues", default = "yes")]
    num_queues: u16,
    #[property(name = "merge", default = 1)]
    merge: bool,
    #[property(name = "serial", default = 7)]
    serial: String,
    #[property(name = "mask", bit = 3, default = "on")]
    bits: u32,
    #[property(name = "mode", default = "auto")]
    mode: compat_core::OnOffAuto,
}

fn main() {}
