//! The static description of a VMState (QEMU's `VMStateDescription`):
//! what `-dump-vmstate` prints and the static checker compares. The
//! generated save/load code does not read it; it is emitted from the same
//! attributes.

/// A scalar on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// `bool`: one byte.
    Bool,
    /// `uint8`.
    U8,
    /// `uint16`.
    U16,
    /// `uint32`.
    U32,
    /// `uint64`.
    U64,
    /// `int8`.
    I8,
    /// `int16`.
    I16,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
}

impl Scalar {
    /// Bytes on the wire.
    pub const fn size(self) -> usize {
        match self {
            Scalar::Bool | Scalar::U8 | Scalar::I8 => 1,
            Scalar::U16 | Scalar::I16 => 2,
            Scalar::U32 | Scalar::I32 => 4,
            Scalar::U64 | Scalar::I64 => 8,
        }
    }

    /// QEMU's `VMStateInfo` name (`uint32`), as vmdesc and analyze use it;
    /// a must-match field adds ` equal`, as QEMU's `_EQUAL` infos.
    pub const fn info_name(self, must_match: bool) -> &'static str {
        match (self, must_match) {
            (Scalar::Bool, _) => "bool",
            (Scalar::U8, false) => "uint8",
            (Scalar::U8, true) => "uint8 equal",
            (Scalar::U16, false) => "uint16",
            (Scalar::U16, true) => "uint16 equal",
            (Scalar::U32, false) => "uint32",
            (Scalar::U32, true) => "uint32 equal",
            (Scalar::U64, false) => "uint64",
            (Scalar::U64, true) => "uint64 equal",
            (Scalar::I8, _) => "int8",
            (Scalar::I16, _) => "int16",
            (Scalar::I32, false) => "int32",
            (Scalar::I32, true) => "int32 equal",
            (Scalar::I64, false) => "int64",
            (Scalar::I64, true) => "int64 equal",
        }
    }
}

