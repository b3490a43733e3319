//! QEMU's own VMState test vectors (`tests/unit/test-vmstate.c` in
//! qemu/qemu), reproduced as Rust declarations with the same descriptions,
//! QEMU's expected wire bytes and loaded values as test data. Each test is
//! named after the QEMU test it reproduces, without the `test_` prefix.
//!
//! The harness follows QEMU's: a save is the fields followed by one
//! `QEMU_VM_EOF` byte (0x00) and must equal the wire exactly; a load reads
//! the wire (which ends with that byte, peeked at as QEMU peeks for a
//! subsection); the truncation checks load nothing, all but the last two
//! bytes, the first half and the second half, each of which must fail —
//! and here, beyond QEMU, must leave the object exactly as it was.
//!

use compat_core::codec::{StreamReader, StreamWriter};
use std::collections::{BTreeMap, VecDeque};

use compat_core::{Migratable, TmpView, VMState};

/// QEMU's `QEMU_VM_EOF`.
const EOF: u8 = 0x00;

/// `save_vmstate`: the fields, then `QEMU_VM_EOF`.
fn save_vmstate<T: VMState>(obj: &T) -> Vec<u8> {
    let mut w = StreamWriter::new();
    obj.clone().save_state(&mut w).expect("save");
    w.put_u8(EOF);
    w.into_bytes()
}

/// `vmstate_save_state` alone, without the end byte.
fn save_state<T: VMState>(obj: &T) -> Vec<u8> {
    let mut w = StreamWriter::new();
    obj.clone().save_state(&mut w).expect("save");
    w.into_bytes()
}

/// `load_vmstate_one`: load `wire` at `version` into `obj`, all or nothing.
fn load_vmstate_one<T: VMState>(obj: &mut T, version: u32, wire: &[u8]) -> Result<(), String> {
    let mut r = StreamReader::new(wire);
    let copy = Migratable::load_copy(obj, &mut r, version).map_err(|e| e.to_string())?;
    // As QEMU's test: the load stops exactly at the end byte.
    if r.rest() != [EOF] {
        return Err(format!(
            "the load stopped at offset {} of {}, not at the end byte",
            r.offset(),
            wire.len()
        ));
    }
    Migratable::commit(obj, copy);
    Ok(())
}

/// `load_vmstate`: the truncation checks, then the whole wire. Every
/// truncated load must fail and leave `obj` as it was (compared through
/// what it saves).
fn load_vmstate<T: VMState>(obj: &mut T, version: u32, wire: &[u8]) {
    let before = save_state(obj);
    let size = wire.len();
    let mut cuts: Vec<&[u8]> = vec![&wire[..0]];
    if size > 3 {
        cuts.extend([
            &wire[..size - 2],
            &wire[..size / 2],
            &wire[size / 2..size / 2 + size / 2],
        ]);
    }
    for cut in cuts {
        assert!(
            load_vmstate_one(obj, version, cut).is_err(),
            "{} of {size} bytes loaded",
            cut.len()
        );
        assert_eq!(save_state(obj), before, "a failed load changed the object");
    }
    load_vmstate_one(obj, version, wire).expect("the whole wire loads");
}

// ---- simple/primitive, simple/array -------------------------------------

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "simple/primitive", version = 1)]
struct TestSimple {
    b_1: bool,
    b_2: bool,
    u8_1: u8,
    u16_1: u16,
    u32_1: u32,
    u64_1: u64,
    i8_1: i8,
    i8_2: i8,
    i16_1: i16,
    i16_2: i16,
    i32_1: i32,
    i32_2: i32,
    i64_1: i64,
    i64_2: i64,
}

fn obj_simple() -> TestSimple {
    TestSimple {
        b_1: true,
        b_2: false,
        u8_1: 130,
        u16_1: 512,
        u32_1: 70000,
        u64_1: 12121212,
        i8_1: 65,
        i8_2: -65,
        i16_1: 512,
        i16_2: -512,
        i32_1: 70000,
        i32_2: -70000,
        i64_1: 12121212,
        i64_2: -12121212,
    }
}

