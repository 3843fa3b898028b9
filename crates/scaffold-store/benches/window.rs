//! The cost of counting one request, with 1,000 and with 200,000 distinct clients in the window:
//! the two should be about the same (constant time per request, bounded memory).
#![allow(clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use scaffold_store::window::WindowCounts;
use std::hint::black_box;

fn hits(c: &mut Criterion) {
    let mut group = c.benchmark_group("rate-limit hit");
    for clients in [1_000u32, 200_000] {
        let counts = WindowCounts::<u64>::new(65_536);
        let keys: Vec<String> =
            (0..clients).map(|i| format!("ip:10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255)).collect();
        for k in &keys {
            counts.with(k, 1, |v, _| *v += 1);
        }
        let mut i = 0usize;
        group.bench_with_input(BenchmarkId::from_parameter(clients), &keys, |b, keys| {
            b.iter(|| {
                i = (i + 7919) % keys.len();
                black_box(counts.with(&keys[i], 1, |v, _| {
                    *v += 1;
                    *v
                }))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, hits);
criterion_main!(benches);
