use compat_core::Device;

// Every mistake is reported by one build, each at its own token.
#[derive(Device)]
#[device(name = "virtio-blk-device", parnet = VirtioDevice)]
struct VirtioBlk {
    #[property(name = "num-queues", default = 70000)]
    num_queues: u16,
    #[property(name = "request-merging", bit = 40, default = true)]
    flags: u32,
    #[property(nmae = "serial")]
    serial: String,
    #[property(name = "ratio")]
    ratio: f64,
}

fn main() {}
