//! Building a machine from `-device` and `-global` options: every device
//! created with its type's defaults, the globals that name its type (or a
//! parent type) applied, then its own options, then made ready.
//!
//! The release here has one device type users create (`bench-dev`, whose
//! parent type is `bench-base`) and ten others (`filler-0` …
//! `filler-9`) that only globals name: most of the 1,000 globals match no
//! device, as most of a real VMM's do not.

use compat_core::property::cmdline::{parse_device, DeviceOption, GlobalOption};
use compat_core::{Device, MachineConfig, MachineFamily, Release, ReleaseBuilder};
use compat_core::{Version, VersionStep};

/// The machine type every resolution builds.
pub const MACHINE: &str = "bench-1.0";

/// Device counts: each ten times the one before.
pub const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// Globals given with every resolution.
pub const GLOBALS: usize = 1_000;

/// Of [`GLOBALS`], how many apply to every device.
pub const MATCHING_GLOBALS: usize = 10;

/// The parent type of the device users create.
#[derive(Device)]
#[device(name = "bench-base", abstract)]
pub struct BenchBase {
    /// A number every device inherits.
    #[property(name = "a", default = 1)]
    pub a: u32,
    /// An on/off switch kept as bit 0 of `flags`.
    #[property(name = "flag", bit = 0, default = true)]
    pub flags: u32,
}

/// The device users create with `-device bench-dev,id=...`.
#[derive(Device)]
#[device(name = "bench-dev", parent = BenchBase)]
pub struct BenchDev {
    /// The parent type's part.
    #[device(parent)]
    pub base: BenchBase,
    /// A 64-bit number.
    #[property(name = "b", default = 2)]
    pub b: u64,
    /// A text.
    #[property(name = "c")]
    pub c: String,
}

macro_rules! filler_types {
    ($($ty:ident = $name:literal),*) => {
        $(
            #[doc = concat!("A type only globals name (`", $name, "`).")]
            #[derive(Device)]
            #[device(name = $name)]
            pub struct $ty {
                /// A number.
                #[property(name = "x", default = 0)]
                pub x: u32,
            }
        )*
        fn register_fillers(b: ReleaseBuilder) -> ReleaseBuilder {
            b$(.device::<$ty>())*
        }
        /// The names of the types only globals name.
        pub const FILLERS: &[&str] = &[$($name),*];
    };
}
filler_types!(
    Filler0 = "filler-0",
    Filler1 = "filler-1",
    Filler2 = "filler-2",
    Filler3 = "filler-3",
    Filler4 = "filler-4",
    Filler5 = "filler-5",
    Filler6 = "filler-6",
    Filler7 = "filler-7",
    Filler8 = "filler-8",
    Filler9 = "filler-9"
);

/// The release: `bench-dev`, its parent, the fillers, and machine type
/// [`MACHINE`].
pub fn release() -> Release {
    register_fillers(ReleaseBuilder::new("bench").device::<BenchDev>())
        .family(
            MachineFamily::new("bench", "benchmark machine")
                .version(Version::new(1, 0), VersionStep::default()),
        )
        .build()
        .expect("the benchmark release builds")
}

/// [`GLOBALS`] globals: all but [`MATCHING_GLOBALS`] on the filler types,
/// the rest on `bench-dev` or its parent type, so every device gets them.
pub fn globals() -> Vec<GlobalOption> {
    globals_with(GLOBALS - MATCHING_GLOBALS, MATCHING_GLOBALS)
}

/// `nonmatching` globals on the filler types, then `matching` ones that
/// apply to every `bench-dev` (every other one through its parent type).
pub fn globals_with(nonmatching: usize, matching: usize) -> Vec<GlobalOption> {
    (0..nonmatching + matching)
        .map(|i| {
            let (driver, property) = if i < nonmatching {
                (FILLERS[i % FILLERS.len()], "x")
            } else if i % 2 == 0 {
                ("bench-base", "a")
            } else {
                ("bench-dev", "b")
            };
            GlobalOption {
                driver: driver.to_owned(),
                property: property.to_owned(),
                value: i.to_string(),
            }
        })
        .collect()
}

/// `n` devices, `-device bench-dev,id=devI,b=I`: each with its own id and
/// an option of its own.
pub fn devices(n: usize) -> Vec<DeviceOption> {
    (0..n)
        .map(|i| parse_device(&format!("bench-dev,id=dev{i},b={i}")).expect("a valid -device"))
        .collect()
}

/// The whole configuration: machine [`MACHINE`], [`globals`], `n`
/// [`devices`].
pub fn config(n: usize) -> MachineConfig {
    MachineConfig {
        machine: MACHINE.to_owned(),
        globals: globals(),
        devices: devices(n),
        ..MachineConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_device_resolves_with_its_id() {
        let release = release();
        let machine = release.instantiate_config(&config(100)).unwrap();
        assert_eq!(machine.devices.len(), 100);
        assert_eq!(machine.devices[42].id.as_deref(), Some("dev42"));
        // The device's own option wins over the globals on its type.
        let b = machine.devices[42].object.get("b").unwrap();
        assert_eq!(b, compat_core::PropertyValue::Uint(42));
        // A matching global reached it through the parent type.
        let a = machine.devices[42].object.get("a").unwrap();
        assert_eq!(a, compat_core::PropertyValue::Uint(998));
        assert_eq!(globals().len(), GLOBALS);
    }
}