#[rustfmt::skip]
const WIRE_SIMPLE_PRIMITIVE: [u8; 48] = [
    0x01,                                           // b_1
    0x00,                                           // b_2
    0x82,                                           // u8_1
    0x02, 0x00,                                     // u16_1
    0x00, 0x01, 0x11, 0x70,                         // u32_1
    0x00, 0x00, 0x00, 0x00, 0x00, 0xb8, 0xf4, 0x7c, // u64_1
    0x41,                                           // i8_1
    0xbf,                                           // i8_2
    0x02, 0x00,                                     // i16_1
    0xfe, 0x00,                                     // i16_2
    0x00, 0x01, 0x11, 0x70,                         // i32_1
    0xff, 0xfe, 0xee, 0x90,                         // i32_2
    0x00, 0x00, 0x00, 0x00, 0x00, 0xb8, 0xf4, 0x7c, // i64_1
    0xff, 0xff, 0xff, 0xff, 0xff, 0x47, 0x0b, 0x84, // i64_2
    EOF,
];

#[test]
fn simple_primitive() {
    assert_eq!(save_vmstate(&obj_simple()), WIRE_SIMPLE_PRIMITIVE);
    let mut obj = TestSimple::default();
    load_vmstate(&mut obj, 1, &WIRE_SIMPLE_PRIMITIVE);
    assert_eq!(obj, obj_simple());
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "simple/array", version = 1)]
struct TestSimpleArray {
    u16_1: [u16; 3],
}

#[test]
fn simple_array() {
    let wire = [0x00, 0x42, 0x00, 0x43, 0x00, 0x44, EOF];
    let obj = TestSimpleArray {
        u16_1: [0x42, 0x43, 0x44],
    };
    assert_eq!(save_vmstate(&obj), wire);
    let mut loaded = TestSimpleArray::default();
    load_vmstate(&mut loaded, 1, &wire);
    assert_eq!(loaded, obj);
}

// ---- versioned/load -----------------------------------------------------

/// QEMU's `TestStruct` under "test/versioned": b, e and f are new in 2.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/versioned", version = 2, minimum_version = 1)]
struct TestVersioned {
    a: u32,
    #[vmstate(since = 2)]
    b: u32,
    c: u32,
    d: u64,
    #[vmstate(since = 2)]
    e: u32,
    #[vmstate(since = 2)]
    f: u64,
    #[vmstate(skip)]
    skip_c_e: bool,
}

#[rustfmt::skip]
const WIRE_V2: [u8; 33] = [
    0, 0, 0, 10,             // a
    0, 0, 0, 20,             // b
    0, 0, 0, 30,             // c
    0, 0, 0, 0, 0, 0, 0, 40, // d
    0, 0, 0, 50,             // e
    0, 0, 0, 0, 0, 0, 0, 60, // f
    EOF,
];

#[test]
fn load_v1() {
    #[rustfmt::skip]
    let wire = [
        0, 0, 0, 10,             // a
        0, 0, 0, 30,             // c
        0, 0, 0, 0, 0, 0, 0, 40, // d
        EOF,
    ];
    let mut obj = TestVersioned {
        b: 200,
        e: 500,
        f: 600,
        ..TestVersioned::default()
    };
    load_vmstate_one(&mut obj, 1, &wire).unwrap();
    assert_eq!(
        (obj.a, obj.b, obj.c, obj.d, obj.e, obj.f),
        (10, 200, 30, 40, 500, 600)
    );
}

#[test]
fn load_v2() {
    let mut obj = TestVersioned::default();
    load_vmstate_one(&mut obj, 2, &WIRE_V2).unwrap();
    assert_eq!(
        (obj.a, obj.b, obj.c, obj.d, obj.e, obj.f),
        (10, 20, 30, 40, 50, 60)
    );
}

// ---- field_exists -------------------------------------------------------

/// QEMU's `TestStruct` under "test/skip": c and e exist unless `skip_c_e`.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/skip", version = 2, minimum_version = 1)]
struct TestSkip {
    a: u32,
    b: u32,
    #[vmstate(exists = TestSkip::test_skip)]
    c: u32,
    d: u64,
    #[vmstate(exists = TestSkip::test_skip)]
    e: u32,
    #[vmstate(since = 2)]
    f: u64,
    #[vmstate(skip)]
    skip_c_e: bool,
}

