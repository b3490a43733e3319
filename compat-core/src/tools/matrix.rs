//! The migration matrix: for every machine type and every pair of releases
//! that know it, a real save on the source and a real load on the
//! destination through the stream — from a freshly started guest, then from
//! one whose run-time state sends every subsection its gates allow — and
//! the catalog's scenarios, hop by hop.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{json, Value};

use super::catalog::{Catalog, Scenario};
use crate::migration::{
    migrate, migrate_chain, migrate_every_subsection, migrate_with_preflight, MigrationError,
};
use crate::release::Release;
use crate::resolve::MachineConfig;

/// One cell: a source release, a destination release, a machine type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The source release.
    pub src: String,
    /// The destination release.
    pub dst: String,
    /// `Ok`, or the real error: of a freshly started guest, or, where that
    /// works, of one sending every subsection its gates allow.
    pub outcome: Result<(), MigrationError>,
}

/// The table of one machine type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineMatrix {
    /// The `-M` name both sides are given.
    pub machine: String,
    /// The options both sides start with.
    pub config: MachineConfig,
    /// The releases, oldest first: the columns.
    pub releases: Vec<String>,
    /// Every cell, by source then destination; sources that do not know
    /// the machine type have no row.
    pub cells: Vec<Cell>,
}

/// A scenario run: every hop a real save and load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioOutcome {
    /// What it shows.
    pub title: String,
    /// The hops, as `release: command line`.
    pub hops: Vec<String>,
    /// `Ok`, or the hop that failed and why.
    pub outcome: Result<(), (usize, MigrationError)>,
}

/// The command line of a configuration, for display.
pub fn command_line(config: &MachineConfig) -> String {
    let mut out = format!("-M {} -smp {}", config.machine, config.smp);
    if let Some(cpu) = &config.cpu {
        let _ = write!(out, " -cpu {cpu}");
    }
    for g in &config.globals {
        let _ = write!(out, " -global {g}");
    }
    for d in &config.devices {
        let _ = write!(out, " -device {d}");
    }
    if !config.host_features.is_empty() {
        let _ = write!(out, "  [host CPU: {}]", config.host_features.join(" "));
    }
    out
}

