//! VMState: versioned descriptions of migrated device state, and the
//! trait `#[derive(VMState)]` implements with straight-line save and load
//! code for each struct.

mod backups;
pub mod compare;
mod desc;
pub mod layout;
pub mod reading;
pub mod record;

pub(crate) mod derive_support;

pub use desc::{
    Element, FieldKind, ListKind, MapKey, Needed, Scalar, VmStateDescription, VmStateField,
};

/// The byte an empty slot of an array of nullable elements is on the wire
/// (QEMU's `VMS_NULLPTR_MARKER`, `'0'`).
pub const NULL_MARKER: u8 = 0x30;

/// The byte before a present element of an array of nullable elements
/// whose slots are all marked (QEMU's `VMS_MARKER_PTR_VALID`, `'1'`).
pub const VALID_MARKER: u8 = 0x31;
pub use backups::Backups;
pub(crate) use backups::TypeSlots;
pub use compare::{
    bound_changes, first_field_mismatch, subsection_pairs, version_refused, BoundChange, Compared,
    FieldMismatch, SubsectionPair, SubsectionReading, VersionRefused,
};
pub use layout::{FieldLayout, Layout, MustMatch};
pub use reading::{older_streams_only, reading, retired_alike, FieldShape, Reading};
pub use record::{FieldKindName, FieldRecord, StateRecord};

use std::any::Any;

use crate::codec::{LoadError, SaveError, StreamReader, StreamWriter};

/// A struct whose state migrates. `#[derive(VMState)]` implements it.
///
/// `Clone` because a load is transactional: it fills a copy, and the copy
/// replaces the device only when the whole stream has loaded.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no VMState",
    label = "not a VMState type",
    note = "derive it with #[derive(VMState)] and #[vmstate(name = \"...\", version = N)]"
)]
pub trait VMState: Clone + Send + 'static {
    /// The static description (for dumps and the checker).
    const DESCRIPTION: &'static VmStateDescription;

    /// Whether every value of the type has the same layout (no existence
    /// tests, variable arrays, lists, maps, nullable slots or subsections):
    /// then its description in a stream's trailer is written once and
    /// copied for each device of the type.
    const FIXED_LAYOUT: bool = false;

    /// Whether [`VMState::check_state`] checks a section without copying
    /// the state: true for a derived type whose every field can be checked
    /// so (no existence tests, check masks, variable arrays, lists, maps,
    /// nullable slots, views, subsections or load hooks).
    const CHECK_IN_PLACE: bool = false;

    /// Read a section as `load_state` would and fail exactly where it
    /// would, without changing the state: a stream can be checked whole
    /// before any device is written. By default, a load into a copy.
    fn check_state(&self, r: &mut StreamReader<'_>, version_id: u32) -> Result<(), LoadError> {
        self.clone().load_state(r, version_id)
    }

    /// Write the fields, then the needed subsections.
    fn save_state(&mut self, w: &mut StreamWriter) -> Result<(), SaveError>;

    /// Read the fields of stream version `version_id`, then subsections.
    fn load_state(&mut self, r: &mut StreamReader<'_>, version_id: u32) -> Result<(), LoadError>;

    /// The value's layout as it saves: the fields written with their sizes
    /// and counts, the subsections that are needed, the must-match values.
    fn layout(&self) -> Layout;
}

/// A boxed state is its state (QEMU's `VMSTATE_STRUCT_POINTER`: the
/// pointed-to struct inline; a `Box` is never null).
#[diagnostic::do_not_recommend]
impl<T: VMState> VMState for Box<T> {
    const DESCRIPTION: &'static VmStateDescription = T::DESCRIPTION;
    const FIXED_LAYOUT: bool = T::FIXED_LAYOUT;
    const CHECK_IN_PLACE: bool = T::CHECK_IN_PLACE;

    fn check_state(&self, r: &mut StreamReader<'_>, version_id: u32) -> Result<(), LoadError> {
        (**self).check_state(r, version_id)
    }

    fn save_state(&mut self, w: &mut StreamWriter) -> Result<(), SaveError> {
        (**self).save_state(w)
    }

    fn load_state(&mut self, r: &mut StreamReader<'_>, version_id: u32) -> Result<(), LoadError> {
        (**self).load_state(r, version_id)
    }

    fn layout(&self) -> Layout {
        (**self).layout()
    }
}

/// A temporary view of a struct's state (QEMU's `VMSTATE_WITH_TMP`): a
/// type with its own VMState, built from the parent before a save and
/// written back into it after a load. A field `#[vmstate(tmp = View)] _: ()`
/// puts the view's fields at that place in the parent's stream.
pub trait TmpView<Parent>: VMState + Default {
    /// The view of `parent`, to save (QEMU's `pre_save` of the temporary).
    fn from_parent(parent: &Parent) -> Self;
    /// Write the loaded view back into `parent` (QEMU's `post_load`).
    fn into_parent(self, parent: &mut Parent);
}

/// A must-match field's value as it goes on the wire, with the mask a
/// load compares it under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MustMatchValue {
    /// The field path.
    pub path: String,
    /// The bytes on the wire.
    pub bytes: Vec<u8>,
    /// Per-byte mask of the bits compared; `None` for all of them.
    pub mask: Option<Vec<u8>>,
}

