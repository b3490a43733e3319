//! Building a machine of 1,000, 10,000 and 100,000 devices, each given as
//! `-device bench-dev,id=devI,b=I`, under 1,000 `-global`s (ten of which
//! apply to every device): `resolve/devices/N`. Ten times the devices
//! should cost about ten times the time; the target is 100,000 devices in
//! under 200 ms.
//!
//! Resolution costs devices × *matching* globals, since each device looks
//! up only the globals of its own type chain; with 10,000 devices:
//! * `resolve/nonmatching/1000` vs `resolve/nonmatching/10`: 1,000 globals
//!   on other types cost about what 10 do;
//! * `resolve/matching/10` vs `resolve/matching/0`: the cost of 10 globals
//!   that apply to every device.

use std::hint::black_box;
use std::time::Duration;

use compat_bench::resolution::{config, globals_with, release, SIZES};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};

fn resolve(c: &mut Criterion) {
    let release = release();
    let mut group = c.benchmark_group("resolve");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for n in SIZES {
        let config = config(n);
        group.bench_with_input(BenchmarkId::new("devices", n), &config, |b, config| {
            b.iter(|| {
                release
                    .instantiate_config(black_box(config))
                    .expect("resolves")
            })
        });
    }
    let mut config = config(10_000);
    for (name, nonmatching, matching) in [
        ("nonmatching", 10, 0),
        ("nonmatching", 1_000, 0),
        ("matching", 1_000, 0),
        ("matching", 1_000, 10),
    ] {
        config.globals = globals_with(nonmatching, matching);
        let id = if name == "matching" {
            matching
        } else {
            nonmatching
        };
        group.bench_with_input(BenchmarkId::new(name, id), &config, |b, config| {
            b.iter(|| {
                release
                    .instantiate_config(black_box(config))
                    .expect("resolves")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, resolve);
criterion_main!(benches);
