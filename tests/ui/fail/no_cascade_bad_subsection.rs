// One mistake, one error: a subsection's own mistake is reported once, and
// the parent naming it as a subsection adds nothing.
use compat_core::VMState;

#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev/extra", version = 1)]
struct Extra {
    #[vmstate(since = 2)]
    x: u32,
}

#[derive(Clone, Default, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    a: u32,
    #[vmstate(subsection, needed = Dev::extra_needed)]
    extra: Extra,
}

impl Dev {
    fn extra_needed(&self) -> bool {
        true
    }
}

fn main() {}