/// What a field holds on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// One scalar.
    Scalar(Scalar),
    /// A fixed array of scalars.
    Array {
        /// Element kind.
        elem: Scalar,
        /// Element count.
        len: usize,
    },
    /// A fixed byte buffer.
    Buffer {
        /// Bytes.
        len: usize,
    },
    /// A variable array whose length is another field, read before it.
    VarArray {
        /// Element kind.
        elem: Scalar,
        /// The length field.
        len_field: &'static str,
        /// The declared maximum length.
        max: usize,
    },
    /// A nested VMState.
    Struct(&'static VmStateDescription),
    /// A fixed array of nested VMStates (QEMU's `VMSTATE_STRUCT_ARRAY`):
    /// the elements one after another.
    StructArray {
        /// The elements' description.
        elem: &'static VmStateDescription,
        /// Elements.
        len: usize,
    },
    /// A variable array of nested VMStates (QEMU's
    /// `VMSTATE_STRUCT_VARRAY_*`): as many elements as another field, read
    /// before it, says, one after another.
    StructVarArray {
        /// The elements' description.
        elem: &'static VmStateDescription,
        /// The length field.
        len_field: &'static str,
        /// The declared maximum length.
        max: usize,
    },
    /// A fixed array whose slots may be empty (QEMU's
    /// `VMSTATE_ARRAY_OF_POINTER[_TO_STRUCT]`): an empty slot is the byte
    /// 0x30 on the wire, a present one its element; which slots are empty
    /// is the destination's to say.
    NullableArray {
        /// What a present slot holds.
        elem: Element,
        /// Slots.
        len: usize,
        /// Every slot starts with a marker — 0x31 before an element, 0x30
        /// for an empty slot — and the stream decides which slots a load
        /// fills (QEMU's `VMS_ARRAY_OF_POINTER_AUTO_ALLOC`).
        alloc: bool,
    },
    /// A list of structs (QEMU's `QTAILQ` and `QLIST`): each element
    /// preceded by a presence byte 0x01, the list ended by 0x00.
    List {
        /// The elements' description.
        elem: &'static VmStateDescription,
        /// The most elements a load accepts.
        max: usize,
        /// Which of QEMU's names it has.
        kind: ListKind,
    },
    /// A map (QEMU's `GTree`): a node count, then per node 0x01, the key
    /// and the value, in ascending key order, then 0x00.
    Map {
        /// The key.
        key: MapKey,
        /// The values' description.
        value: &'static VmStateDescription,
        /// The most entries a load accepts.
        max: usize,
    },
    /// A temporary view's fields (QEMU's `VMSTATE_WITH_TMP`).
    Tmp(&'static VmStateDescription),
    /// Unused bytes: zeros on save, skipped on load.
    Unused {
        /// Bytes.
        size: usize,
    },
}

impl FieldKind {
    /// The description nested in the field: a struct, the elements of an
    /// array of structs, a list's or map's values, a view.
    pub const fn nested(&self) -> Option<&'static VmStateDescription> {
        match *self {
            FieldKind::Struct(d)
            | FieldKind::StructArray { elem: d, .. }
            | FieldKind::StructVarArray { elem: d, .. }
            | FieldKind::NullableArray {
                elem: Element::Struct(d),
                ..
            }
            | FieldKind::List { elem: d, .. }
            | FieldKind::Map { value: d, .. }
            | FieldKind::Tmp(d) => Some(d),
            FieldKind::Scalar(_)
            | FieldKind::Array { .. }
            | FieldKind::Buffer { .. }
            | FieldKind::VarArray { .. }
            | FieldKind::NullableArray {
                elem: Element::Scalar(_),
                ..
            }
            | FieldKind::Unused { .. } => None,
        }
    }

    /// The fixed element count of an array (of scalars, structs or
    /// nullable slots); `None` for one value, a buffer and every kind
    /// whose length the stream or another field gives.
    pub const fn count(&self) -> Option<usize> {
        match *self {
            FieldKind::Array { len, .. }
            | FieldKind::StructArray { len, .. }
            | FieldKind::NullableArray { len, .. } => Some(len),
            FieldKind::Scalar(_)
            | FieldKind::Buffer { .. }
            | FieldKind::VarArray { .. }
            | FieldKind::Struct(_)
            | FieldKind::StructVarArray { .. }
            | FieldKind::List { .. }
            | FieldKind::Map { .. }
            | FieldKind::Tmp(_)
            | FieldKind::Unused { .. } => None,
        }
    }

    /// The most elements a load accepts, for the kinds whose length
    /// another field (a variable array) or the stream itself (a list, a
    /// map) gives.
    pub const fn bound(&self) -> Option<usize> {
        match *self {
            FieldKind::VarArray { max, .. }
            | FieldKind::StructVarArray { max, .. }
            | FieldKind::List { max, .. }
            | FieldKind::Map { max, .. } => Some(max),
            FieldKind::Scalar(_)
            | FieldKind::Array { .. }
            | FieldKind::Buffer { .. }
            | FieldKind::Struct(_)
            | FieldKind::StructArray { .. }
            | FieldKind::NullableArray { .. }
            | FieldKind::Tmp(_)
            | FieldKind::Unused { .. } => None,
        }
    }

    /// The field holding a variable array's length.
    pub const fn len_field(&self) -> Option<&'static str> {
        match *self {
            FieldKind::VarArray { len_field, .. } | FieldKind::StructVarArray { len_field, .. } => {
                Some(len_field)
            }
            FieldKind::Scalar(_)
            | FieldKind::Array { .. }
            | FieldKind::Buffer { .. }
            | FieldKind::Struct(_)
            | FieldKind::StructArray { .. }
            | FieldKind::NullableArray { .. }
            | FieldKind::List { .. }
            | FieldKind::Map { .. }
            | FieldKind::Tmp(_)
            | FieldKind::Unused { .. } => None,
        }
    }

    /// Whether the stream itself says how many elements a load reads: a
    /// list, a map, an array whose every slot is marked. A load takes
    /// whatever count the source sends, up to the bound.
    pub const fn counted_by_stream(&self) -> bool {
        match *self {
            FieldKind::List { .. } | FieldKind::Map { .. } => true,
            FieldKind::NullableArray { alloc, .. } => alloc,
            FieldKind::Scalar(_)
            | FieldKind::Array { .. }
            | FieldKind::Buffer { .. }
            | FieldKind::VarArray { .. }
            | FieldKind::Struct(_)
            | FieldKind::StructArray { .. }
            | FieldKind::StructVarArray { .. }
            | FieldKind::Tmp(_)
            | FieldKind::Unused { .. } => false,
        }
    }
}

