//! A small VMM that is not QEMU, written with compat's public API only: a
//! serial port and a watchdog, one machine family (`mvb`, "my virtual
//! board"), and two releases. Release 2.0 gives the serial port a 64-byte
//! FIFO and the watchdog a pre-timeout; its compat set `mvb_compat_1_0`
//! keeps both as 1.0 had them on machine type `mvb-1.0`.
//!
//! The releases' locks are committed in `locks/`, and this crate's own
//! `cargo test` verifies the newest release against them.

use compat_core::tools::Catalog;
use compat_core::{
    compat_set, parse_device, Board, Device, MachineConfig, MachineFamily, RealizeError, Release,
    ReleaseBuilder, VMState, Version, VersionStep,
};

/// Release 1.0's serial port: a 16-byte FIFO.
#[derive(Clone, Device, VMState)]
#[device(name = "mvb-uart", vmstate, realize = Uart10::realize)]
#[vmstate(name = "mvb-uart", version = 1)]
pub struct Uart10 {
    /// The FIFO's depth; both sides must agree.
    #[vmstate(must_match)]
    pub fifo_depth: u32,
    /// Line status.
    pub lsr: u8,
}

impl Uart10 {
    fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
        self.fifo_depth = 16;
        Ok(())
    }
}

/// Release 2.0's serial port: 64 bytes unless `fifo64=off`.
#[derive(Clone, Device, VMState)]
#[device(name = "mvb-uart", vmstate, realize = Uart20::realize)]
#[vmstate(name = "mvb-uart", version = 1)]
pub struct Uart20 {
    /// Use the 64-byte FIFO (new in 2.0).
    #[property(name = "fifo64", default = true)]
    pub fifo64: bool,
    /// The FIFO's depth; both sides must agree.
    #[vmstate(must_match)]
    pub fifo_depth: u32,
    /// Line status.
    pub lsr: u8,
}

impl Uart20 {
    fn realize(&mut self, _: &Board<'_>) -> Result<(), RealizeError> {
        self.fifo_depth = if self.fifo64 { 64 } else { 16 };
        Ok(())
    }
}

/// The watchdog, the same in both releases.
#[derive(Clone, Device, VMState)]
#[device(name = "mvb-wdt", vmstate)]
#[vmstate(name = "mvb-wdt", version = 1)]
pub struct Wdt {
    /// Seconds before it fires.
    #[property(name = "timeout", default = 30)]
    pub timeout: u32,
    /// The counter.
    pub counter: u32,
}

compat_set! {
    /// What 2.0 changed, undone for `mvb-1.0`.
    pub MVB_COMPAT_1_0 = "mvb_compat_1_0" [
        { Uart20, "fifo64", "off" },
    ];
}

fn v(major: u16, minor: u16) -> Version {
    Version::new(major, minor)
}

/// The definition of release 1.0.
pub fn release_1_0() -> ReleaseBuilder {
    ReleaseBuilder::new("1.0")
        .device::<Uart10>()
        .device::<Wdt>()
        .family(
            MachineFamily::new("mvb", "my virtual board")
                .latest_alias("mvb")
                .default_machine()
                .onboard("mvb-uart,id=serial0")
                .version(v(1, 0), VersionStep::default()),
        )
}

/// The definition of release 2.0; `compat` says whether its step for
/// `mvb-1.0` applies `mvb_compat_1_0` (a release that forgot it is how a
/// broken one looks).
pub fn release_2_0(compat: bool) -> ReleaseBuilder {
    let step = if compat {
        VersionStep::compat([MVB_COMPAT_1_0])
    } else {
        VersionStep::default()
    };
    release_1_0()
        .named("2.0")
        .replace_device::<Uart20>()
        .edit_family("mvb", |f| {
            f.version(v(1, 0), step)
                .version(v(2, 0), VersionStep::default())
        })
}

/// Both releases, oldest first.
pub fn releases() -> Vec<Release> {
    vec![
        release_1_0().build().expect("release 1.0"),
        release_2_0(true).build().expect("release 2.0"),
    ]
}

/// The releases as the `compat` command sees them: each machine type with
/// a watchdog beside its on-board serial port.
pub fn catalog() -> Catalog {
    Catalog::new("my-vmm-compat", releases())
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_config(|machine| MachineConfig {
            machine: machine.to_owned(),
            devices: vec![parse_device("mvb-wdt,id=wdt0").expect("a valid -device")],
            ..MachineConfig::default()
        })
}
