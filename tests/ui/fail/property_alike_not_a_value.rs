use compat_core::Device;

#[derive(Device)]
#[device(name = "x-dev")]
struct XDev {
    /// A signed ROM switch whose `alike` is not a number.
    #[property(name = "rombar", default = -1, alike = "one")]
    rombar: i32,
    /// A bit switch: its two values never behave alike.
    #[property(name = "sw", bit = 0, default = true, alike = "off")]
    switches: u32,
}

fn main() {}
