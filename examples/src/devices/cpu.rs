//! An x86 CPU with feature flags, after QEMU's `target/i386/cpu.c`:
//! `-cpu host` takes every feature of the host it runs on; a named model
//! takes what is asked for, and refuses a feature the host lacks. The
//! guest-visible feature set is part of the migrated state and must match:
//! a guest that saw `stibp` on one host cannot continue on a host without
//! it. (QEMU leaves that check to management; the intersection rule
//! is how management passes it.)

use compat_core::Board;
use compat_core::{Device, VMState};

/// The feature names the model knows, in bit order.
pub const FEATURES: [&str; 6] = ["pcid", "stibp", "taa-no", "md-clear", "ssbd", "avx512f"];

/// `x86-cpu`.
#[derive(Debug, Clone, Device, VMState)]
#[device(name = "x86-cpu", vmstate, realize = X86Cpu::realize)]
#[vmstate(name = "cpu", version = 1)]
pub struct X86Cpu {
    /// `host` (the host's features) or a model name.
    #[property(name = "model", default = "base")]
    #[vmstate(skip)]
    pub model: String,
    /// Requested features.
    #[property(name = "pcid", bit = 0)]
    #[property(name = "stibp", bit = 1)]
    #[property(name = "taa-no", bit = 2)]
    #[property(name = "md-clear", bit = 3)]
    #[property(name = "ssbd", bit = 4)]
    #[property(name = "avx512f", bit = 5)]
    #[vmstate(skip)]
    pub requested: u32,
    /// The features the guest sees; both sides must agree.
    #[vmstate(name = "cpuid_features", must_match)]
    pub features: u32,
    /// Instruction pointer, as a stand-in for the register state.
    #[vmstate(name = "env.eip")]
    pub eip: u64,
}

/// The feature bits of `names`.
pub fn feature_bits(names: &[String]) -> u32 {
    FEATURES
        .iter()
        .enumerate()
        .filter(|(_, f)| names.iter().any(|n| n == *f))
        .fold(0, |bits, (i, _)| bits | 1 << i)
}

impl X86Cpu {
    /// Decide the guest-visible features.
    pub fn realize(&mut self, board: &Board<'_>) -> Result<(), String> {
        let host = feature_bits(board.host_features);
        if let Some((_, missing)) = FEATURES
            .iter()
            .enumerate()
            .find(|(i, _)| self.requested & !host & (1 << i) != 0)
        {
            return Err(format!(
                "host does not support requested feature '{missing}'"
            ));
        }
        self.features = match self.model.as_str() {
            "host" => host,
            "base" => self.requested,
            other => return Err(format!("unknown CPU model '{other}' (known: host, base)")),
        };
        self.eip = 0xfff0;
        Ok(())
    }

    /// The names of the guest-visible features.
    pub fn feature_names(&self) -> Vec<&'static str> {
        FEATURES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.features & (1 << i) != 0)
            .map(|(_, f)| *f)
            .collect()
    }
}
