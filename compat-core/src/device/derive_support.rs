//! What the code `#[derive(Device)]` generates calls; reachable from
//! outside only through the crate's hidden `__private` module.

use super::{find_in_chain, DeviceTypeInfo};

/// Const-evaluable check that the chain starting at `ty` declares a property
/// `name`; `#[derive(Device)]` uses it to reject, at compile time, a property
/// that clashes with an inherited one.
pub const fn chain_declares(ty: &'static DeviceTypeInfo, name: &str) -> bool {
    find_in_chain(ty, name).is_some()
}

/// Const-evaluable check of `#[device(inert = "...")]`: `name` is a
/// property of `ty`'s chain, else a compile error naming it (and the closest
/// property, if one is close).
pub const fn check_inert_property(ty: &'static DeviceTypeInfo, name: &str) {
    if find_in_chain(ty, name).is_some() || chain_is_erroneous(ty) {
        return;
    }
    let mut msg = crate::text::ConstMsg::<512>::new();
    msg.push("`inert` names '");
    msg.push(name);
    msg.push("', which is no property of device type '");
    msg.push(ty.name);
    msg.push("' or its ancestors");
    push_did_you_mean(&mut msg, ty, name, "; did you mean '", "'?");
    panic!("{}", msg.as_str());
}

/// Append `before`, the property along `ty`'s chain closest to the
/// misspelt `name`, and `after` — when one is close enough.
pub(crate) const fn push_did_you_mean<const N: usize>(
    msg: &mut crate::text::ConstMsg<N>,
    ty: &'static DeviceTypeInfo,
    name: &str,
    before: &str,
    after: &str,
) {
    if let Some(close) = closest_in_chain(ty, name) {
        msg.push(before);
        msg.push(close);
        msg.push(after);
    }
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

/// Whether `ty` or an ancestor is the derive's stand-in for a declaration
/// with mistakes: those are reported already, and a compat-set entry or a
/// gate naming the type is not a second mistake.
pub(crate) const fn chain_is_erroneous(ty: &'static DeviceTypeInfo) -> bool {
    let mut cur = Some(ty);
    while let Some(t) = cur {
        if t.erroneous {
            return true;
        }
        cur = t.parent;
    }
    false
}

/// Const-evaluable check that `gate`, the property that gates a subsection
/// of `ty`'s state, is a bool property along `ty`'s chain: any other name
/// would leave the subsection never sent, silently.
pub const fn check_gate(ty: &'static DeviceTypeInfo, gate: &str) {
    if chain_is_erroneous(ty) {
        return;
    }
    let mut msg = crate::text::ConstMsg::<512>::new();
    match find_in_chain(ty, gate) {
        Some(def) => match def.kind {
            crate::property::PropertyKind::Bool | crate::property::PropertyKind::Bit { .. } => {
                return
            }
            _ => {
                msg.push("the gate of a subsection must be a bool property; '");
                msg.push(gate);
                msg.push("' of device type '");
                msg.push(ty.name);
                msg.push("' is not");
            }
        },
        None => {
            msg.push("device type '");
            msg.push(ty.name);
            msg.push("' has no property '");
            msg.push(gate);
            msg.push("' to gate a subsection");
            push_did_you_mean(&mut msg, ty, gate, " (did you mean '", "'?)");
        }
    }
    panic!("{}", msg.as_str());
}