impl Catalog {
    /// The `-M` names of the matrix: every machine type any release
    /// defines, by family then version.
    pub fn machine_names(&self) -> Vec<String> {
        let mut names: BTreeSet<(String, String)> = BTreeSet::new();
        for r in self.releases() {
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
        names.into_iter().map(|(_, n)| n).collect()
    }

    /// Whether some release knows machine type (or alias) `name`.
    pub fn knows_machine(&self, name: &str) -> bool {
        self.releases().iter().any(|r| r.machine(name).is_ok())
    }

    /// The whole matrix: one table per machine type.
    pub fn matrix(&self) -> Vec<MachineMatrix> {
        self.machine_names()
            .iter()
            .map(|machine| self.machine_matrix(machine))
            .collect()
    }

    /// The whole matrix with every source sending a pre-flight: a cell
    /// that fails shows the destination's refusal before any device state
    /// where the configurations differ, instead of the late load error.
    pub fn matrix_with_preflight(&self) -> Vec<MachineMatrix> {
        self.machine_names()
            .iter()
            .map(|machine| self.machine_matrix_with(machine, true))
            .collect()
    }

    /// The table of machine type `machine`.
    pub fn machine_matrix(&self, machine: &str) -> MachineMatrix {
        self.machine_matrix_with(machine, false)
    }

    /// The table of machine type `machine`, its sources sending a
    /// pre-flight when `preflight`.
    pub fn machine_matrix_with(&self, machine: &str, preflight: bool) -> MachineMatrix {
        let config = self.config_for(machine);
        let mut cells = Vec::new();
        for src in self.releases() {
            if src.machine(machine).is_err() {
                continue;
            }
            for dst in self.releases() {
                cells.push(Cell {
                    src: src.name().to_owned(),
                    dst: dst.name().to_owned(),
                    outcome: if preflight {
                        migrate_with_preflight(src, &config, dst, &config)
                    } else {
                        migrate(src, &config, dst, &config)
                    }
                    .and_then(|()| migrate_every_subsection(src, &config, dst, &config)),
                });
            }
        }
        MachineMatrix {
            machine: machine.to_owned(),
            config,
            releases: self.release_names(),
            cells,
        }
    }

    /// Run one scenario. A hop naming a release the catalog lacks is
    /// reported as that hop's failure (`MigrationError::UnknownRelease`)
    /// before any hop runs.
    pub fn run_scenario(&self, scenario: &Scenario) -> ScenarioOutcome {
        let hops_text = scenario
            .hops
            .iter()
            .map(|(r, c)| format!("{r}: {}", command_line(c)))
            .collect();
        let mut hops: Vec<(&Release, MachineConfig)> = Vec::new();
        for (i, (name, config)) in scenario.hops.iter().enumerate() {
            match self.release(name) {
                Ok(r) => hops.push((r, config.clone())),
                Err(e) => {
                    return ScenarioOutcome {
                        title: scenario.title.clone(),
                        hops: hops_text,
                        outcome: Err((i, MigrationError::UnknownRelease(e))),
                    };
                }
            }
        }
        ScenarioOutcome {
            title: scenario.title.clone(),
            hops: hops_text,
            outcome: migrate_chain(&hops),
        }
    }

    /// Run every scenario of the catalog.
    pub fn run_scenarios(&self) -> Vec<ScenarioOutcome> {
        self.scenarios()
            .iter()
            .map(|s| self.run_scenario(s))
            .collect()
    }
}

/// The matrix as text tables: one per machine type, `ok` or `FAILn` per
/// cell with the reasons below, `no-M` where the destination does not know
/// the machine type; then the scenarios.
pub fn render(tables: &[MachineMatrix], scenarios: &[ScenarioOutcome]) -> String {
    let mut out = String::new();
    for t in tables {
        let _ = writeln!(out, "== {}  ({})", t.machine, command_line(&t.config));
        let mut reasons: Vec<String> = Vec::new();
        let width = t.releases.iter().map(String::len).max().unwrap_or(0).max(5) + 2;
        let _ = write!(out, "  {:<8}", "src\\dst");
        for r in &t.releases {
            let _ = write!(out, "{r:<width$}");
        }
        out.push('\n');
        let mut current: Option<&str> = None;
        for cell in &t.cells {
            if current != Some(cell.src.as_str()) {
                if current.is_some() {
                    out.push('\n');
                }
                current = Some(&cell.src);
                let _ = write!(out, "  {:<8}", cell.src);
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
            let _ = write!(out, "{mark:<width$}");
        }
        out.push('\n');
        for (n, reason) in reasons.iter().enumerate() {
            let _ = writeln!(out, "  FAIL{}: {reason}", n + 1);
        }
        if t.cells.iter().any(|c| {
            c.outcome
                .as_ref()
                .is_err_and(MigrationError::is_unknown_machine)
        }) {
            let _ = writeln!(
                out,
                "  no-M: the destination release does not know {} and refuses to start",
                t.machine
            );
        }
        out.push('\n');
    }
    if !scenarios.is_empty() {
        let _ = writeln!(out, "== scenarios");
    }
    for s in scenarios {
        match &s.outcome {
            Ok(()) => {
                let _ = writeln!(out, "  ok    {}", s.title);
            }
            Err((hop, e)) => {
                let _ = writeln!(out, "  FAIL  {} (hop {hop}): {e}", s.title);
            }
        }
        for h in &s.hops {
            let _ = writeln!(out, "          {h}");
        }
    }
    out
}

/// The matrix as JSON: `{"machines": [{"machine", "command_line",
/// "cells": [{"src", "dst", "ok", "error"}]}], "scenarios": [{"title",
/// "hops", "ok", "error"}]}`.
pub fn to_json(tables: &[MachineMatrix], scenarios: &[ScenarioOutcome]) -> Value {
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