impl TestSkip {
    fn test_skip(&self, _version: u32) -> bool {
        !self.skip_c_e
    }
}

#[test]
fn load_noskip() {
    let mut obj = TestSkip::default();
    load_vmstate_one(&mut obj, 2, &WIRE_V2).unwrap();
    assert_eq!(
        (obj.a, obj.b, obj.c, obj.d, obj.e, obj.f),
        (10, 20, 30, 40, 50, 60)
    );
}

#[test]
fn load_skip() {
    #[rustfmt::skip]
    let wire = [
        0, 0, 0, 10,             // a
        0, 0, 0, 20,             // b
        0, 0, 0, 0, 0, 0, 0, 40, // d
        0, 0, 0, 0, 0, 0, 0, 60, // f
        EOF,
    ];
    let mut obj = TestSkip {
        skip_c_e: true,
        c: 300,
        e: 500,
        ..TestSkip::default()
    };
    load_vmstate_one(&mut obj, 2, &wire).unwrap();
    assert_eq!(
        (obj.a, obj.b, obj.c, obj.d, obj.e, obj.f),
        (10, 20, 300, 40, 500, 60)
    );
}

fn obj_skip(skip_c_e: bool) -> TestSkip {
    TestSkip {
        a: 1,
        b: 2,
        c: 3,
        d: 4,
        e: 5,
        f: 6,
        skip_c_e,
    }
}

#[test]
fn save_noskip() {
    #[rustfmt::skip]
    let wire = [
        0, 0, 0, 1,
        0, 0, 0, 2,
        0, 0, 0, 3,
        0, 0, 0, 0, 0, 0, 0, 4,
        0, 0, 0, 5,
        0, 0, 0, 0, 0, 0, 0, 6,
    ];
    assert_eq!(save_state(&obj_skip(false)), wire);
}

#[test]
fn save_skip() {
    #[rustfmt::skip]
    let wire = [
        0, 0, 0, 1,
        0, 0, 0, 2,
        0, 0, 0, 0, 0, 0, 0, 4,
        0, 0, 0, 0, 0, 0, 0, 6,
    ];
    assert_eq!(save_state(&obj_skip(true)), wire);
}

// ---- array/ptr ----------------------------------------------------------

/// QEMU's `TestStructTriv` under "test/tst".
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/tst", version = 1)]
struct TestStructTriv {
    i: i32,
}

/// QEMU's `TestArrayOfPtrToStuct` under "test/arps": four slots that may
/// be empty (`VMSTATE_ARRAY_OF_POINTER_TO_STRUCT`).
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/arps", version = 1)]
struct TestArrayOfPtrToStruct {
    ar: [Option<Box<TestStructTriv>>; 4],
}

/// QEMU's `TestArrayOfPtrToInt`, also named "test/arps"
/// (`VMSTATE_ARRAY_OF_POINTER` of `int32`).
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/arps", version = 1)]
struct TestArrayOfPtrToInt {
    ar: [Option<Box<i32>>; 4],
}

#[rustfmt::skip]
const WIRE_ARR_PTR_NO0: [u8; 17] = [
    0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x03,
    EOF,
];

#[rustfmt::skip]
const WIRE_ARR_PTR_0: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00,
    0x30, // the null marker: slot 1 is empty
    0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x03,
    EOF,
];

fn triv(i: i32) -> Option<Box<TestStructTriv>> {
    Some(Box::new(TestStructTriv { i }))
}

#[test]
fn arr_ptr_str_no0_save() {
    let obj = TestArrayOfPtrToStruct {
        ar: [triv(0), triv(1), triv(2), triv(3)],
    };
    assert_eq!(save_vmstate(&obj), WIRE_ARR_PTR_NO0);
}

#[test]
fn arr_ptr_str_no0_load() {
    let mut obj = TestArrayOfPtrToStruct {
        ar: [triv(0), triv(0), triv(0), triv(0)],
    };
    load_vmstate_one(&mut obj, 1, &WIRE_ARR_PTR_NO0).unwrap();
    assert_eq!(obj.ar, [triv(0), triv(1), triv(2), triv(3)]);
}

