use compat_core::Device;

#[derive(Device)]
#[device(name = "virtio-blk-device")]
struct X {
    #[property(name = "num-queues", default = 70000)]
    num_queues: u16,
    #[property(name = "chassis", default = -1)]
    chassis: u8,
    #[property(name = "offset", default = 2147483648)]
    offset: i32,
    #[property(name = "size", default = "4Q")]
    size: compat_core::Size,
}

fn main() {}
