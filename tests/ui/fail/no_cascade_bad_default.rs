// One mistake, one error: a default out of range is reported on its token,
// and the compat set naming the property does not add "not found".
use compat_core::{compat_set, Device};

#[derive(Device)]
#[device(name = "myvm-uart")]
pub struct Uart {
    #[property(name = "fifo", default = 300)]
    pub fifo: u8,
}

compat_set! {
    pub MYVM_COMPAT_1_0 = "myvm_compat_1_0" [
        { Uart, "fifo", 16 },
    ];
}

fn main() {
    // Code naming the set and the type still compiles.
    let _ = MYVM_COMPAT_1_0.entries.len();
    let _ = <Uart as compat_core::Device>::TYPE.name;
}