#[test]
fn arr_ptr_str_0_save() {
    let obj = TestArrayOfPtrToStruct {
        ar: [triv(0), None, triv(2), triv(3)],
    };
    assert_eq!(save_vmstate(&obj), WIRE_ARR_PTR_0);
}

#[test]
fn arr_ptr_str_0_load() {
    let mut obj = TestArrayOfPtrToStruct {
        ar: [triv(0), None, triv(0), triv(0)],
    };
    load_vmstate_one(&mut obj, 1, &WIRE_ARR_PTR_0).unwrap();
    // The empty slot stays empty; the others are loaded.
    assert_eq!(obj.ar, [triv(0), None, triv(2), triv(3)]);
}

#[test]
fn arr_ptr_prim_0_save() {
    let obj = TestArrayOfPtrToInt {
        ar: [
            Some(Box::new(0)),
            None,
            Some(Box::new(2)),
            Some(Box::new(3)),
        ],
    };
    assert_eq!(save_vmstate(&obj), WIRE_ARR_PTR_0);
}

#[test]
fn arr_ptr_prim_0_load() {
    // QEMU's destination: the slots point into {3, 42, 1, 0}, slot 1 empty
    // (its target, 42, is never written).
    let mut obj = TestArrayOfPtrToInt {
        ar: [
            Some(Box::new(3)),
            None,
            Some(Box::new(1)),
            Some(Box::new(0)),
        ],
    };
    load_vmstate_one(&mut obj, 1, &WIRE_ARR_PTR_0).unwrap();
    assert_eq!(
        obj.ar,
        [
            Some(Box::new(0)),
            None,
            Some(Box::new(2)),
            Some(Box::new(3))
        ]
    );
}

// ---- qtailq -------------------------------------------------------------

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/queue-element", version = 1)]
struct TestQtailqElement {
    b: bool,
    u8: u8,
}

/// QEMU's `TestQtailq`: a tail queue between two scalars.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/queue", version = 1)]
struct TestQtailq {
    i16: i16,
    #[vmstate(qtailq, max = 16)]
    q: VecDeque<TestQtailqElement>,
    i32: i32,
}

#[rustfmt::skip]
const WIRE_Q: [u8; 14] = [
    0xfe, 0x00,             // i16
    0x01, 0x01, 0x82,       // element present: b, u8
    0x01, 0x00, 0x41,       // element present: b, u8
    0x00,                   // end of the queue
    0x00, 0x01, 0x11, 0x70, // i32
    EOF,
];

fn obj_q() -> TestQtailq {
    TestQtailq {
        i16: -512,
        q: VecDeque::from([
            TestQtailqElement { b: true, u8: 130 },
            TestQtailqElement { b: false, u8: 65 },
        ]),
        i32: 70000,
    }
}

#[test]
fn save_q() {
    assert_eq!(save_vmstate(&obj_q()), WIRE_Q);
}

#[test]
fn load_q() {
    let mut tgt = TestQtailq::default();
    let mut r = StreamReader::new(&WIRE_Q);
    tgt.load_state(&mut r, 1).unwrap();
    // QEMU then reads the next byte: the end of the stream.
    assert_eq!(r.get_u8().unwrap(), EOF);
    assert_eq!(tgt, obj_q());
}

// ---- gtree --------------------------------------------------------------

/// QEMU's `TestGTreeInterval`, the key of "domain"'s map; ordered by `low`
/// first, as QEMU's comparator orders disjoint intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, VMState)]
#[vmstate(name = "interval", version = 1)]
struct TestGTreeInterval {
    low: u64,
    high: u64,
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "mapping", version = 1)]
struct TestGTreeMapping {
    phys_addr: u64,
    flags: u32,
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "domain", version = 1)]
struct TestGTreeDomain {
    id: i32,
    #[vmstate(gtree, max = 64)]
    mappings: BTreeMap<TestGTreeInterval, TestGTreeMapping>,
}

