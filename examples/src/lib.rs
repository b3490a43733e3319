//! Example devices written with compat's derives, and (in later steps) the
//! example releases that re-enact the seeds' migration stories.

pub mod devices;
pub mod matrix;
pub mod releases;
