use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct XDev {
    /// A bit switch whose `absent` is not a boolean.
    #[property(name = "sw", bit = 0, default = true, absent = "maybe")]
    switches: u32,
    /// A byte whose `absent` is out of its range.
    #[property(name = "level", default = 1, absent = "300")]
    level: u8,
}

fn main() {}