/// QEMU's `TestGTreeIOMMU`: a map with direct `u64` keys.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "iommu", version = 1)]
struct TestGTreeIOMMU {
    id: i32,
    #[vmstate(gtree, max = 64)]
    domains: BTreeMap<u64, TestGTreeDomain>,
}

fn interval(low: u64, high: u64) -> TestGTreeInterval {
    TestGTreeInterval { low, high }
}

fn mapping(phys_addr: u64, flags: u32) -> TestGTreeMapping {
    TestGTreeMapping { phys_addr, flags }
}

fn first_domain() -> TestGTreeDomain {
    TestGTreeDomain {
        id: 6,
        mappings: BTreeMap::from([
            (interval(0x1000, 0x1fff), mapping(0xa000, 1)),
            (interval(0x4000, 0x4fff), mapping(0xe0000, 2)),
        ]),
    }
}

fn iommu() -> TestGTreeIOMMU {
    let second = TestGTreeDomain {
        id: 5,
        mappings: BTreeMap::from([(interval(0x1000000, 0x1ffffff), mapping(0xf000000, 3))]),
    };
    TestGTreeIOMMU {
        id: 7,
        domains: BTreeMap::from([(6, first_domain()), (5, second)]),
    }
}

#[rustfmt::skip]
const FIRST_DOMAIN_DUMP: [u8; 68] = [
    0x00, 0x00, 0x00, 0x06,                         // id
    0x00, 0x00, 0x00, 0x02,                         // nodes
    0x01,                                           // node
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, // a.low
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0xff, // a.high
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x00, // phys_addr
    0x00, 0x00, 0x00, 0x01,                         // flags
    0x01,                                           // node
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, // b.low
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4f, 0xff, // b.high
    0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, // phys_addr
    0x00, 0x00, 0x00, 0x02,                         // flags
    0x00,                                           // end of the tree
    EOF,
];

#[rustfmt::skip]
const IOMMU_DUMP: [u8; 133] = [
    0x00, 0x00, 0x00, 0x07,                         // iommu id
    0x00, 0x00, 0x00, 0x02,                         // nodes
    0x01,                                           // node
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // key 5
    0x00, 0x00, 0x00, 0x05,                         // domain id
    0x00, 0x00, 0x00, 0x01,                         // mappings
    0x01,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // c.low
    0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, // c.high
    0x00, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, // phys_addr
    0x00, 0x00, 0x00, 0x03,                         // flags
    0x00,                                           // end of mappings
    0x01,                                           // node
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, // key 6
    0x00, 0x00, 0x00, 0x06,                         // domain id
    0x00, 0x00, 0x00, 0x02,                         // mappings
    0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0xff,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x00,
    0x00, 0x00, 0x00, 0x01,
    0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4f, 0xff,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02,
    0x00,                                           // end of mappings
    0x00,                                           // end of domains
    EOF,
];

#[test]
fn gtree_save_domain() {
    assert_eq!(save_vmstate(&first_domain()), FIRST_DOMAIN_DUMP);
}

#[test]
fn gtree_load_domain() {
    let mut dest = TestGTreeDomain::default();
    let mut r = StreamReader::new(&FIRST_DOMAIN_DUMP);
    dest.load_state(&mut r, 1).unwrap();
    assert_eq!(r.get_u8().unwrap(), EOF);
    assert_eq!(dest, first_domain());
}

#[test]
fn gtree_save_iommu() {
    assert_eq!(save_vmstate(&iommu()), IOMMU_DUMP);
}

#[test]
fn gtree_load_iommu() {
    let mut dest = TestGTreeIOMMU::default();
    let mut r = StreamReader::new(&IOMMU_DUMP);
    dest.load_state(&mut r, 1).unwrap();
    assert_eq!(r.get_u8().unwrap(), EOF);
    assert_eq!(dest, iommu());
}

// ---- qlist --------------------------------------------------------------

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/queue list", version = 1)]
struct TestQListElement {
    id: u32,
}

#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/container/qlist", version = 1)]
struct TestQListContainer {
    id: u32,
    #[vmstate(qlist, max = 16)]
    list: Vec<TestQListElement>,
}

