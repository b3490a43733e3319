use compat_core::compat_set;

pub struct NotADevice;

compat_set! {
    pub SET = "set" [
        { NotADevice, "x", "1" },
    ];
}

fn main() {}
