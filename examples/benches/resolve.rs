//! Resolution of globals: 10,000 devices × 1,000 globals.
//!
//! The claim is that resolution costs devices × *matching* globals: each
//! device looks up only the globals of its own type chain. The groups below
//! measure, in one run, ratios that show it:
//! * `nonmatching/1000` vs `nonmatching/10`: 1,000 globals on other types
//!   cost about what 10 do (ratio ≈ 1);
//! * `devices/10000` vs `devices/1000`: ten times the devices, about ten
//!   times the time;
//! * `matching/10` vs `matching/0`: the added cost of 10 globals that do
//!   apply to every device.

use compat_core::property::cmdline::{parse_device, DeviceOption, GlobalOption};
use compat_core::Device;
use compat_core::{MachineFamily, Release, ReleaseBuilder, Version, VersionStep};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

#[derive(Device)]
#[device(name = "bench-base", abstract)]
pub struct BenchBase {
    #[property(name = "a", default = 1)]
    pub a: u32,
    #[property(name = "flag", bit = 0, default = true)]
    pub flags: u32,
}

#[derive(Device)]
#[device(name = "bench-dev", parent = BenchBase)]
pub struct BenchDev {
    #[device(parent)]
    pub base: BenchBase,
    #[property(name = "b", default = 2)]
    pub b: u64,
    #[property(name = "c")]
    pub c: String,
}

macro_rules! filler_types {
    ($($ty:ident = $name:literal),*) => {
        $(
            #[derive(Device)]
            #[device(name = $name)]
            pub struct $ty {
                #[property(name = "x", default = 0)]
                pub x: u32,
            }
        )*
        fn register_fillers(b: ReleaseBuilder) -> ReleaseBuilder {
            b$(.device::<$ty>())*
        }
        const FILLERS: &[&str] = &[$($name),*];
    };
}
filler_types!(
    F0 = "filler-0",
    F1 = "filler-1",
    F2 = "filler-2",
    F3 = "filler-3",
    F4 = "filler-4",
    F5 = "filler-5",
    F6 = "filler-6",
    F7 = "filler-7",
    F8 = "filler-8",
    F9 = "filler-9"
);

fn release() -> Release {
    register_fillers(ReleaseBuilder::new("bench").device::<BenchDev>())
        .family(
            MachineFamily::new("m", "bench machine")
                .version(Version::new(1, 0), VersionStep::default()),
        )
        .build()
        .expect("bench release")
}

/// `nonmatching` globals on the filler types, then `matching` ones that
/// apply to every `bench-dev` (half through its parent type).
fn globals(nonmatching: usize, matching: usize) -> Vec<GlobalOption> {
    let mut out = Vec::new();
    for i in 0..nonmatching {
        out.push(GlobalOption {
            driver: FILLERS[i % FILLERS.len()].to_owned(),
            property: "x".to_owned(),
            value: i.to_string(),
        });
    }
    for i in 0..matching {
        let (driver, property) = if i % 2 == 0 {
            ("bench-base", "a")
        } else {
            ("bench-dev", "b")
        };
        out.push(GlobalOption {
            driver: driver.to_owned(),
            property: property.to_owned(),
            value: i.to_string(),
        });
    }
    out
}

fn devices(n: usize) -> Vec<DeviceOption> {
    let one = parse_device("bench-dev").expect("device");
    vec![one; n]
}

fn resolve(c: &mut Criterion) {
    let release = release();
    let mut group = c.benchmark_group("resolve");
    group.sample_size(20);

    let many = devices(10_000);
    for nonmatching in [10, 1_000] {
        let gs = globals(nonmatching, 0);
        group.bench_with_input(
            BenchmarkId::new("nonmatching", nonmatching),
            &gs,
            |b, gs| {
                b.iter(|| {
                    release
                        .instantiate("m-1.0", black_box(gs), black_box(&many))
                        .expect("resolves")
                })
            },
        );
    }
    let gs = globals(1_000, 10);
    for n in [1_000, 10_000] {
        let ds = devices(n);
        group.bench_with_input(BenchmarkId::new("devices", n), &ds, |b, ds| {
            b.iter(|| {
                release
                    .instantiate("m-1.0", black_box(&gs), black_box(ds))
                    .expect("resolves")
            })
        });
    }
    for matching in [0, 10] {
        let gs = globals(1_000, matching);
        group.bench_with_input(BenchmarkId::new("matching", matching), &gs, |b, gs| {
            b.iter(|| {
                release
                    .instantiate("m-1.0", black_box(gs), black_box(&many))
                    .expect("resolves")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, resolve);
criterion_main!(benches);
