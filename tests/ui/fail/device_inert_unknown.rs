use compat_core::Device;

#[derive(Device)]
#[device(name = "x-bus-dev", abstract)]
struct BusDev {
    /// A switch of express functions only.
    #[property(name = "x-express-switch", default = true)]
    express_switch: bool,
}

/// A conventional function: the switch does nothing here, but the list
/// misspells it.
#[derive(Device)]
#[device(name = "x-conventional", parent = BusDev, inert = "x-express-swich")]
struct Conventional {
    #[device(parent)]
    bus: BusDev,
}

fn main() {}
