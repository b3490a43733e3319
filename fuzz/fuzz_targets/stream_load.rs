//! The transactional loader: any bytes into an example machine either load
//! whole or leave every device as it was.
#![no_main]

use std::sync::OnceLock;

use compat_core::Release;
use compat_examples::catalog::standard_config;
use libfuzzer_sys::fuzz_target;

fn release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| compat_examples::releases::release("8.2").expect("release 8.2"))
}

fuzz_target!(|data: &[u8]| {
    let mut machine = release()
        .instantiate_config(&standard_config("pc-q35-7.2"))
        .expect("the standard configuration starts");
    let before = machine.save().expect("saves");
    if machine.load(data).is_err() {
        assert_eq!(machine.save().expect("saves"), before, "a refused load changed a device");
    }
});
