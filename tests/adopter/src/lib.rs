//! A device crate as an adopter writes one: `compat-core` is its only
//! dependency, the derives and `compat_set!` come from it, and one device
//! is declared through a re-export of the runtime under another path
//! (`crate = "..."`).

use compat_core::{compat_set, Board, Device, RealizeError, VMState};

/// The runtime as a VMM's own crate might re-export it.
pub mod vmm {
    pub use compat_core as compat;
}

/// A watchdog timer, release 1.0: no pre-timeout.
#[derive(Clone, Device, VMState)]
#[device(name = "wdt", vmstate)]
#[vmstate(name = "wdt", version = 1)]
pub struct Wdt10 {
    /// Seconds before the watchdog fires.
    #[property(name = "timeout", default = 30)]
    pub timeout: u32,
    /// The counter.
    pub counter: u32,
}

/// The watchdog of release 2.0: an optional pre-timeout interrupt, its
/// state in a subsection sent only when it is on.
#[derive(Clone, Device, VMState)]
#[device(name = "wdt", vmstate, realize = Wdt20::realize, crate = "crate::vmm::compat")]
#[vmstate(name = "wdt", version = 1, crate = "crate::vmm::compat")]
pub struct Wdt20 {
    /// Seconds before the watchdog fires.
    #[property(name = "timeout", default = 30)]
    pub timeout: u32,
    /// Raise an interrupt before firing (new in 2.0).
    #[property(name = "pretimeout", default = true)]
    pub pretimeout: bool,
    /// The counter.
    pub counter: u32,
    /// The pre-timeout state.
    #[vmstate(subsection, needed = Wdt20::pretimeout_needed)]
    pub pre: PreTimeout,
}

/// The subsection 2.0 adds.
#[derive(Clone, Default, VMState)]
#[vmstate(name = "wdt/pretimeout", version = 1)]
pub struct PreTimeout {
    /// Seconds before the timeout at which the interrupt fires.
    pub lead: u32,
}

impl Wdt20 {
    fn realize(&mut self, board: &Board<'_>) -> Result<(), RealizeError> {
        if board.smp == 0 {
            return Err(RealizeError::new("no vCPU to interrupt"));
        }
        self.pre.lead = if self.pretimeout { 5 } else { 0 };
        Ok(())
    }

    fn pretimeout_needed(&self) -> bool {
        self.pretimeout
    }
}

compat_set! {
    crate = "crate::vmm::compat";
    /// What 2.0 changed, undone for machine types of 1.0.
    pub WDT_COMPAT_1_0 = "wdt_compat_1_0" [
        { Wdt20, "pretimeout", false },
    ];
}
