// Keys that change only how a field is described, on fields they do not fit.
use compat_core::VMState;

#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    /// Only a byte array has elements to tell apart from a buffer.
    #[vmstate(elements)]
    words: [u16; 4],
    /// A check mask is a buffer's.
    #[vmstate(elements, must_match, mask = Dev::mask)]
    config: [u8; 4],
    /// A timer's expiry time is an i64.
    #[vmstate(timer)]
    deadline: u32,
}

impl Dev {
    fn mask(&self) -> &[u8] {
        &[0xff; 4]
    }
}

fn main() {}
