//! Example devices and releases written with compat's derives, re-enacting
//! the seeds' migration stories, and the migration matrix over them.
//!
//! * [`devices`]: `virtio-blk-device`, `pci-device`/`pcie-root-port`,
//!   `e1000e`, `piix4-pm`, `x86-cpu` — each version a release shipped;
//! * [`releases`]: `3.1` … `8.2`, each the one before plus its changes;
//! * [`matrix`]: real save/load between every pair of releases, the seeds'
//!   scenarios, and the checker's predictions for them.

pub mod devices;
pub mod matrix;
pub mod releases;
