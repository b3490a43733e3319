use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev", hotplugable = false)]
struct X {}

#[derive(Device)]
#[device(name = "y-dev", colour = "blue")]
struct Y {}

fn main() {}
