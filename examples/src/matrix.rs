//! The migration matrix: a real save on the source release and a real load
//! on the destination release, through the stream, for every pair of
//! releases and every machine type the source knows — and the seeds'
//! multi-hop and CPU scenarios.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use compat_core::cmdline::{parse_device, parse_global};
use compat_core::resolve::ResolveError;
use compat_core::stream::{LoadError, SaveError};
use compat_core::{MachineConfig, Release};
use serde_json::{json, Value};

use crate::releases::{self, RELEASES};

/// Why a migration did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    /// The source could not start.
    #[error("the source does not start: {0}")]
    Source(Box<ResolveError>),
    /// The source could not save.
    #[error("the source cannot save: {0}")]
    Save(SaveError),
    /// The destination could not start (the seeds' case 4: it does not
    /// know the machine type).
    #[error("the destination refuses: {0}")]
    Destination(Box<ResolveError>),
    /// The destination could not load the stream.
    #[error("{0}")]
    Load(Box<LoadError>),
}

impl MigrationError {
    /// Whether the destination refused because it does not know the
    /// machine type (the seeds' case 4).
    pub fn is_unknown_machine(&self) -> bool {
        matches!(self, MigrationError::Destination(e) if matches!(**e, ResolveError::Machine(_)))
    }

    /// The load error, if the destination started and the load failed.
    pub fn load_error(&self) -> Option<&LoadError> {
        match self {
            MigrationError::Load(e) => Some(e),
            _ => None,
        }
    }
}

/// Save on `src` with `src_config`, load on `dst` with `dst_config`.
pub fn migrate(
    src: &Release,
    src_config: &MachineConfig,
    dst: &Release,
    dst_config: &MachineConfig,
) -> Result<(), MigrationError> {
    let mut source = src
        .instantiate_config(src_config)
        .map_err(|e| MigrationError::Source(Box::new(e)))?;
    let bytes = source.save().map_err(MigrationError::Save)?;
    let mut destination = dst
        .instantiate_config(dst_config)
        .map_err(|e| MigrationError::Destination(Box::new(e)))?;
    destination
        .load(&bytes)
        .map_err(|e| MigrationError::Load(Box::new(e)))?;
    Ok(())
}

/// Migrate through several hops: each destination loads the stream, then
/// saves its own for the next one (the seeds' A → B → C).
pub fn migrate_chain(hops: &[(&Release, MachineConfig)]) -> Result<(), (usize, MigrationError)> {
    let Some((first, config)) = hops.first() else {
        return Ok(());
    };
    let mut machine = first
        .instantiate_config(config)
        .map_err(|e| (0, MigrationError::Source(Box::new(e))))?;
    let mut bytes = machine.save().map_err(|e| (0, MigrationError::Save(e)))?;
    for (i, (release, config)) in hops.iter().enumerate().skip(1) {
        let mut next = release
            .instantiate_config(config)
            .map_err(|e| (i, MigrationError::Destination(Box::new(e))))?;
        next.load(&bytes)
            .map_err(|e| (i, MigrationError::Load(Box::new(e))))?;
        bytes = next.save().map_err(|e| (i, MigrationError::Save(e)))?;
    }
    Ok(())
}

/// The options both sides of a matrix cell start with for machine `M`:
/// `-smp 4` and the devices of the seeds' scenarios.
pub fn standard_config(machine: &str) -> MachineConfig {
    let devices: &[&str] = if machine.starts_with("pc-q35") || machine == "q35" {
        &[
            "pcie-root-port,id=rp1,chassis=1",
            "e1000e,id=net0",
            "virtio-blk-device,id=blk0",
        ]
    } else if machine.starts_with("pc-i440fx") || machine == "pc" {
        &["e1000e,id=net0", "virtio-blk-device,id=blk0"]
    } else {
        &[]
    };
    MachineConfig {
        machine: machine.to_owned(),
        smp: 4,
        devices: devices
            .iter()
            .map(|d| parse_device(d).expect("a valid -device"))
            .collect(),
        ..MachineConfig::default()
    }
}

