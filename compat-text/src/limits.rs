//! Bounds that the derives check at compile time and the runtime obeys on
//! load, so that a length a stream announces never decides an allocation
//! beyond them.

/// The most elements one array, list or map may hold when its length comes
/// from a stream: the ceiling of a declared `max = N`, and of an array
/// length in a stream's description. 16,777,216 is far above any array
/// QEMU migrates (the largest, e1000e's MAC registers, has 32,768).
pub const MAX_ELEMENTS: usize = 1 << 24;