#[rustfmt::skip]
const QLIST_DUMP: [u8; 26] = [
    0x00, 0x00, 0x00, 0x01,       // container id
    0x01, 0x00, 0x00, 0x00, 0x0a, // a
    0x01, 0x00, 0x00, 0x0b, 0x00, // b
    0x01, 0x00, 0x0c, 0x00, 0x00, // c
    0x01, 0x0d, 0x00, 0x00, 0x00, // d
    0x00,                         // end of the list
    EOF,
];

fn alloc_container() -> TestQListContainer {
    TestQListContainer {
        id: 1,
        list: [0x0a, 0x0b00, 0xc0000, 0xd000000]
            .into_iter()
            .map(|id| TestQListElement { id })
            .collect(),
    }
}

/// QEMU's `manipulate_container`: insertions and a removal, to check the
/// loaded list is a list like any other.
fn manipulate_container(c: &mut TestQListContainer) {
    let e = |id| TestQListElement { id };
    c.list.insert(1, e(0x12));
    c.list.insert(0, e(0x13));
    let last = c.list.len() - 1;
    c.list.insert(last, e(0x14));
    c.list.push(e(0x15));
    let old_last = c.list.len() - 2;
    c.list.remove(old_last);
}

#[test]
fn save_qlist() {
    assert_eq!(save_vmstate(&alloc_container()), QLIST_DUMP);
}

#[test]
fn load_qlist() {
    let mut dest = TestQListContainer::default();
    let mut r = StreamReader::new(&QLIST_DUMP);
    dest.load_state(&mut r, 1).unwrap();
    assert_eq!(r.get_u8().unwrap(), EOF);
    let mut orig = alloc_container();
    assert_eq!(dest, orig);
    manipulate_container(&mut orig);
    manipulate_container(&mut dest);
    assert_eq!(dest, orig);
}

// ---- tmp_struct ---------------------------------------------------------

/// QEMU's `TestStruct` under "test/with_tmp": `a` and `d`, then a
/// temporary view carrying `b - a` and `f`.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/with_tmp", version = 1, minimum_version = 0)]
struct TestWithTmp {
    a: u32,
    #[vmstate(skip)]
    b: u32,
    #[vmstate(skip)]
    c: u32,
    d: u64,
    #[vmstate(skip)]
    e: u32,
    #[vmstate(skip)]
    f: u64,
    #[vmstate(tmp = TmpTestStruct)]
    _tmp: (),
}

/// QEMU's `vmstate_tmp_back_to_parent`: the parent's `f`, reached through
/// the temporary's pointer to its parent.
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/tmp_child_parent", version = 0)]
struct TmpParentView {
    f: u64,
}

/// QEMU's `TmpTestStruct` under "test/tmp_child".
#[derive(Clone, Debug, Default, PartialEq, VMState)]
#[vmstate(name = "test/tmp_child", version = 0)]
struct TmpTestStruct {
    diff: i64,
    parent: TmpParentView,
}

impl TmpView<TestWithTmp> for TmpTestStruct {
    // QEMU's pre_save: diff = b - a.
    fn from_parent(p: &TestWithTmp) -> Self {
        TmpTestStruct {
            diff: i64::from(p.b) - i64::from(p.a),
            parent: TmpParentView { f: p.f },
        }
    }

    // QEMU's post_load: b = a + diff.
    fn into_parent(self, p: &mut TestWithTmp) {
        p.b = (i64::from(p.a) + self.diff) as u32;
        p.f = self.parent.f;
    }
}

#[test]
fn tmp_struct() {
    #[rustfmt::skip]
    let wire = [
        0x00, 0x00, 0x00, 0x02,                         // a
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // d
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // diff
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, // f, through the parent
        EOF,
    ];
    let obj = TestWithTmp {
        a: 2,
        b: 4,
        d: 1,
        f: 8,
        ..TestWithTmp::default()
    };
    assert_eq!(save_vmstate(&obj), wire);
    let mut loaded = TestWithTmp::default();
    load_vmstate(&mut loaded, 1, &wire);
    assert_eq!((loaded.a, loaded.b, loaded.d, loaded.f), (2, 4, 1, 8));
}
