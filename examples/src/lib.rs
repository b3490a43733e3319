//! Example devices and releases written with compat's derives, re-enacting
//! the migration stories of QEMU's backward-compatibility documents, and the
//! catalog the `compat` command runs on.
//!
//! * [`devices`]: `virtio-blk-device`, `pci-device`/`pcie-root-port`,
//!   `e1000e`, `PIIX4_PM`, `x86-cpu` — each version a release shipped;
//! * [`releases`]: `3.1` … `8.2`, each the one before plus its changes;
//! * [`catalog`]: the releases as a catalog for the tools — the
//!   configuration of each machine type and the multi-hop scenarios.

pub mod catalog;
pub mod devices;
pub mod releases;
