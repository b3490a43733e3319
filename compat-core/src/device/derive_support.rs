//! What the code `#[derive(Device)]` generates calls; reachable from
//! outside only through the crate's hidden `__private` module.

use super::{find_in_chain, DeviceTypeInfo};

/// Const-evaluable check that the chain starting at `ty` declares a property
/// `name`; `#[derive(Device)]` uses it to reject, at compile time, a property
/// that clashes with an inherited one.
pub const fn chain_declares(ty: &'static DeviceTypeInfo, name: &str) -> bool {
    find_in_chain(ty, name).is_some()
}

/// The property along `ty`'s chain closest to the misspelt `name`;
/// usable in `const` (see [`crate::text::suggest::score`]).
pub const fn closest_in_chain(ty: &'static DeviceTypeInfo, name: &str) -> Option<&'static str> {
    let mut best: Option<(usize, &'static str)> = None;
    let mut cur = Some(ty);
    while let Some(t) = cur {
        let mut i = 0;
        while i < t.properties.len() {
            let candidate = t.properties[i].name;
            if let Some(s) = crate::text::suggest::score(name, candidate) {
                best = match best {
                    Some((b, _)) if b <= s => best,
                    _ => Some((s, candidate)),
                };
            }
            i += 1;
        }
        cur = t.parent;
    }
    match best {
        Some((_, name)) => Some(name),
        None => None,
    }
}
