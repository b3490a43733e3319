use super::derive_support::BitField;
use super::*;
use proptest::prelude::*;

const LOST_TICK: EnumInfo = EnumInfo {
    name: "LostTickPolicy",
    values: &["discard", "delay", "slew"],
};

fn ok(kind: PropertyKind, text: &str, want: PropertyValue) {
    assert_eq!(kind.parse(text), Ok(want), "{kind} parsing {text:?}");
}

fn rejected(kind: PropertyKind, text: &str) {
    let err = kind
        .parse(text)
        .expect_err(&format!("{kind} must reject {text:?}"));
    assert_eq!(err.expects, kind.expects());
}

/// Every kind's accepted inputs, with the value each parses to.
#[test]
fn accepted_inputs() {
    use PropertyKind::*;
    use PropertyValue as V;
    let bit = Bit { bit: 3, width: 32 };
    let s = |x: &'static str| V::Str(Cow::Borrowed(x));
    let cases: Vec<(PropertyKind, &str, PropertyValue)> = vec![
        (Bool, "on", V::Bool(true)),
        (Bool, "yes", V::Bool(true)),
        (Bool, "true", V::Bool(true)),
        (Bool, "y", V::Bool(true)),
        (Bool, "off", V::Bool(false)),
        (Bool, "no", V::Bool(false)),
        (Bool, "false", V::Bool(false)),
        (Bool, "n", V::Bool(false)),
        (bit, "on", V::Bool(true)),
        (bit, "n", V::Bool(false)),
        (U8, "0", V::Uint(0)),
        (U8, "255", V::Uint(255)),
        (U8, "0xff", V::Uint(255)),
        (U8, "0XFF", V::Uint(255)),
        (U8, "017", V::Uint(15)),
        (U16, "65535", V::Uint(65535)),
        (U16, "0x10", V::Uint(16)),
        (U16, "00", V::Uint(0)),
        (U32, "4294967295", V::Uint(4_294_967_295)),
        (U32, "0xdeadbeef", V::Uint(0xdead_beef)),
        (U64, "18446744073709551615", V::Uint(u64::MAX)),
        (U64, "0xffffffffffffffff", V::Uint(u64::MAX)),
        (I32, "-2147483648", V::Int(-2_147_483_648)),
        (I32, "2147483647", V::Int(2_147_483_647)),
        (I32, "-0x10", V::Int(-16)),
        (I32, "-1", V::Int(-1)),
        (I64, "-9223372036854775808", V::Int(i64::MIN)),
        (I64, "9223372036854775807", V::Int(i64::MAX)),
        (I64, "0", V::Int(0)),
        (Size, "512", V::Size(512)),
        (Size, "4K", V::Size(4096)),
        (Size, "4k", V::Size(4096)),
        (Size, "1M", V::Size(1 << 20)),
        (Size, "2G", V::Size(2 << 30)),
        (Size, "1T", V::Size(1 << 40)),
        (Size, "1P", V::Size(1 << 50)),
        (Size, "15E", V::Size(15 << 60)),
        (Size, "512B", V::Size(512)),
        (Size, "1.5K", V::Size(1536)),
        (Size, "0x1000", V::Size(4096)),
        (Size, "0", V::Size(0)),
        (Size, "18446744073709551615", V::Size(u64::MAX)),
        // What QEMU 10.0 takes besides (recorded in
        // tests/fixtures/real-qemu/options-10.0.json): C's leading white
        // space and sign, an unsigned `-` negating modulo 2^64, a size
        // point with one side empty.
        (U8, "+1", V::Uint(1)),
        (U8, " 7", V::Uint(7)),
        (U16, "-0", V::Uint(0)),
        (U64, "-0", V::Uint(0)),
        (U64, "-1", V::Uint(u64::MAX)),
        (I32, " -5", V::Int(-5)),
        (I32, "+5", V::Int(5)),
        (Size, "1.k", V::Size(1024)),
        (Size, ".5K", V::Size(512)),
        (Size, " 4K", V::Size(4096)),
        (Size, "+4K", V::Size(4096)),
        (Size, "1b", V::Size(1)),
        (Str, "", s("")),
        (Str, "hello, world", s("hello, world")),
        (Str, "=on", s("=on")),
        (Enum(&LOST_TICK), "discard", V::Enum("discard")),
        (Enum(&LOST_TICK), "slew", V::Enum("slew")),
        (Enum(OnOffAuto::INFO), "auto", V::Enum("auto")),
    ];
    for (kind, text, want) in cases {
        ok(kind, text, want);
    }
}

