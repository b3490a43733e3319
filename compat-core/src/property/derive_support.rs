//! What the code `#[derive(Device)]` generates calls; reachable from
//! outside only through the crate's hidden `__private` module.

/// An unsigned integer field that holds bit properties (`DEFINE_PROP_BIT`).
pub trait BitField: Copy {
    /// Width in bits.
    const WIDTH: u8;
    /// Whether bit `n` is set.
    fn bit(self, n: u8) -> bool;
    /// `self` with bit `n` set to `on`.
    fn with_bit(self, n: u8, on: bool) -> Self;
}

macro_rules! bit_field {
    ($($ty:ty),*) => {$(
        impl BitField for $ty {
            const WIDTH: u8 = <$ty>::BITS as u8;
            fn bit(self, n: u8) -> bool {
                self >> n & 1 == 1
            }
            fn with_bit(self, n: u8, on: bool) -> Self {
                if on { self | (1 << n) } else { self & !(1 << n) }
            }
        }
    )*};
}
bit_field!(u8, u16, u32, u64);
