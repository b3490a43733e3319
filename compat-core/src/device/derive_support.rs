//! What the code `#[derive(Device)]` generates calls; reachable from
//! outside only through the crate's hidden `__private` module.

use super::{find_in_chain, DeviceTypeInfo};

/// Const-evaluable check that the chain starting at `ty` declares a property
/// `name`; `#[derive(Device)]` uses it to reject, at compile time, a property
/// that clashes with an inherited one.
pub const fn chain_declares(ty: &'static DeviceTypeInfo, name: &str) -> bool {
    find_in_chain(ty, name).is_some()
}
