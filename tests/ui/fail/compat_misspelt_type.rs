use compat_core::{compat_set, Device};

#[derive(Device)]
#[device(name = "virtio-blk-device")]
pub struct VirtioBlk {
    #[property(name = "num-queues", default = 65535)]
    pub num_queues: u16,
}

compat_set! {
    pub HW_COMPAT_5_1 = "hw_compat_5_1" [
        { VirtioBlck, "num-queues", "1" },
    ];
}

fn main() {}
