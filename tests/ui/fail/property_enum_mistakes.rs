use compat_core::PropertyEnum;

#[derive(Clone, Copy, PropertyEnum)]
struct NotAnEnum {}

#[derive(Clone, Copy, PropertyEnum)]
#[property_enum(nmae = "Policy")]
enum Policy {
    Discard,
    Delay(u32),
    #[property_enum(name = "discard")]
    Drop,
    #[property_enum(name = "a,b")]
    Comma,
}

#[derive(Clone, Copy, PropertyEnum)]
enum Empty {}

fn main() {}
