use compat_core::Device;

#[derive(Device)]
#[device(abstract)]
struct NoTypeName {}

#[derive(Device)]
struct NoDeviceAttribute {}

#[derive(Device)]
#[device(name = "x-dev")]
struct NoPropertyName {
    #[property(default = 1)]
    num_queues: u16,
}

fn main() {}
