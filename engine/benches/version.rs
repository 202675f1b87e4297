//! Version parsing and comparison throughput: `compare()` on strings (parse both sides every
//! time) against `Version::parse` once + `Ord` (what the matcher does: parse the installed
//! version once, compare it with many advisory bounds), plus OSV range evaluation.
//!
//! A plain `harness = false` bench (no extra dependencies): each case runs for a fixed wall
//! budget, best of three rounds; the output reports ns/op and the ratio between the two ways,
//! measured side by side in one run. Run with `cargo bench -p tollgate-engine --bench version`.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use tollgate::version::osv::{RangeEvent, RangeType, is_affected};
use tollgate::version::{Scheme, Version, compare};

/// Deterministic pseudo-random numbers (no dependency needed for a corpus).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn corpus(scheme: Scheme, n: usize) -> Vec<String> {
    let mut r = Lcg(0x5eed ^ scheme as u64);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let (a, b, c) = (r.next(20), r.next(40), r.next(30));
        let v = match scheme {
            Scheme::Deb => match r.next(4) {
                0 => format!("{a}.{b}.{c}-{}", r.next(9) + 1),
                1 => format!("1:{a}.{b}-{}+deb12u{}", r.next(5) + 1, r.next(9)),
                2 => format!("{a}.{b}.{c}~rc{}-1", r.next(4)),
                _ => format!("{a}.{b}.{c}+dfsg-{}~deb11u{}", r.next(5) + 1, r.next(5)),
            },
            Scheme::Rpm => format!("{a}.{b}.{c}-{}.el9_{}", r.next(200), r.next(6)),
            Scheme::Apk => format!("{a}.{b}.{c}-r{}", r.next(12)),
            Scheme::Pep440 => match r.next(3) {
                0 => format!("{a}.{b}.{c}"),
                1 => format!("{a}.{b}rc{}", r.next(3)),
                _ => format!("{a}.{b}.{c}.post{}", r.next(3)),
            },
            Scheme::Maven => format!(
                "{a}.{b}.{c}{}",
                ["", "-SNAPSHOT", ".Final", "-rc1"][r.next(4) as usize]
            ),
            _ => match r.next(3) {
                0 => format!("{a}.{b}.{c}"),
                1 => format!("{a}.{b}.{c}-beta.{}", r.next(5)),
                _ => format!("{a}.{b}.{c}-rc.{}", r.next(5)),
            },
        };
        out.push(v);
    }
    out
}

/// Best-of-three ns per operation for `f` run over `ops` operations per call.
fn time(ops: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let mut rounds = 0u32;
        while start.elapsed() < Duration::from_millis(300) {
            f();
            rounds += 1;
        }
        let ns = start.elapsed().as_nanos() as f64 / (f64::from(rounds) * ops as f64);
        best = best.min(ns);
    }
    best
}

fn main() {
    const N: usize = 512;
    println!(
        "{:<8} {:>14} {:>14} {:>14} {:>9}",
        "scheme", "parse ns", "compare() ns", "Ord ns", "ratio"
    );
    for scheme in [
        Scheme::Deb,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Pep440,
        Scheme::Npm,
        Scheme::Go,
        Scheme::Maven,
    ] {
        let strings = corpus(scheme, N);
        let parsed: Vec<Version> = strings
            .iter()
            .map(|s| Version::parse(scheme, s).unwrap())
            .collect();
        let parse_ns = time(N, || {
            for s in &strings {
                black_box(Version::parse(scheme, black_box(s)).ok());
            }
        });
        let compare_ns = time(N, || {
            for w in strings.windows(2) {
                black_box(compare(scheme, black_box(&w[0]), black_box(&w[1])).ok());
            }
        });
        let ord_ns = time(N, || {
            for w in parsed.windows(2) {
                black_box(black_box(&w[0]).cmp(black_box(&w[1])));
            }
        });
        println!(
            "{:<8} {parse_ns:>14.1} {compare_ns:>14.1} {ord_ns:>14.1} {:>8.1}x",
            scheme.as_str(),
            compare_ns / ord_ns
        );
    }

    // One installed version against 1,000 single-interval advisory ranges.
    let installed = Version::parse(Scheme::Deb, "3.0.11-1~deb12u2").unwrap();
    let ranges: Vec<Vec<RangeEvent>> = corpus(Scheme::Deb, 1000)
        .into_iter()
        .map(|fixed| vec![RangeEvent::Introduced("0".into()), RangeEvent::Fixed(fixed)])
        .collect();
    let osv_ns = time(ranges.len(), || {
        for events in &ranges {
            black_box(
                is_affected(
                    Scheme::Deb,
                    black_box(&installed),
                    RangeType::Ecosystem,
                    events,
                )
                .ok(),
            );
        }
    });
    println!("osv::is_affected (deb, introduced 0 + fixed): {osv_ns:.1} ns/range");
}
