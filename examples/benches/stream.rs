//! Save and load through the generated straight-line code, measured against
//! the memcpy bound of the same bytes, in one run: `save/root-port` vs
//! `memcpy/root-port` is the overhead of the stream over copying the state.

use std::hint::black_box;

use compat_core::codec::{StreamReader, StreamWriter};
use compat_core::{Device, VMState};
use compat_examples::devices::PcieRootPort;
use criterion::{criterion_group, criterion_main, Criterion};

fn root_port() -> PcieRootPort {
    let mut port = PcieRootPort::new_default();
    port.build_config();
    port
}

fn stream(c: &mut Criterion) {
    let mut port = root_port();
    let mut w = StreamWriter::new();
    port.save_state(&mut w).expect("saves");
    let bytes = w.into_bytes();
    let mut group = c.benchmark_group("stream");
    group.throughput(criterion::Throughput::Bytes(bytes.len() as u64));

    // The bound: copying the same bytes into a buffer. The copy starts 64
    // bytes in, so source and destination are not a multiple of 4 KiB apart
    // (4K aliasing made a page-aligned copy ten times slower on this
    // machine than the save itself).
    group.bench_function("memcpy/root-port", |b| {
        let mut out = vec![0u8; bytes.len() + 64];
        b.iter(|| {
            out[64..].copy_from_slice(black_box(&bytes));
            black_box(&out);
        })
    });
    group.bench_function("save/root-port", |b| {
        b.iter(|| {
            let mut w = StreamWriter::new();
            black_box(&mut port).save_state(&mut w).expect("saves");
            black_box(w.into_bytes())
        })
    });
    group.bench_function("load/root-port", |b| {
        let mut dst = root_port();
        b.iter(|| {
            let mut r = StreamReader::new(black_box(&bytes));
            dst.load_state(&mut r, 1).expect("loads");
        })
    });
    group.finish();
}

criterion_group!(benches, stream);
criterion_main!(benches);