/// Every kind's rejected inputs: each error says what the kind expects.
#[test]
fn rejected_inputs() {
    use PropertyKind::*;
    let bit = Bit { bit: 0, width: 8 };
    let cases: Vec<(PropertyKind, &str)> = vec![
        (Bool, ""),
        (Bool, "ON"),
        (Bool, "On"),
        (Bool, "1"),
        (Bool, "0"),
        (Bool, "enable"),
        (Bool, " on"),
        (bit, "2"),
        (U8, "256"),
        (U8, "-1"),
        (U8, "0x100"),
        (U8, ""),
        (U8, "1.0"),
        (U8, "1 "),
        (U8, "08"),
        (U8, "0x"),
        (U16, "70000"),
        (U16, "one"),
        (U16, "1k"),
        (U32, "4294967296"),
        (U64, "18446744073709551616"),
        (U16, "-1"),
        (U16, "-65535"),
        (Size, "-0"),
        (Size, "."),
        (Size, ".K"),
        (I32, "2147483648"),
        (I32, "-2147483649"),
        (I32, "--1"),
        (I32, "-"),
        (I64, "9223372036854775808"),
        (I64, "-9223372036854775809"),
        (I64, "0xg"),
        (Size, ""),
        (Size, "K"),
        (Size, "-1"),
        (Size, "4Q"),
        (Size, "1.5"),
        (Size, "1.5B"),
        (Size, "16E"),
        (Size, "4 K"),
        (Size, "0x1K"),
        (Size, "1..5K"),
        (Size, "18446744073709551616"),
        (Enum(&LOST_TICK), "Discard"),
        (Enum(&LOST_TICK), ""),
        (Enum(&LOST_TICK), "skip"),
        (Enum(OnOffAuto::INFO), "yes"),
    ];
    for (kind, text) in cases {
        rejected(kind, text);
    }
}

#[test]
fn error_names_device_property_value_and_what_is_allowed() {
    let def = PropertyDef {
        name: "num-queues",
        kind: PropertyKind::U16,
        default: None,
        doc: "",
        sticky: false,
        local: false,
        absent: None,
        alike: None,
    };
    let err = def.parse("virtio-blk-device", "70000").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Property 'virtio-blk-device.num-queues' doesn't take value '70000': expects uint16 (0..=65535)"
    );
    let def = PropertyDef {
        name: "lost_tick_policy",
        kind: PropertyKind::Enum(&LOST_TICK),
        default: None,
        doc: "",
        sticky: false,
        local: false,
        absent: None,
        alike: None,
    };
    assert_eq!(
        def.parse("kvm-pit", "drop").unwrap_err().to_string(),
        "Property 'kvm-pit.lost_tick_policy' doesn't take value 'drop': \
         expects LostTickPolicy ('discard', 'delay', 'slew')"
    );
    let bool_def = PropertyDef {
        name: "x-pcie-err-unc-mask",
        kind: PropertyKind::Bit { bit: 0, width: 32 },
        default: None,
        doc: "",
        sticky: false,
        local: false,
        absent: None,
        alike: None,
    };
    assert_eq!(
        bool_def.parse("pci-device", "2").unwrap_err().to_string(),
        "Property 'pci-device.x-pcie-err-unc-mask' doesn't take value '2': \
         expects 'on' or 'off' (also 'yes'/'no', 'true'/'false', 'y'/'n')"
    );
}

#[test]
fn canonical_text() {
    use PropertyValue as V;
    let cases = [
        (V::Bool(true), "on"),
        (V::Bool(false), "off"),
        (V::Uint(0x10), "16"),
        (V::Int(-5), "-5"),
        (V::Size(0), "0"),
        (V::Size(512), "512"),
        (V::Size(1536), "1536"),
        (V::Size(4096), "4K"),
        (V::Size(3 << 20), "3M"),
        (V::Size(2 << 30), "2G"),
        (V::Size(1 << 40), "1T"),
        (V::Size(u64::MAX), "18446744073709551615"),
        (V::Enum("auto"), "auto"),
        (V::Str(Cow::Borrowed("a,b")), "a,b"),
    ];
    for (value, text) in cases {
        assert_eq!(value.to_string(), text);
    }
    assert_eq!(Size(8 << 30).to_string(), "8G");
}

#[test]
fn zero_values_and_defaults() {
    assert_eq!(PropertyKind::U16.zero_value(), PropertyValue::Uint(0));
    assert_eq!(PropertyKind::I32.zero_value(), PropertyValue::Int(0));
    assert_eq!(
        PropertyKind::Enum(&LOST_TICK).zero_value(),
        PropertyValue::Enum("discard")
    );
    let def = PropertyDef {
        name: "x",
        kind: PropertyKind::Bool,
        default: Some(|| PropertyValue::Bool(true)),
        doc: "",
        sticky: false,
        local: false,
        absent: None,
        alike: None,
    };
    assert!(def.has_declared_default());
    assert_eq!(def.default_value(), PropertyValue::Bool(true));
}

