use compat_core::OnOffAuto;
use compat_core::Device;

const QUEUES: i32 = 4;

// Defaults that are not literals are checked by the type checker, at the
// user's expression.
#[derive(Device)]
#[device(name = "x-dev")]
struct X {
    #[property(name = "num-queues", default = QUEUES)]
    num_queues: u16,
    #[property(name = "mode", default = OnOffAuto::Yes)]
    mode: OnOffAuto,
}

fn main() {}
