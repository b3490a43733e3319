//! `virtio-device` and `virtio-blk-device`, after QEMU's `hw/virtio/virtio.c`
//! and `hw/block/virtio-blk.c`.

use compat_derive::Device;

/// `num-queues` value meaning "one queue per vCPU" (QEMU's
/// `VIRTIO_BLK_AUTO_NUM_QUEUES`, the default since 5.2).
pub const VIRTIO_BLK_AUTO_NUM_QUEUES: u16 = u16::MAX;

/// The abstract parent of every virtio device: the feature bits common to
/// all transports.
#[derive(Debug, Device)]
#[device(name = "virtio-device", abstract)]
pub struct VirtioDevice {
    /// Feature bits offered to the guest.
    #[property(name = "indirect_desc", bit = 28, default = true)]
    #[property(name = "event_idx", bit = 29, default = true)]
    #[property(name = "any_layout", bit = 27, default = true)]
    pub host_features: u64,
}

/// A virtio block device.
#[derive(Debug, Device)]
#[device(name = "virtio-blk-device", parent = VirtioDevice)]
pub struct VirtioBlk {
    #[device(parent)]
    pub virtio: VirtioDevice,
    /// Number of request queues.
    #[property(name = "num-queues", default = VIRTIO_BLK_AUTO_NUM_QUEUES)]
    pub num_queues: u16,
    /// Size of each virtqueue.
    #[property(name = "queue-size", default = 256)]
    pub queue_size: u16,
    #[property(
        name = "request-merging",
        bit = 0,
        default = true,
        doc = "merge adjacent requests"
    )]
    #[property(
        name = "seg-max-adjust",
        bit = 1,
        default = true,
        doc = "adjust seg_max to the queue size"
    )]
    pub flags: u32,
    /// Disk serial number.
    #[property(name = "serial")]
    pub serial: String,
    /// Per-queue state, built at realize time from `num-queues`.
    pub queues: Vec<u16>,
}

impl VirtioBlk {
    /// The number of queues the device realizes for `vcpus` vCPUs: `auto`
    /// means one per vCPU.
    pub fn realized_num_queues(&self, vcpus: u16) -> u16 {
        if self.num_queues == VIRTIO_BLK_AUTO_NUM_QUEUES {
            vcpus.max(1)
        } else {
            self.num_queues
        }
    }
}