#[test]
fn accepts_checks_variant_and_range() {
    use PropertyKind::*;
    use PropertyValue as V;
    assert!(U8.accepts(&V::Uint(255)));
    assert!(!U8.accepts(&V::Uint(256)));
    assert!(!U8.accepts(&V::Int(1)));
    assert!(I32.accepts(&V::Int(-1)));
    assert!(!I32.accepts(&V::Int(i64::MAX)));
    assert!(Enum(&LOST_TICK).accepts(&V::Enum("slew")));
    assert!(!Enum(&LOST_TICK).accepts(&V::Enum("auto")));
    assert!(Bit { bit: 1, width: 8 }.accepts(&V::Bool(false)));
    assert!(!Size.accepts(&V::Uint(1)));
}

#[test]
fn property_types_convert_both_ways() {
    assert_eq!(7u16.to_value(), PropertyValue::Uint(7));
    assert_eq!(u8::from_value(&PropertyValue::Uint(256)), None);
    assert_eq!(i32::from_value(&PropertyValue::Int(-3)), Some(-3));
    assert_eq!(bool::from_value(&PropertyValue::Uint(1)), None);
    assert_eq!(
        OnOffAuto::from_value(&PropertyValue::Enum("off")),
        Some(OnOffAuto::Off)
    );
    assert_eq!(OnOffAuto::zero(), OnOffAuto::Auto);
    assert_eq!(Size::from_value(&PropertyValue::Size(9)), Some(Size(9)));
    assert_eq!(
        String::from_value(&PropertyValue::Str("x".into())),
        Some("x".into())
    );
}

#[test]
fn bit_fields() {
    assert!(0b1000u32.bit(3));
    assert!(!0b1000u32.bit(2));
    assert_eq!(0u64.with_bit(63, true), 1 << 63);
    assert_eq!(0xffu8.with_bit(0, false), 0xfe);
    assert_eq!(<u16 as BitField>::WIDTH, 16);
}

fn any_kind() -> impl Strategy<Value = PropertyKind> {
    prop_oneof![
        Just(PropertyKind::Bool),
        (0u8..32).prop_map(|bit| PropertyKind::Bit { bit, width: 32 }),
        Just(PropertyKind::U8),
        Just(PropertyKind::U16),
        Just(PropertyKind::U32),
        Just(PropertyKind::U64),
        Just(PropertyKind::I32),
        Just(PropertyKind::I64),
        Just(PropertyKind::Size),
        Just(PropertyKind::Str),
        Just(PropertyKind::Enum(&LOST_TICK)),
        Just(PropertyKind::Enum(OnOffAuto::INFO)),
    ]
}

/// A value of `kind`, drawn over its whole range.
fn any_value(kind: PropertyKind) -> BoxedStrategy<PropertyValue> {
    use PropertyValue as V;
    match kind {
        PropertyKind::Bool | PropertyKind::Bit { .. } => any::<bool>().prop_map(V::Bool).boxed(),
        PropertyKind::U8 => any::<u8>().prop_map(|v| V::Uint(v.into())).boxed(),
        PropertyKind::U16 => any::<u16>().prop_map(|v| V::Uint(v.into())).boxed(),
        PropertyKind::U32 => any::<u32>().prop_map(|v| V::Uint(v.into())).boxed(),
        PropertyKind::U64 => any::<u64>().prop_map(V::Uint).boxed(),
        PropertyKind::I32 => any::<i32>().prop_map(|v| V::Int(v.into())).boxed(),
        PropertyKind::I64 => any::<i64>().prop_map(V::Int).boxed(),
        // Mix plain byte counts with exact multiples of every unit.
        PropertyKind::Size => prop_oneof![
            any::<u64>(),
            (0u64..1024, 0u32..7).prop_map(|(n, unit)| n << (10 * unit)),
        ]
        .prop_map(V::Size)
        .boxed(),
        PropertyKind::Str => any::<String>().prop_map(|s| V::Str(Cow::Owned(s))).boxed(),
        PropertyKind::Enum(info) => proptest::sample::select(info.values)
            .prop_map(V::Enum)
            .boxed(),
    }
}

proptest! {
    /// print -> parse gives the value back, for every kind.
    #[test]
    fn print_parse_round_trip((kind, value) in any_kind().prop_flat_map(|k| (Just(k), any_value(k)))) {
        prop_assert!(kind.accepts(&value));
        let text = value.to_string();
        prop_assert_eq!(kind.parse(&text), Ok(value));
    }

    /// Parsing never panics, and whatever parses is a value of the kind and
    /// prints to a text that parses to the same value.
    #[test]
    fn parse_is_total(kind in any_kind(), text in "\\PC{0,12}|-?(0[xX])?[0-9a-fA-F.]{0,22}[bkmgtpeBKMGTPE]?") {
        if let Ok(value) = kind.parse(&text) {
            prop_assert!(kind.accepts(&value));
            prop_assert_eq!(kind.parse(&value.to_string()), Ok(value));
        }
    }
}
