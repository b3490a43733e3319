//! An x86 CPU with feature flags, after QEMU's `target/i386/cpu.c`:
//! `-cpu host` takes every feature of the host it runs on; a named model
//! takes what is asked for, and refuses a feature the host lacks. The
//! guest-visible feature set is part of the migrated state and must match:
//! a guest that saw `stibp` on one host cannot continue on a host without
//! it. (QEMU leaves that check to management; the intersection rule
//! is how management passes it.)

use compat_core::Board;
use compat_core::{Device, OnOffAuto, VMState};

/// The feature names the model knows, in bit order.
pub const FEATURES: [&str; 6] = ["pcid", "stibp", "taa-no", "md-clear", "ssbd", "avx512f"];

/// `x86-cpu`.
#[derive(Debug, Clone, Device, VMState)]
#[device(name = "x86-cpu", vmstate, realize = X86Cpu::realize)]
#[vmstate(name = "cpu", version = 1)]
pub struct X86Cpu {
    /// `host` (the host's features) or a model name.
    #[property(name = "model", default = "base", local)]
    #[vmstate(skip)]
    pub model: String,
    /// Each feature: `on` requires it, `off` hides it, `auto` (the
    /// default) gives what the model gives — the host's own for `host`,
    /// none for `base`. A host's setting (`local`): what the guest sees is
    /// `features`, compared on its own.
    #[property(name = "pcid", local)]
    #[vmstate(skip)]
    pub pcid: OnOffAuto,
    /// See `pcid`.
    #[property(name = "stibp", local)]
    #[vmstate(skip)]
    pub stibp: OnOffAuto,
    /// See `pcid`.
    #[property(name = "taa-no", local)]
    #[vmstate(skip)]
    pub taa_no: OnOffAuto,
    /// See `pcid`.
    #[property(name = "md-clear", local)]
    #[vmstate(skip)]
    pub md_clear: OnOffAuto,
    /// See `pcid`.
    #[property(name = "ssbd", local)]
    #[vmstate(skip)]
    pub ssbd: OnOffAuto,
    /// See `pcid`.
    #[property(name = "avx512f", local)]
    #[vmstate(skip)]
    pub avx512f: OnOffAuto,
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
    /// Each feature's setting, in [`FEATURES`] order.
    fn settings(&self) -> [OnOffAuto; 6] {
        [
            self.pcid,
            self.stibp,
            self.taa_no,
            self.md_clear,
            self.ssbd,
            self.avx512f,
        ]
    }

    /// Decide the guest-visible features.
    pub fn realize(&mut self, board: &Board<'_>) -> Result<(), String> {
        let host = feature_bits(board.host_features);
        let from_model = match self.model.as_str() {
            "host" => host,
            "base" => 0,
            other => return Err(format!("unknown CPU model '{other}' (known: host, base)")),
        };
        let mut features = 0;
        for (i, (name, setting)) in FEATURES.iter().zip(self.settings()).enumerate() {
            let bit = 1 << i;
            let on = match setting {
                OnOffAuto::On if host & bit == 0 => {
                    return Err(format!("host does not support requested feature '{name}'"))
                }
                OnOffAuto::On => true,
                OnOffAuto::Off => false,
                OnOffAuto::Auto => from_model & bit != 0,
            };
            if on {
                features |= bit;
            }
        }
        self.features = features;
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
