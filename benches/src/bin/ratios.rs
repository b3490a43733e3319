//! Print the benchmarks' ratio table from criterion's results: each path's
//! time for compat, how it compares with bincode, postcard and a plain
//! copy, how it grows with the device count, and whether each target is
//! met.
//!
//! ```sh
//! cargo bench -p compat-bench
//! cargo run --release -p compat-bench --bin ratios [CRITERION_DIR]
//! ```
//!
//! The results are read from `CRITERION_DIR`, else from
//! `$CARGO_TARGET_DIR/criterion`, else from the workspace's
//! `target/criterion`; each time is the median of criterion's estimates.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use compat_bench::{resolution, BUFFER_SIZES, SCALAR_SIZES};

/// Where criterion put its results.
fn criterion_dir() -> PathBuf {
    if let Some(dir) = std::env::args_os().nth(1) {
        return PathBuf::from(dir);
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    };
    target.join("criterion")
}

/// The median's point estimate in a criterion `estimates.json`.
fn median_of(json: &str) -> Option<f64> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    value["median"]["point_estimate"].as_f64()
}

/// The results, read once, with the benchmarks that had none.
struct Results {
    dir: PathBuf,
    missing: std::cell::RefCell<Vec<String>>,
}

impl Results {
    /// The median time in nanoseconds of `group/bench/n`.
    fn get(&self, group: &str, bench: &str, n: usize) -> Option<f64> {
        let id = format!("{group}/{bench}/{n}");
        let path = self.dir.join(&id).join("new").join("estimates.json");
        let found = std::fs::read_to_string(&path)
            .ok()
            .and_then(|json| median_of(&json));
        if found.is_none() {
            self.missing.borrow_mut().push(id);
        }
        found
    }
}

/// A duration in nanoseconds, in the unit that suits it.
fn time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

fn opt_time(ns: Option<f64>) -> String {
    ns.map_or("n/a".into(), time)
}

/// `baseline / ours` as `1.23×`: above 1, ours is faster.
fn speed(baseline: Option<f64>, ours: Option<f64>) -> String {
    match (baseline, ours) {
        (Some(b), Some(o)) if o > 0.0 => format!("{:.2}×", b / o),
        _ => "n/a".into(),
    }
}

/// A compat path and what it is compared with.
struct Path4 {
    label: &'static str,
    compat: &'static str,
    bincode: &'static str,
    bincode_reused: Option<&'static str>,
    postcard: &'static str,
    memcpy: &'static str,
}

const PATHS: [Path4; 6] = [
    Path4 {
        label: "save state",
        compat: "compat-save-state",
        bincode: "bincode-encode",
        bincode_reused: Some("bincode-encode-reused"),
        postcard: "postcard-encode",
        memcpy: "memcpy-state",
    },
    Path4 {
        label: "load state",
        compat: "compat-load-state",
        bincode: "bincode-decode",
        bincode_reused: None,
        postcard: "postcard-decode",
        memcpy: "memcpy-state",
    },
    Path4 {
        label: "save whole stream",
        compat: "compat-save-stream",
        bincode: "bincode-encode",
        bincode_reused: Some("bincode-encode-reused"),
        postcard: "postcard-encode",
        memcpy: "memcpy-stream",
    },
    Path4 {
        label: "save whole stream, buffer reused",
        compat: "compat-save-stream-reused",
        bincode: "bincode-encode-reused",
        bincode_reused: None,
        postcard: "postcard-encode",
        memcpy: "memcpy-stream",
    },
    Path4 {
        label: "load whole stream",
        compat: "compat-load-stream",
        bincode: "bincode-decode",
        bincode_reused: None,
        postcard: "postcard-decode",
        memcpy: "memcpy-stream",
    },
    Path4 {
        label: "read whole stream (QEMU reader)",
        compat: "compat-read-stream",
        bincode: "bincode-decode",
        bincode_reused: None,
        postcard: "postcard-decode",
        memcpy: "memcpy-stream",
    },
];

const WORKLOADS: [(&str, &[usize]); 2] = [("scalar", &SCALAR_SIZES), ("buffer", &BUFFER_SIZES)];

/// Linear: four times the devices in at most this many times the time.
const LINEAR_LIMIT: f64 = 4.4;

/// One target's line: what, measured, met.
struct Target {
    what: String,
    measured: String,
    met: Option<bool>,
}

