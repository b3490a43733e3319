//! The adopter's device migrates between its two releases, both ways,
//! through the real stream; forgetting the compat entry breaks the way
//! back with the real error.

use compat_adopter::{Wdt10, Wdt20, WDT_COMPAT_1_0};
use compat_core::{
    migrate, parse_device, MachineConfig, MachineFamily, Release, ReleaseBuilder, Version,
    VersionStep,
};

fn v(major: u16, minor: u16) -> Version {
    Version::new(major, minor)
}

fn release(name: &str, with_compat: bool) -> Release {
    let one = ReleaseBuilder::new("1.0")
        .device::<Wdt10>()
        .family(MachineFamily::new("board", "a board").version(v(1, 0), VersionStep::default()));
    if name == "1.0" {
        return one.build().unwrap();
    }
    let step = if with_compat {
        VersionStep::compat([WDT_COMPAT_1_0])
    } else {
        VersionStep::default()
    };
    one.named("2.0")
        .replace_device::<Wdt20>()
        .edit_family("board", |f| {
            f.version(v(1, 0), step)
                .version(v(2, 0), VersionStep::default())
        })
        .build()
        .unwrap()
}

fn config(machine: &str) -> MachineConfig {
    MachineConfig {
        machine: machine.to_owned(),
        devices: vec![parse_device("wdt,id=wdt0,timeout=60").unwrap()],
        ..MachineConfig::default()
    }
}

#[test]
fn the_device_migrates_both_ways_on_the_old_machine_type() {
    let (old, new) = (release("1.0", true), release("2.0", true));
    let c = config("board-1.0");
    migrate(&old, &c, &new, &c).unwrap();
    migrate(&new, &c, &old, &c).unwrap();
    // On the new machine type the subsection is sent, and 2.0 reads it.
    let c2 = config("board-2.0");
    migrate(&new, &c2, &new, &c2).unwrap();
}

#[test]
fn without_the_compat_entry_the_way_back_fails() {
    let (old, new) = (release("1.0", false), release("2.0", false));
    let c = config("board-1.0");
    let e = migrate(&new, &c, &old, &c).unwrap_err();
    assert_eq!(
        e.to_string(),
        // A device on no bus: its section is named by its VMState, as in QEMU.
        "error while loading state for instance 0x0 of device 'wdt' (stream version 1): \
         VM subsection 'wdt/pretimeout' in 'wdt' does not exist (at offset 0x2b)"
    );
}

#[test]
fn the_values_travel() {
    let new = release("2.0", true);
    let mut src = new.instantiate_config(&config("board-2.0")).unwrap();
    src.devices[0]
        .object
        .downcast_mut::<Wdt20>()
        .unwrap()
        .counter = 7;
    let bytes = src.save().unwrap();
    let mut dst = new.instantiate_config(&config("board-2.0")).unwrap();
    dst.load(&bytes).unwrap();
    let wdt = dst.devices[0].object.downcast_ref::<Wdt20>().unwrap();
    assert_eq!((wdt.counter, wdt.timeout, wdt.pre.lead), (7, 60, 5));
}
