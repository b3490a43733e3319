use compat_core::Device;

#[derive(Device)]
#[device(name = "ICH9.LPC")]
struct X {
    #[property(name = "num,queues")]
    a: u16,
    #[property(name = "")]
    b: u16,
    #[property(name = "size=4")]
    c: u16,
}

fn main() {}