/// The path of field `name` under `prefix`.
pub(crate) fn field_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A device state behind a pointer: what the stream saves and loads.
pub trait Migratable: Any + Send {
    /// The description.
    fn vmstate_description(&self) -> &'static VmStateDescription;
    /// Save the state.
    fn save(&mut self, w: &mut StreamWriter) -> Result<(), SaveError>;
    /// A copy of the state with the stream's section loaded into it; the
    /// state itself is untouched.
    fn load_copy(
        &self,
        r: &mut StreamReader<'_>,
        version_id: u32,
    ) -> Result<Box<dyn Migratable>, LoadError>;
    /// Load the stream's section into the state itself, keeping a copy of
    /// the state from before in `backups`; returns where, for
    /// [`Migratable::restore`]. On an error the state is as it was.
    fn load_in_place(
        &mut self,
        r: &mut StreamReader<'_>,
        version_id: u32,
        backups: &mut Backups,
    ) -> Result<usize, LoadError>;
    /// Put back the copy `load_in_place` kept at `index` of `backups`.
    fn restore(&mut self, backups: &mut Backups, index: usize);
    /// Whether [`Migratable::check`] reads a section without copying the
    /// state ([`VMState::CHECK_IN_PLACE`]).
    fn checks_in_place(&self) -> bool;
    /// Read a section as a load would, failing where it would, changing
    /// nothing ([`VMState::check_state`]).
    fn check(&self, r: &mut StreamReader<'_>, version_id: u32) -> Result<(), LoadError>;
    /// Load a section into the state itself, with no copy kept: for a
    /// section [`Migratable::check`] has passed.
    fn load(&mut self, r: &mut StreamReader<'_>, version_id: u32) -> Result<(), LoadError>;
    /// Replace the state with a loaded copy of the same type.
    fn commit(&mut self, loaded: Box<dyn Migratable>);
    /// The state's layout as it saves ([`VMState::layout`]).
    fn state_layout(&self) -> Layout;
    /// Whether every value of the state's type has one layout
    /// ([`VMState::FIXED_LAYOUT`]).
    fn fixed_layout(&self) -> bool;
    /// As `Any`, to downcast.
    fn as_any(&self) -> &dyn Any;
    /// As `Box<dyn Any>`.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<T: VMState> Migratable for T {
    fn vmstate_description(&self) -> &'static VmStateDescription {
        T::DESCRIPTION
    }

    fn save(&mut self, w: &mut StreamWriter) -> Result<(), SaveError> {
        self.save_state(w)
    }

    fn load_copy(
        &self,
        r: &mut StreamReader<'_>,
        version_id: u32,
    ) -> Result<Box<dyn Migratable>, LoadError> {
        let mut copy = self.clone();
        copy.load_state(r, version_id)?;
        Ok(Box::new(copy))
    }

    fn load_in_place(
        &mut self,
        r: &mut StreamReader<'_>,
        version_id: u32,
        backups: &mut Backups,
    ) -> Result<usize, LoadError> {
        let kept = backups.of::<T>();
        let index = kept.keep(self);
        match self.load_state(r, version_id) {
            Ok(()) => Ok(index),
            Err(e) => {
                *self = kept.pop().expect("the copy just kept");
                Err(e)
            }
        }
    }

    fn checks_in_place(&self) -> bool {
        T::CHECK_IN_PLACE
    }

    fn check(&self, r: &mut StreamReader<'_>, version_id: u32) -> Result<(), LoadError> {
        self.check_state(r, version_id)
    }

    fn load(&mut self, r: &mut StreamReader<'_>, version_id: u32) -> Result<(), LoadError> {
        self.load_state(r, version_id)
    }

    fn restore(&mut self, backups: &mut Backups, index: usize) {
        std::mem::swap(self, backups.of::<T>().get_mut(index));
    }

    fn commit(&mut self, loaded: Box<dyn Migratable>) {
        match loaded.into_any().downcast::<T>() {
            Ok(state) => *self = *state,
            Err(_) => unreachable!("a loaded copy has the type of the state it was copied from"),
        }
    }

    fn state_layout(&self) -> Layout {
        VMState::layout(self)
    }

    fn fixed_layout(&self) -> bool {
        T::FIXED_LAYOUT
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// Where two must-match byte strings differ in compared bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Difference {
    /// The byte's index.
    pub index: usize,
    /// The incoming (source's) byte.
    pub incoming: u8,
    /// The destination's own byte.
    pub ours: u8,
    /// The bits compared in that byte.
    pub mask: u8,
}

/// The first byte where `incoming` and `ours` differ in a bit `mask`
/// compares (all bits when `None`; bytes past the mask are not compared):
/// the one comparison a load and the checker both make.
pub fn first_difference(incoming: &[u8], ours: &[u8], mask: Option<&[u8]>) -> Option<Difference> {
    // The common case, equal bytes, is one memcmp; the mask matters only
    // where they differ.
    if incoming == ours {
        return None;
    }
    incoming
        .iter()
        .zip(ours)
        .enumerate()
        .find_map(|(index, (&a, &b))| {
            let m = mask.map_or(0xff, |m| m.get(index).copied().unwrap_or(0));
            ((a ^ b) & m != 0).then_some(Difference {
                index,
                incoming: a,
                ours: b,
                mask: m,
            })
        })
}
