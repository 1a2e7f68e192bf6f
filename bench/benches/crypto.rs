//! Native figures for the crypto workloads (`make bench` runs this with the node profile).
//! Each prints criterion's estimate; scripts/bench-crypto.mjs reads them from target/criterion.

use criterion::{Criterion, criterion_group, criterion_main};
use murmur_bench::{Op, Workload};

fn crypto(c: &mut Criterion) {
    let mut w = Workload::new();
    let mut group = c.benchmark_group("crypto");
    for op in Op::ALL {
        if op == Op::VaultUnlock {
            // ~0.1 s per run: criterion's smallest sample.
            group.sample_size(10);
        }
        group.bench_function(op.name(), |b| b.iter(|| w.run(op)));
    }
    group.finish();
}

criterion_group!(benches, crypto);
criterion_main!(benches);
