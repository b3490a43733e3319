use compat_core::compat_set;

compat_set! {
    pub SET = "set" [
        { "e1000e", "migrate-timadj", "off" },
        { "e1000e", "migrate-timadj", "on" },
        { "ich9.lpc", "x", 1.5 },
    ];
}

fn main() {}
