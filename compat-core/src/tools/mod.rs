//! The tools over any VMM's releases: a [`Catalog`] of releases in order,
//! the migration matrix and scenarios over it, a real QEMU binary read into
//! a lock ([`qemu::read_qemu`]), and (with the `cli` feature) the whole
//! `compat` command, so that a VMM gets its own with a `main` of a few
//! lines.

mod catalog;
#[cfg(feature = "cli")]
pub mod cli;
pub mod matrix;
pub mod qemu;

pub use catalog::{Catalog, Scenario};
pub use matrix::{Cell, MachineMatrix, ScenarioOutcome};
