//! Save and load of device state by compat, by two serde formats, and a
//! plain copy of the same bytes, in one run: one criterion group per
//! workload (`scalar`, `buffer`), one benchmark per path and device count.
//!
//! | benchmark | what one iteration does |
//! |---|---|
//! | `compat-save-state/N` | every device's state into one new buffer |
//! | `compat-load-state/N` | those bytes back into the devices, in place |
//! | `compat-save-stream/N` | the whole stream: header, machine, sections, end markers, JSON description |
//! | `compat-save-stream-reused/N` | the same into a buffer kept from the last iteration |
//! | `compat-load-stream/N` | that stream back, every section checked before any device changes |
//! | `compat-read-stream/N` | that stream read as a whole QEMU stream, each section decoded through the trailer (what `compat analyze` does) |
//! | `bincode-encode/N` | the vector of devices into a new buffer (fixed-size integers) |
//! | `bincode-encode-reused/N` | the same into a buffer kept from the last iteration |
//! | `bincode-decode/N` | a new vector of devices from those bytes |
//! | `postcard-encode/N`, `postcard-decode/N` | the same with postcard |
//! | `memcpy-state/N`, `memcpy-stream/N` | a copy of as many bytes as compat's state, or whole stream, has |
//!
//! `cargo run --release -p compat-bench --bin ratios` prints the ratios.

use std::hint::black_box;
use std::time::Duration;

use compat_bench::*;
use compat_core::stream::qemu::QemuStream;
use compat_core::VMState;
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Every path for `n` devices made by `make`.
fn paths<T>(group: &mut BenchmarkGroup<'_, WallTime>, n: usize, make: fn(usize) -> Vec<T>)
where
    T: VMState + Serialize + DeserializeOwned,
{
    let mut devices = make(n);
    let state = save_states(&mut devices).expect("saves");
    let stream = save_stream(&mut sections(&mut devices)).expect("saves");
    let bincode_bytes = bincode_encode(&devices);
    let postcard_bytes = postcard_encode(&devices);

    group.bench_function(BenchmarkId::new("compat-save-state", n), |b| {
        b.iter(|| save_states(black_box(&mut devices)).expect("saves"))
    });
    group.bench_function(BenchmarkId::new("compat-load-state", n), |b| {
        let mut dst = make(n);
        b.iter(|| load_states(&mut dst, black_box(&state)).expect("loads"))
    });
    group.bench_function(BenchmarkId::new("compat-save-stream", n), |b| {
        let mut sections = sections(&mut devices);
        b.iter(|| save_stream(black_box(&mut sections)).expect("saves"))
    });
    group.bench_function(BenchmarkId::new("compat-save-stream-reused", n), |b| {
        let mut sections = sections(&mut devices);
        let mut out = Vec::new();
        b.iter(|| save_stream_into(black_box(&mut sections), &mut out).expect("saves"))
    });
    group.bench_function(BenchmarkId::new("compat-load-stream", n), |b| {
        let mut dst = make(n);
        let mut sections = sections(&mut dst);
        b.iter(|| load_stream(black_box(&stream), &mut sections).expect("loads"))
    });

    group.bench_function(BenchmarkId::new("compat-read-stream", n), |b| {
        b.iter(|| QemuStream::parse(black_box(&stream)).expect("reads"))
    });

    group.bench_function(BenchmarkId::new("bincode-encode", n), |b| {
        b.iter(|| bincode_encode(black_box(&devices)))
    });
    group.bench_function(BenchmarkId::new("bincode-encode-reused", n), |b| {
        let mut buf = vec![0u8; bincode_bytes.len()];
        b.iter(|| bincode_encode_into(black_box(&devices), &mut buf))
    });
    group.bench_function(BenchmarkId::new("bincode-decode", n), |b| {
        b.iter(|| bincode_decode::<Vec<T>>(black_box(&bincode_bytes)))
    });
    group.bench_function(BenchmarkId::new("postcard-encode", n), |b| {
        b.iter(|| postcard_encode(black_box(&devices)))
    });
    group.bench_function(BenchmarkId::new("postcard-decode", n), |b| {
        b.iter(|| postcard_decode::<Vec<T>>(black_box(&postcard_bytes)))
    });

    for (name, bytes) in [("memcpy-state", &state), ("memcpy-stream", &stream)] {
        group.bench_function(BenchmarkId::new(name, n), |b| {
            let mut out = Vec::new();
            copy_offset(bytes, &mut out);
            b.iter(|| {
                copy_offset(black_box(bytes), &mut out);
                black_box(&out);
            })
        });
    }
}

fn modest<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500));
    group
}

fn scalar(c: &mut Criterion) {
    let mut group = modest(c, "scalar");
    for n in SCALAR_SIZES {
        paths(&mut group, n, scalar_devices);
    }
    group.finish();
}

fn buffer(c: &mut Criterion) {
    let mut group = modest(c, "buffer");
    for n in BUFFER_SIZES {
        paths(&mut group, n, buffer_devices);
    }
    group.finish();
}

criterion_group!(benches, scalar, buffer);
criterion_main!(benches);
