//! The example releases build, and each has the machine types the seeds
//! name.

use compat_examples::releases::{self, RELEASES};

#[test]
fn every_release_builds_with_its_machine_types() {
    for r in releases::all() {
        let names: Vec<&str> = r.machines().iter().map(|m| m.name.as_str()).collect();
        println!("{}: {names:?}", r.name());
        assert!(r.machine("q35").is_ok() && r.machine("pc").is_ok() && r.machine("xenfv").is_ok());
    }
    let r50 = releases::release("5.0").unwrap();
    assert_eq!(r50.machine("xenfv").unwrap().name, "xenfv-3.1");
    assert!(r50.machine("xenfv-4.2").is_ok());
    assert_eq!(
        releases::release("4.2")
            .unwrap()
            .machine("xenfv")
            .unwrap()
            .name,
        "xenfv"
    );
    assert_eq!(
        releases::release("8.0.1")
            .unwrap()
            .machine("q35")
            .unwrap()
            .name,
        "pc-q35-8.0"
    );
    assert_eq!(
        releases::release("8.0.2").unwrap_err().to_string(),
        format!(
            "unknown release '8.0.2'; did you mean '8.0.1'?; the releases are {}",
            RELEASES.join(", ")
        )
    );
}