/// Which of QEMU's list encodings a list field uses: the same bytes, a
/// different name in descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `VMSTATE_QTAILQ_V`.
    QTailQ,
    /// `VMSTATE_QLIST_V`.
    QList,
}

impl ListKind {
    /// The name descriptions give it.
    pub const fn info_name(self) -> &'static str {
        match self {
            ListKind::QTailQ => "qtailq",
            ListKind::QList => "qlist",
        }
    }
}

/// The key of a map field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKey {
    /// A `u64` written as itself (`VMSTATE_GTREE_DIRECT_KEY_V`).
    Direct,
    /// A struct with its own VMState (`VMSTATE_GTREE_V`).
    Struct(&'static VmStateDescription),
}

/// When a subsection is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needed {
    /// The `needed` function, as written (`Uart::timeout_pending`).
    pub function: &'static str,
    /// A bool property without which the subsection is never sent (`gate =
    /// "..."`): on a machine type where it is off, an older release that
    /// lacks the subsection loads every state.
    pub gate: Option<&'static str>,
}

/// What one element of an array of nullable elements is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// A scalar.
    Scalar(Scalar),
    /// A nested VMState.
    Struct(&'static VmStateDescription),
}

/// One field of a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmStateField {
    /// The field's name.
    pub name: &'static str,
    /// What it holds.
    pub kind: FieldKind,
    /// The version that added it: sent and read only for stream versions
    /// at or above it.
    pub version_id: u32,
    /// Whether an `exists` test decides instead of the version.
    pub has_exists_test: bool,
    /// Whether a load compares it with the destination's own value.
    pub must_match: bool,
}

impl VmStateField {
    /// Element size on the wire (for arrays, of one element; for structs
    /// and unused bytes, their whole size).
    pub fn element_size(&self) -> usize {
        match self.kind {
            FieldKind::Scalar(s)
            | FieldKind::Array { elem: s, .. }
            | FieldKind::VarArray { elem: s, .. } => s.size(),
            FieldKind::Buffer { len } => len,
            FieldKind::Struct(d)
            | FieldKind::NullableArray {
                elem: Element::Struct(d),
                ..
            } => d.static_size().unwrap_or(0),
            FieldKind::NullableArray {
                elem: Element::Scalar(s),
                ..
            } => s.size(),
            FieldKind::List { elem: d, .. }
            | FieldKind::Map { value: d, .. }
            | FieldKind::StructArray { elem: d, .. }
            | FieldKind::StructVarArray { elem: d, .. }
            | FieldKind::Tmp(d) => d.static_size().unwrap_or(0),
            FieldKind::Unused { size } => size,
        }
    }
}

/// A versioned description of a device's migrated state.
#[derive(Debug, PartialEq, Eq)]
pub struct VmStateDescription {
    /// The name (`pcie-root-port`, `PCIDevice`, `e1000e/timadj`).
    pub name: &'static str,
    /// The version saved.
    pub version_id: u32,
    /// The oldest version loaded.
    pub minimum_version_id: u32,
    /// The fields, in wire order.
    pub fields: &'static [VmStateField],
    /// The subsections, each sent after the fields when its `needed` test
    /// is true.
    pub subsections: &'static [&'static VmStateDescription],
    /// When each subsection is needed, in the order of `subsections`.
    pub needs: &'static [Needed],
    /// The derive found mistakes in the declaration and reported them:
    /// this is a stand-in, and compile-time checks against it stay silent,
    /// so one mistake gives one error.
    #[doc(hidden)]
    pub erroneous: bool,
}

