//! `virtio-device` and `virtio-blk-device`, after QEMU's `hw/virtio/virtio.c`
//! and `hw/block/virtio-blk.c`.

use compat_core::Board;
use compat_core::{Device, VMState};

/// `num-queues` value meaning "one queue per vCPU" (QEMU's
/// `VIRTIO_BLK_AUTO_NUM_QUEUES`, the default since 5.2).
pub const VIRTIO_BLK_AUTO_NUM_QUEUES: u16 = u16::MAX;

/// The most queues a virtio device has (QEMU's `VIRTIO_QUEUE_MAX`): the
/// bound of the per-queue state in the stream.
pub const VIRTIO_QUEUE_MAX: u16 = 1024;

/// The queues a virtio block device with `num-queues` set to `num_queues`
/// creates with `vcpus` vCPUs: `auto` is one per vCPU. Refuses none, and
/// more than a stream carries (a stream no release could load).
pub fn realize_queues(num_queues: u16, vcpus: u16) -> Result<u16, String> {
    if num_queues == VIRTIO_BLK_AUTO_NUM_QUEUES {
        return Ok(vcpus.clamp(1, VIRTIO_QUEUE_MAX));
    }
    if num_queues == 0 {
        return Err("num-queues property must be larger than 0".into());
    }
    if num_queues > VIRTIO_QUEUE_MAX {
        return Err(format!("num-queues property must be <= {VIRTIO_QUEUE_MAX}"));
    }
    Ok(num_queues)
}

/// The abstract parent of every virtio device: the feature bits common to
/// all transports.
#[derive(Debug, Clone, Device)]
#[device(name = "virtio-device", abstract)]
pub struct VirtioDevice {
    /// Feature bits offered to the guest.
    #[property(name = "indirect_desc", bit = 28, default = true)]
    #[property(name = "event_idx", bit = 29, default = true)]
    #[property(name = "any_layout", bit = 27, default = true)]
    pub host_features: u64,
}

/// Declares a `virtio-blk-device` whose `num-queues` defaults to
/// `$default`: the release-to-release difference of the example.
macro_rules! virtio_blk {
    ($(#[$doc:meta])* $name:ident, default = $default:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Device, VMState)]
        #[device(name = "virtio-blk-device", parent = VirtioDevice, vmstate, realize = $name::realize)]
        #[vmstate(name = "virtio-blk", version = 2, minimum_version = 2)]
        pub struct $name {
            #[device(parent)]
            #[vmstate(skip)]
            pub virtio: VirtioDevice,
            /// Number of request queues.
            #[property(name = "num-queues", default = $default)]
            #[vmstate(skip)]
            pub num_queues: u16,
            /// Size of each virtqueue.
            #[property(name = "queue-size", default = 256)]
            #[vmstate(skip)]
            pub queue_size: u16,
            #[property(name = "request-merging", bit = 0, default = true, doc = "merge adjacent requests")]
            #[property(name = "seg-max-adjust", bit = 1, default = true, doc = "adjust seg_max to the queue size")]
            #[vmstate(skip)]
            pub flags: u32,
            /// Disk serial number.
            #[property(name = "serial")]
            #[vmstate(skip)]
            pub serial: String,
            /// The queues realized: both sides must have as many.
            #[vmstate(name = "num_queues", must_match)]
            pub queues: u16,
            /// Per-queue state: the last available index of each queue.
            #[vmstate(name = "last_avail_idx", len = queues, max = 1024)]
            pub last_avail: Vec<u16>,
        }

        impl $name {
            /// The number of queues the device realizes with `vcpus` vCPUs:
            /// `auto` means one per vCPU, up to the queue maximum.
            pub fn realized_num_queues(&self, vcpus: u16) -> u16 {
                realize_queues(self.num_queues, vcpus).unwrap_or(self.num_queues)
            }

            /// Create the queues.
            pub fn realize(&mut self, board: &Board<'_>) -> Result<(), String> {
                self.queues = realize_queues(self.num_queues, board.smp)?;
                // As in QEMU, the property reads back the queues realized.
                self.num_queues = self.queues;
                // Some guest activity, so the per-queue state is not all zeros.
                self.last_avail = (1..=self.queues).collect();
                Ok(())
            }
        }
    };
}

virtio_blk!(
    /// A virtio block device since 5.2: one queue per vCPU by default.
    VirtioBlk,
    default = VIRTIO_BLK_AUTO_NUM_QUEUES
);

virtio_blk!(
    /// A virtio block device up to 5.1: one queue by default.
    VirtioBlk51,
    default = 1
);
