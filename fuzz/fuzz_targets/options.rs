//! The option parsers: any text parses or is refused, and what parses
//! prints back to text that parses to the same option (offsets aside: the
//! printed form is canonical, `id=` and `bus=` first).
#![no_main]

use compat_core::property::cmdline::DeviceOption;
use compat_core::{parse_device, parse_global};
use libfuzzer_sys::fuzz_target;

/// What an option says, without where it said it.
fn meaning(d: &DeviceOption) -> (&str, Option<&str>, Option<&str>, Vec<(&str, &str)>) {
    let props = d
        .properties
        .iter()
        .map(|p| (p.key.as_str(), p.value.as_str()))
        .collect();
    (&d.driver, d.id.as_deref(), d.bus.as_deref(), props)
}

fuzz_target!(|text: &str| {
    if let Ok(d) = parse_device(text) {
        let again = parse_device(&d.to_string()).expect("the printed option parses");
        assert_eq!(meaning(&again), meaning(&d));
    }
    if let Ok(g) = parse_global(text) {
        assert_eq!(parse_global(&g.to_string()).as_ref(), Ok(&g));
    }
});
