//! my-vmm's own release check: the newest release against the committed
//! locks (`COMPAT_LOCK=overwrite cargo test -p my-vmm` after a release
//! rewrites its own lock on purpose).

use std::path::Path;

use compat_core::migration::lock::Lock;
use compat_core::migration::verify::{assert_locks, verify};

fn locks() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/locks"))
}

#[test]
fn the_newest_release_keeps_its_promises() {
    let newest = my_vmm::releases().pop().unwrap();
    assert_locks(&newest, locks());
}

#[test]
fn forgetting_the_compat_entry_is_caught_with_the_fix() {
    let broken = my_vmm::release_2_0(false).build().unwrap();
    let lock =
        Lock::from_json(&std::fs::read_to_string(locks().join("1.0.lock.json")).unwrap()).unwrap();
    let findings = verify(&broken, &lock);
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f.device.as_deref(), Some("mvb-uart"));
    assert_eq!(f.item.as_deref(), Some("fifo64"));
    assert_eq!(f.machines, ["mvb-1.0"]);
    assert_eq!(
        f.fixes[0],
        "add {mvb-uart, fifo64, off} to a new compat set in the step of machine type mvb-1.0 \
         in release 2.0"
    );
}
