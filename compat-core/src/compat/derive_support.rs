//! The compile-time checks `compat_set!` generates: an entry naming a Rust
//! device type is checked in `const` evaluation, saying what the release
//! build's [`check_entry`](super::check_entry) would. Reachable from
//! outside only through the crate's hidden `__private` module.

use crate::device::derive_support::{chain_is_erroneous, push_did_you_mean};
use crate::device::{find_in_chain, DeviceTypeInfo};
use crate::text::ConstMsg;

/// The compile-time half of [`check_entry`](super::check_entry), for an
/// entry whose type is a Rust type: `compat_set!` evaluates it in a
/// `const`, so a missing property is a compile error that says what the
/// build-time check would.
pub const fn check_compat_property(
    set: &str,
    ty: &'static DeviceTypeInfo,
    property: &str,
    value: &str,
) {
    if find_in_chain(ty, property).is_some() || chain_is_erroneous(ty) {
        return;
    }
    let mut msg = ConstMsg::<1024>::new();
    entry_prefix(&mut msg, set, ty.name, property, value);
    msg.push("' not found");
    push_did_you_mean(&mut msg, ty, property, "; did you mean '", "'?");
    panic!("{}", msg.as_str());
}

/// The value half of the compile-time check: the value parses with the
/// property's kind. (A missing property is `check_compat_property`'s to
/// report.)
pub const fn check_compat_value(
    set: &str,
    ty: &'static DeviceTypeInfo,
    property: &str,
    value: &str,
) {
    let Some(def) = find_in_chain(ty, property) else {
        return;
    };
    if def.kind.accepts_text(value) || chain_is_erroneous(ty) {
        return;
    }
    let mut msg = ConstMsg::<1024>::new();
    entry_prefix(&mut msg, set, ty.name, property, value);
    msg.push("' doesn't take value '");
    msg.push(value);
    msg.push("': expects ");
    def.kind.write_expects(&mut msg);
    panic!("{}", msg.as_str());
}

/// `compat set 'S', entry {D, P, V}: Property 'D.P`: how both compile-time
/// messages start, as `check_entry`'s runtime errors do.
const fn entry_prefix<const N: usize>(
    msg: &mut ConstMsg<N>,
    set: &str,
    driver: &str,
    property: &str,
    value: &str,
) {
    msg.push("compat set '");
    msg.push(set);
    msg.push("', entry {");
    msg.push(driver);
    msg.push(", ");
    msg.push(property);
    msg.push(", ");
    msg.push(value);
    msg.push("}: Property '");
    msg.push(driver);
    msg.push(".");
    msg.push(property);
}