/// The command line of a config, for display.
pub fn command_line(config: &MachineConfig) -> String {
    let mut out = format!("-M {} -smp {}", config.machine, config.smp);
    if let Some(cpu) = &config.cpu {
        write!(out, " -cpu {cpu}").expect("write to String");
    }
    for g in &config.globals {
        write!(out, " -global {g}").expect("write to String");
    }
    for d in &config.devices {
        write!(out, " -device {d}").expect("write to String");
    }
    if !config.host_features.is_empty() {
        write!(out, "  [host CPU: {}]", config.host_features.join(" ")).expect("write to String");
    }
    out
}

/// One cell: a source release, a destination release, a machine type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The source release.
    pub src: &'static str,
    /// The destination release.
    pub dst: &'static str,
    /// `Ok`, or the real error.
    pub outcome: Result<(), MigrationError>,
}

/// The table of one machine type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineMatrix {
    /// The `-M` name both sides are given.
    pub machine: String,
    /// The options both sides start with.
    pub config: MachineConfig,
    /// Every cell, by source then destination.
    pub cells: Vec<Cell>,
}

/// The `-M` names of the matrix: every machine type any release defines,
/// and the alias `xenfv` the seed's users give.
pub fn machine_names(all: &[Release]) -> Vec<String> {
    let mut names: BTreeSet<(String, String)> = BTreeSet::new();
    for r in all {
        for m in r.machines() {
            let version = m
                .version
                .map(|v| format!("{:05}.{:05}.{:05}", v.major, v.minor, v.micro.unwrap_or(0)));
            names.insert((
                format!("{}/{}", m.family, version.unwrap_or_default()),
                m.name.clone(),
            ));
        }
    }
    let mut out: Vec<String> = names.into_iter().map(|(_, n)| n).collect();
    if !out.iter().any(|n| n == "xenfv") {
        out.push("xenfv".to_owned());
    }
    out
}

/// The whole matrix.
pub fn matrix() -> Vec<MachineMatrix> {
    let all = releases::all();
    machine_names(&all)
        .into_iter()
        .map(|machine| machine_matrix(&all, &machine))
        .collect()
}

/// The table of machine type `machine` over `all` releases.
pub fn machine_matrix(all: &[Release], machine: &str) -> MachineMatrix {
    let config = standard_config(machine);
    let mut cells = Vec::new();
    for (i, src) in all.iter().enumerate() {
        if src.machine(machine).is_err() {
            continue;
        }
        for (j, dst) in all.iter().enumerate() {
            cells.push(Cell {
                src: RELEASES[i],
                dst: RELEASES[j],
                outcome: migrate(src, &config, dst, &config),
            });
        }
    }
    MachineMatrix {
        machine: machine.to_owned(),
        config,
        cells,
    }
}

/// A named scenario of the seeds beyond the table: hops, globals, hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// What it shows.
    pub title: String,
    /// The hops, as `release: command line`.
    pub hops: Vec<String>,
    /// `Ok`, or the hop that failed and why.
    pub outcome: Result<(), (usize, MigrationError)>,
}