impl VmStateDescription {
    /// Whether an array of this struct may be described by its first
    /// element and a count (QEMU's `vmsd_can_compress`): no subsections, no
    /// field with an `exists` test, and nested structs likewise.
    pub const fn can_compress(&self) -> bool {
        if !self.subsections.is_empty() {
            return false;
        }
        let mut i = 0;
        while i < self.fields.len() {
            let f = &self.fields[i];
            if f.has_exists_test {
                return false;
            }
            // Nested structs and fixed or variable arrays of them are
            // followed; what else holds a description decides nothing here.
            let followed = match f.kind {
                FieldKind::Struct(d)
                | FieldKind::StructArray { elem: d, .. }
                | FieldKind::StructVarArray { elem: d, .. } => Some(d),
                FieldKind::Scalar(_)
                | FieldKind::Array { .. }
                | FieldKind::Buffer { .. }
                | FieldKind::VarArray { .. }
                | FieldKind::NullableArray { .. }
                | FieldKind::List { .. }
                | FieldKind::Map { .. }
                | FieldKind::Tmp(_)
                | FieldKind::Unused { .. } => None,
            };
            if let Some(d) = followed {
                if !d.can_compress() {
                    return false;
                }
            }
            i += 1;
        }
        true
    }

    /// The size of the fields when it does not depend on the value (no
    /// variable arrays, no `exists` tests, no subsections).
    pub fn static_size(&self) -> Option<usize> {
        if !self.subsections.is_empty() {
            return None;
        }
        let mut total = 0;
        for f in self.fields {
            if f.has_exists_test {
                return None;
            }
            total += match f.kind {
                FieldKind::Array { elem, len } => elem.size() * len,
                FieldKind::VarArray { .. }
                | FieldKind::StructVarArray { .. }
                | FieldKind::NullableArray { .. }
                | FieldKind::List { .. }
                | FieldKind::Map { .. } => return None,
                FieldKind::Struct(d) | FieldKind::Tmp(d) => d.static_size()?,
                FieldKind::StructArray { elem, len } => elem.static_size()? * len,
                FieldKind::Scalar(_) | FieldKind::Buffer { .. } | FieldKind::Unused { .. } => {
                    f.element_size()
                }
            };
        }
        Some(total)
    }

    /// The subsection called `name`.
    pub fn subsection(&self, name: &str) -> Option<&'static VmStateDescription> {
        self.subsections.iter().copied().find(|s| s.name == name)
    }

    /// When the subsection called `name` is needed.
    pub fn needed(&self, name: &str) -> Option<Needed> {
        let i = self.subsections.iter().position(|s| s.name == name)?;
        self.needs.get(i).copied()
    }
}

/// Const check the derive runs for subsection `index` of `desc`: its name
/// starts with the parent's name and a `/` (QEMU's load loop stops at a
/// subsection whose name does not, so another name could never be read
/// back), and no earlier subsection has the same name.
#[doc(hidden)]
pub const fn check_subsection(desc: &VmStateDescription, index: usize) {
    let subs = desc.subsections;
    if desc.erroneous || subs[index].erroneous {
        return;
    }
    let name = subs[index].name.as_bytes();
    let parent = desc.name.as_bytes();
    let mut prefixed = name.len() > parent.len() + 1 && name[parent.len()] == b'/';
    let mut k = 0;
    while prefixed && k < parent.len() {
        prefixed = name[k] == parent[k];
        k += 1;
    }
    if !prefixed {
        let mut msg = crate::text::ConstMsg::<512>::new();
        msg.push("subsection '");
        msg.push(subs[index].name);
        msg.push("' of '");
        msg.push(desc.name);
        msg.push("' must be named '");
        msg.push(desc.name);
        msg.push("/...': a destination stops reading subsections at any other name");
        panic!("{}", msg.as_str());
    }
    let mut j = 0;
    while j < index {
        if crate::text::str_eq(subs[j].name, subs[index].name) {
            let mut msg = crate::text::ConstMsg::<512>::new();
            msg.push("two subsections of '");
            msg.push(desc.name);
            msg.push("' are named '");
            msg.push(subs[index].name);
            msg.push("'");
            panic!("{}", msg.as_str());
        }
        j += 1;
    }
}
