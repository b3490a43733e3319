use compat_core::VMState;

#[derive(Clone, VMState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    ratio: f64,
    name: String,
    maybe: Option<u32>,
    table: Vec<String>,
}

fn main() {}