/// The CPU features of host A and host B in the CPU scenario.
pub fn hosts() -> [(&'static str, Vec<String>); 2] {
    let names = |fs: &[&str]| fs.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>();
    [
        ("A", names(&["pcid", "stibp", "taa-no", "ssbd", "md-clear"])),
        ("B", names(&["pcid", "ssbd", "md-clear", "avx512f"])),
    ]
}

/// The seeds' intersection rule: the `-cpu` both hosts can run and migrate
/// between: a base model with exactly the features both have.
pub fn intersection_cpu(a: &[String], b: &[String]) -> String {
    let mut cpu = String::from("base");
    for f in crate::devices::FEATURES {
        if a.iter().any(|x| x == f) && b.iter().any(|x| x == f) {
            cpu.push_str(",+");
            cpu.push_str(f);
        }
    }
    cpu
}

fn with_global(mut config: MachineConfig, global: &str) -> MachineConfig {
    config
        .globals
        .push(parse_global(global).expect("a valid -global"));
    config
}

/// The seeds' scenarios that are not one cell of the table.
pub fn scenarios() -> Vec<Scenario> {
    let r = |name: &str| releases::release(name).expect("a listed release");
    let mut out = Vec::new();
    let mut run = |title: &str, hops: Vec<(Release, MachineConfig)>| {
        let refs: Vec<(&Release, MachineConfig)> =
            hops.iter().map(|(r, c)| (r, c.clone())).collect();
        out.push(Scenario {
            title: title.to_owned(),
            hops: hops
                .iter()
                .map(|(r, c)| format!("{}: {}", r.name(), command_line(c)))
                .collect(),
            outcome: migrate_chain(&refs),
        });
    };

    let q51 = standard_config("pc-q35-5.1");
    run(
        "A -> B -> C: 5.1 -> 5.2 -> 5.2 on pc-q35-5.1 (num-queues stays 1 all the way)",
        vec![
            (r("5.1"), q51.clone()),
            (r("5.2"), q51.clone()),
            (r("5.2"), q51),
        ],
    );
    run(
        "5.1 -> 5.2 on pc-q35-5.1 as if hw_compat_5_1 were missing (4 queues on the destination)",
        vec![
            (r("5.1"), standard_config("pc-q35-5.1")),
            (
                r("5.2"),
                with_global(
                    standard_config("pc-q35-5.1"),
                    "virtio-blk-device.num-queues=4",
                ),
            ),
        ],
    );
    run(
        "xen: 4.2 -M xenfv -> 5.0 -M xenfv-4.2 (device state only, no machine name on the wire)",
        vec![
            (r("4.2"), standard_config("xenfv")),
            (r("5.0"), standard_config("xenfv-4.2")),
        ],
    );
    let q72 = standard_config("pc-q35-7.2");
    run(
        "8.0.1 -> 7.2 on pc-q35-7.2 with e1000e.migrate-timadj=on (undoing hw_compat_7_2)",
        vec![
            (
                r("8.0.1"),
                with_global(q72.clone(), "e1000e.migrate-timadj=on"),
            ),
            (r("7.2"), q72.clone()),
        ],
    );
    let unc_on = with_global(q72.clone(), "pci-device.x-pcie-err-unc-mask=on");
    run(
        "8.0 -> 8.0.1 on pc-q35-7.2: the fix refuses 8.0's config",
        vec![(r("8.0"), q72.clone()), (r("8.0.1"), q72.clone())],
    );
    run(
        "8.0 -> 8.0.1 with x-pcie-err-unc-mask=on on the destination",
        vec![(r("8.0"), q72.clone()), (r("8.0.1"), unc_on.clone())],
    );
    run(
        "8.0 -> 8.0.1 -> 8.2, remembering x-pcie-err-unc-mask=on",
        vec![
            (r("8.0"), q72.clone()),
            (r("8.0.1"), unc_on.clone()),
            (r("8.2"), unc_on),
        ],
    );
    run(
        "8.0 -> 8.0.1 -> 8.2, forgetting it on the last hop",
        vec![
            (r("8.0"), q72.clone()),
            (
                r("8.0.1"),
                with_global(q72.clone(), "pci-device.x-pcie-err-unc-mask=on"),
            ),
            (r("8.2"), q72),
        ],
    );

    let [(a_name, a), (b_name, b)] = hosts();
    let cpu_config = |cpu: &str, host: &[String]| MachineConfig {
        cpu: Some(cpu.to_owned()),
        host_features: host.to_vec(),
        ..standard_config("pc-q35-8.0")
    };
    let shared = intersection_cpu(&a, &b);
    for (from, fa, to, fb) in [(a_name, &a, b_name, &b), (b_name, &b, a_name, &a)] {
        run(
            &format!("CPU: host {from} -> host {to} with -cpu host"),
            vec![
                (r("8.0.1"), cpu_config("host", fa)),
                (r("8.0.1"), cpu_config("host", fb)),
            ],
        );
        run(
            &format!("CPU: host {from} -> host {to} with the intersection, -cpu {shared}"),
            vec![
                (r("8.0.1"), cpu_config(&shared, fa)),
                (r("8.0.1"), cpu_config(&shared, fb)),
            ],
        );
    }
    out
}

/// The matrix as text tables: one per machine type, `ok` or `FAILn` per
/// cell with the reasons below, then the scenarios.
pub fn render(tables: &[MachineMatrix], scenarios: &[Scenario]) -> String {
    let mut out = String::new();
    for t in tables {
        writeln!(out, "== {}  ({})", t.machine, command_line(&t.config)).expect("write");
        let mut reasons: Vec<String> = Vec::new();
        write!(out, "  {:<8}", "src\\dst").expect("write");
        for r in RELEASES {
            write!(out, "{r:<7}").expect("write");
        }
        out.push('\n');
        let mut current = "";
        for cell in &t.cells {
            if cell.src != current {
                if !current.is_empty() {
                    out.push('\n');
                }
                current = cell.src;
                write!(out, "  {:<8}", cell.src).expect("write");
            }
            let mark = match &cell.outcome {
                Ok(()) => "ok".to_owned(),
                Err(e) if e.is_unknown_machine() => "no-M".to_owned(),
                Err(e) => {
                    let reason = e.to_string();
                    let n = match reasons.iter().position(|r| *r == reason) {
                        Some(n) => n,
                        None => {
                            reasons.push(reason);
                            reasons.len() - 1
                        }
                    };
                    format!("FAIL{}", n + 1)
                }
            };
            write!(out, "{mark:<7}").expect("write");
        }
        out.push('\n');
        for (n, reason) in reasons.iter().enumerate() {
            writeln!(out, "  FAIL{}: {reason}", n + 1).expect("write");
        }
        if t.cells.iter().any(|c| {
            c.outcome
                .as_ref()
                .is_err_and(MigrationError::is_unknown_machine)
        }) {
            writeln!(
                out,
                "  no-M: the destination release does not know {} and refuses to start (case 4)",
                t.machine
            )
            .expect("write");
        }
        out.push('\n');
    }
    writeln!(out, "== scenarios").expect("write");
    for s in scenarios {
        match &s.outcome {
            Ok(()) => writeln!(out, "  ok    {}", s.title).expect("write"),
            Err((hop, e)) => writeln!(out, "  FAIL  {} (hop {hop}): {e}", s.title).expect("write"),
        }
        for h in &s.hops {
            writeln!(out, "          {h}").expect("write");
        }
    }
    out
}

/// The matrix as JSON: `{"machines": [{"machine", "command_line",
/// "cells": [{"src", "dst", "ok", "error"}]}], "scenarios": [...]}`.
pub fn to_json(tables: &[MachineMatrix], scenarios: &[Scenario]) -> Value {
    let tables: Vec<Value> = tables
        .iter()
        .map(|t| {
            let cells: Vec<Value> = t
                .cells
                .iter()
                .map(|c| {
                    json!({
                        "src": c.src,
                        "dst": c.dst,
                        "ok": c.outcome.is_ok(),
                        "error": c.outcome.as_ref().err().map(|e| e.to_string()),
                    })
                })
                .collect();
            json!({"machine": t.machine, "command_line": command_line(&t.config), "cells": cells})
        })
        .collect();
    let scenarios: Vec<Value> = scenarios
        .iter()
        .map(|s| {
            json!({
                "title": s.title,
                "hops": s.hops,
                "ok": s.outcome.is_ok(),
                "error": s.outcome.as_ref().err().map(|(hop, e)| format!("hop {hop}: {e}")),
            })
        })
        .collect();
    json!({"machines": tables, "scenarios": scenarios})
}

/// Which side of a migration runs the newer release (by [`RELEASES`]
/// order), for the checker's fix proposals.
pub fn newer(src: &str, dst: &str) -> Option<compat_core::check::Side> {
    let at = |r: &str| RELEASES.iter().position(|x| *x == r);
    match (at(src)?, at(dst)?) {
        (s, d) if s > d => Some(compat_core::check::Side::Source),
        (s, d) if s < d => Some(compat_core::check::Side::Destination),
        _ => None,
    }
}

/// The checker's prediction for a migration between two example releases.
pub fn predict(
    src: &Release,
    src_config: &MachineConfig,
    dst: &Release,
    dst_config: &MachineConfig,
) -> compat_core::check::Prediction {
    compat_core::check::check(
        src,
        src_config,
        dst,
        dst_config,
        newer(src.name(), dst.name()),
    )
}