/// The worst of `values` under `ok`, all of them, and whether all are ok.
fn check(
    values: &[(String, Option<f64>)],
    ok: impl Fn(f64) -> bool,
    show: impl Fn(f64) -> String,
) -> (String, Option<bool>) {
    let shown: Vec<String> = values
        .iter()
        .map(|(at, v)| format!("{} at {at}", v.map_or("n/a".into(), &show)))
        .collect();
    let met = values
        .iter()
        .map(|(_, v)| v.map(&ok))
        .collect::<Option<Vec<bool>>>()
        .map(|all| all.iter().all(|&b| b));
    (shown.join(", "), met)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?)
}

fn count(n: usize) -> String {
    if n >= 1000 && n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

fn main() -> ExitCode {
    let dir = criterion_dir();
    if !dir.is_dir() {
        eprintln!(
            "no criterion results in {}: run `cargo bench -p compat-bench` first \
             (with the same CARGO_TARGET_DIR), or give the criterion folder as an argument",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    let r = Results {
        dir,
        missing: Default::default(),
    };
    let mut out = String::new();

    // The stream paths.
    let _ = writeln!(
        out,
        "## Save and load\n\n\
         Times are criterion's medians. `vs X` is X's time over compat's: above 1 compat is \
         faster; against memcpy it is the fraction of memcpy's speed compat reaches. `bincode` \
         allocates its buffer as compat does, `bincode (reused)` writes into one kept from the \
         last iteration. Slope: the time over the time at a quarter of the devices.\n"
    );
    let _ = writeln!(
        out,
        "| workload | path | devices | compat | vs bincode | vs bincode (reused) | vs postcard | vs memcpy | slope |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (workload, sizes) in WORKLOADS {
        for p in &PATHS {
            let mut previous = None;
            for &n in sizes {
                let compat = r.get(workload, p.compat, n);
                let slope = match ratio(compat, previous) {
                    Some(s) => format!("{s:.2}×"),
                    None => "—".into(),
                };
                previous = compat;
                let reused = match p.bincode_reused {
                    Some(b) => speed(r.get(workload, b, n), compat),
                    None => "—".into(),
                };
                let _ = writeln!(
                    out,
                    "| {workload} | {} | {} | {} | {} | {reused} | {} | {} | {slope} |",
                    p.label,
                    count(n),
                    opt_time(compat),
                    speed(r.get(workload, p.bincode, n), compat),
                    speed(r.get(workload, p.postcard, n), compat),
                    speed(r.get(workload, p.memcpy, n), compat),
                );
            }
        }
    }

    // Resolution.
    let _ = writeln!(
        out,
        "\n## Resolution\n\n\
         Devices given with `id=`, under {} globals ({} of them on every device). Slope: the \
         time over the time at a tenth of the devices.\n",
        resolution::GLOBALS,
        resolution::MATCHING_GLOBALS
    );
    let _ = writeln!(out, "| devices | time | per device | slope |");
    let _ = writeln!(out, "|---:|---:|---:|---:|");
    let mut previous = None;
    for n in resolution::SIZES {
        let t = r.get("resolve", "devices", n);
        let slope = match ratio(t, previous) {
            Some(s) => format!("{s:.2}×"),
            None => "—".into(),
        };
        previous = t;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {slope} |",
            count(n),
            opt_time(t),
            opt_time(t.map(|t| t / n as f64)),
        );
    }

    // The targets.
    let mut targets = Vec::new();
    let scalar_speed = |path: &str, baseline: &str| -> Vec<(String, Option<f64>)> {
        SCALAR_SIZES
            .iter()
            .map(|&n| {
                let v = ratio(r.get("scalar", baseline, n), r.get("scalar", path, n));
                (count(n), v)
            })
            .collect()
    };
    let times = |v: f64| format!("{v:.2}×");
    for (what, path, baseline) in [
        (
            "scalar save state ≥ 1.5× faster than bincode",
            "compat-save-state",
            "bincode-encode",
        ),
        (
            "scalar load state ≥ 1.5× faster than bincode",
            "compat-load-state",
            "bincode-decode",
        ),
    ] {
        let (measured, met) = check(&scalar_speed(path, baseline), |v| v >= 1.5, times);
        targets.push(Target {
            what: what.into(),
            measured: format!("{measured} (bincode time / compat time)"),
            met,
        });
    }
    for (what, path, baseline, limit) in [
        (
            "whole-stream save (with JSON description) ≤ 2× bincode's state-only save",
            "compat-save-stream",
            "bincode-encode",
            2.0,
        ),
        (
            "whole-stream load no slower than bincode's load",
            "compat-load-stream",
            "bincode-decode",
            1.0,
        ),
    ] {
        for (workload, sizes) in WORKLOADS {
            let values: Vec<_> = sizes
                .iter()
                .map(|&n| {
                    let v = ratio(r.get(workload, path, n), r.get(workload, baseline, n));
                    (count(n), v)
                })
                .collect();
            let (measured, met) = check(&values, |v| v <= limit, times);
            targets.push(Target {
                what: format!("{workload} {what}"),
                measured: format!("{measured} (compat stream time / bincode time)"),
                met,
            });
        }
    }
    // memcpy copies into a buffer it keeps, so the save it is held
    // against keeps its buffer too.
    for (label, path) in [
        ("save (buffer reused)", "compat-save-stream-reused"),
        ("load", "compat-load-stream"),
    ] {
        let values: Vec<_> = BUFFER_SIZES
            .iter()
            .map(|&n| {
                let v = ratio(
                    r.get("buffer", "memcpy-stream", n),
                    r.get("buffer", path, n),
                );
                (count(n), v)
            })
            .collect();
        let (measured, met) = check(&values, |v| v >= 0.8, times);
        targets.push(Target {
            what: format!("buffer whole-stream {label} ≥ 0.8× memcpy's speed"),
            measured: format!("{measured} (memcpy time / compat time)"),
            met,
        });
    }
    for (workload, sizes) in WORKLOADS {
        let mut values = Vec::new();
        for p in &PATHS {
            for pair in sizes.windows(2) {
                let v = ratio(
                    r.get(workload, p.compat, pair[1]),
                    r.get(workload, p.compat, pair[0]),
                );
                values.push((
                    format!("{} {}→{}", p.label, count(pair[0]), count(pair[1])),
                    v,
                ));
            }
        }
        let (_, met) = check(&values, |v| v <= LINEAR_LIMIT, times);
        let over: Vec<String> = values
            .iter()
            .filter(|(_, v)| v.is_some_and(|v| v > LINEAR_LIMIT))
            .map(|(at, v)| format!("{at}: {:.2}×", v.unwrap_or_default()))
            .collect();
        let worst = values
            .iter()
            .filter_map(|(at, v)| v.map(|v| (at, v)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let measured = match (over.is_empty(), worst) {
            (_, None) => "n/a".into(),
            (true, Some((at, v))) => format!("worst {v:.2}× ({at})"),
            (false, _) => format!("over the limit: {}", over.join("; ")),
        };
        targets.push(Target {
            what: format!("{workload}: every path linear (4× devices → ≤ {LINEAR_LIMIT}× time)"),
            measured,
            met,
        });
    }
    let last = *resolution::SIZES.last().expect("sizes");
    let t = r.get("resolve", "devices", last);
    targets.push(Target {
        what: format!(
            "resolution of {} devices with ids and {} globals < 200 ms",
            count(last),
            resolution::GLOBALS
        ),
        measured: opt_time(t),
        met: t.map(|t| t < 200e6),
    });

    let _ = writeln!(out, "\n## Targets\n");
    let _ = writeln!(out, "| target | measured | |");
    let _ = writeln!(out, "|---|---|---|");
    for t in &targets {
        let verdict = match t.met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "no data",
        };
        let _ = writeln!(out, "| {} | {} | {verdict} |", t.what, t.measured);
    }
    print!("{out}");

    let mut missing = r.missing.into_inner();
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        eprintln!(
            "\n{} benchmark result(s) missing in {} (first: {}): run `cargo bench -p compat-bench` \
             first, with the same CARGO_TARGET_DIR",
            missing.len(),
            r.dir.display(),
            missing[0]
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_median_not_the_mean_nor_the_median_deviation() {
        let json = r#"{"mean":{"point_estimate":1.5},"median":{"point_estimate":1234.5e1},"median_abs_dev":{"point_estimate":9.0}}"#;
        assert_eq!(median_of(json), Some(12345.0));
        assert_eq!(median_of("{}"), None);
        assert_eq!(median_of("not json"), None);
    }

    #[test]
    fn units() {
        assert_eq!(time(12.0), "12 ns");
        assert_eq!(time(12_345.0), "12.3 µs");
        assert_eq!(time(12_345_678.0), "12.35 ms");
        assert_eq!(speed(Some(3.0), Some(2.0)), "1.50×");
        assert_eq!(count(16_000), "16k");
        assert_eq!(count(64), "64");
    }
}
