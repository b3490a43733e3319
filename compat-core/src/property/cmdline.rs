//! `-device` and `-global` option strings, parsed with QEMU's syntax
//! (`util/qemu-option.c`, `system/qdev-monitor.c` `qemu_global_option`).
//!
//! Parsing is purely syntactic: whether a driver or property exists, and
//! whether a value fits its kind, is for the registry and resolution to say.

use std::fmt;

use crate::text::escape::escaped as esc;

/// One `key=value` of an option string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionValue {
    /// The key (a property name).
    pub key: String,
    /// The value, with `,,` unescaped.
    pub value: String,
    /// Byte offset of the key in the option string.
    pub offset: usize,
}

/// A parsed `-device driver[,id=ID][,bus=BUS][,prop=value...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceOption {
    /// The device type name.
    pub driver: String,
    /// The instance's `id=`, if given.
    pub id: Option<String>,
    /// The `bus=` it plugs into, if given.
    pub bus: Option<String>,
    /// The property options, in the order given; a key given twice keeps
    /// its last value.
    pub properties: Vec<OptionValue>,
    /// `help` (or `?`) was among the parameters: the option asks for the
    /// type's properties instead of a device.
    pub help: bool,
    /// What QEMU would warn about while parsing (short-form booleans), in
    /// QEMU's words.
    pub warnings: Vec<String>,
}

/// The option string back, canonical: `driver[,id=..][,bus=..][,key=value...]`
/// with commas in values doubled, so it parses to the same option.
impl fmt::Display for DeviceOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A driver holding `=` would read as a key: it needs its key.
        if self.driver.contains('=') {
            f.write_str("driver=")?;
        }
        write!(f, "{}", doubled_commas(&self.driver))?;
        for (key, value) in [("id", &self.id), ("bus", &self.bus)] {
            if let Some(v) = value {
                write!(f, ",{key}={}", doubled_commas(v))?;
            }
        }
        for p in &self.properties {
            write!(
                f,
                ",{}={}",
                doubled_commas(&p.key),
                doubled_commas(&p.value)
            )?;
        }
        if self.help {
            f.write_str(",help")?;
        }
        Ok(())
    }
}

/// A parsed `-global driver.property=value` (or
/// `driver=D,property=P,value=V`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalOption {
    /// The type the global applies to (and to every type derived from it).
    pub driver: String,
    /// The property name.
    pub property: String,
    /// The value text, parsed later with the property's kind.
    pub value: String,
}

/// `DRIVER.PROPERTY=VALUE`, or the keyed form with commas doubled when
/// the driver or property holds a character the short form splits at, so
/// that it parses to the same global.
impl fmt::Display for GlobalOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.driver.contains(['.', '=']) || self.property.contains('=') {
            write!(
                f,
                "driver={},property={},value={}",
                doubled_commas(&self.driver),
                doubled_commas(&self.property),
                doubled_commas(&self.value)
            )
        } else {
            write!(f, "{}.{}={}", self.driver, self.property, self.value)
        }
    }
}

/// `text` as one parameter of an option string: each comma doubled.
fn doubled_commas(text: &str) -> DoubledCommas<'_> {
    DoubledCommas(text)
}

/// See [`doubled_commas`]: written piece by piece, nothing allocated.
struct DoubledCommas<'a>(&'a str);

impl fmt::Display for DoubledCommas<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut pieces = self.0.split(',');
        f.write_str(pieces.next().unwrap_or(""))?;
        for piece in pieces {
            f.write_str(",,")?;
            f.write_str(piece)?;
        }
        Ok(())
    }
}

/// Whether `id` is an identifier as QEMU's `id_wellformed` has it: a
/// letter, then letters, digits, `-`, `.` and `_`.
pub fn is_identifier(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// A malformed option string: which option, where, what was expected and
/// what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option}: {message}{}", self.location())]
#[non_exhaustive]
pub struct CmdlineError {
    /// `-device` or `-global`.
    pub option: &'static str,
    /// The whole option string.
    pub input: String,
    /// Byte offset in `input` where the problem starts.
    pub offset: usize,
    /// What is wrong, quoting the offending text.
    pub message: String,
    /// The offending text.
    pub found: String,
}

impl CmdlineError {
    fn new(option: &'static str, input: &str, offset: usize, message: String, found: &str) -> Self {
        CmdlineError {
            option,
            input: input.to_owned(),
            offset,
            message,
            found: found.to_owned(),
        }
    }

    /// `" at offset N of '…'"` unless the offending text is the whole input.
    fn location(&self) -> String {
        if self.offset == 0 && self.found == self.input {
            String::new()
        } else {
            format!(" (at offset {} of '{}')", self.offset, esc(&self.input))
        }
    }
}

/// One comma-separated parameter: its unescaped text and where it starts.
struct Param {
    text: String,
    offset: usize,
}

/// Split at single commas; `,,` stands for a literal comma. A trailing comma
/// is ignored, as QEMU does.
fn split_params(input: &str) -> Vec<Param> {
    let mut params = Vec::new();
    let mut text = String::new();
    let mut start = 0;
    let mut chars = input.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == ',' {
            if chars.peek().map(|&(_, n)| n) == Some(',') {
                chars.next();
                text.push(',');
                continue;
            }
            params.push(Param {
                text: std::mem::take(&mut text),
                offset: start,
            });
            start = i + 1;
        } else {
            text.push(c);
        }
    }
    if !text.is_empty() || start < input.len() || params.is_empty() {
        params.push(Param {
            text,
            offset: start,
        });
    }
    params
}

/// Parse the argument of `-device`.
///
/// ```
/// use compat_core::parse_device;
/// let d = parse_device("virtio-blk-device,id=blk0,num-queues=4,serial=a,,b").unwrap();
/// assert_eq!(d.driver, "virtio-blk-device");
/// assert_eq!(d.id.as_deref(), Some("blk0"));
/// assert_eq!(d.properties[1].value, "a,b");
/// ```
pub fn parse_device(input: &str) -> Result<DeviceOption, CmdlineError> {
    const OPT: &str = "-device";
    let err = |offset, message, found: &str| CmdlineError::new(OPT, input, offset, message, found);
    let mut driver: Option<String> = None;
    let mut id = None;
    let mut bus = None;
    let mut properties: Vec<OptionValue> = Vec::new();
    let mut help = false;
    let mut warnings = Vec::new();
    for (index, param) in split_params(input).into_iter().enumerate() {
        let (key, value) = match param.text.split_once('=') {
            Some((key, value)) => (key.to_owned(), value.to_owned()),
            // The first parameter without `=` names the driver.
            None if index == 0 && !param.text.is_empty() => {
                driver = Some(param.text);
                continue;
            }
            None if param.text.is_empty() => {
                return Err(err(
                    param.offset,
                    "expected DRIVER or KEY=VALUE, got an empty parameter".to_owned(),
                    &param.text,
                ))
            }
            None if matches!(param.text.as_str(), "help" | "?") => {
                help = true;
                continue;
            }
            // QEMU's deprecated short form of a boolean: `KEY` is
            // `KEY=on`, `noKEY` is `KEY=off`.
            None => {
                let (key, value) = match param.text.strip_prefix("no") {
                    Some(key) => (key.to_owned(), "off"),
                    None => (param.text.clone(), "on"),
                };
                warnings.push(format!(
                    "short-form boolean option '{}' deprecated\nPlease use {}={value} instead",
                    esc(&param.text),
                    esc(&key)
                ));
                (key, value.to_owned())
            }
        };
        if key.is_empty() {
            return Err(err(
                param.offset,
                format!("expected KEY=VALUE, got '{}' (empty key)", esc(&param.text)),
                &param.text,
            ));
        }
        // QEMU ends a key at the first comma; `,,` escapes commas in
        // values only.
        if key.contains(',') {
            return Err(err(
                param.offset,
                format!(
                    "expected KEY=VALUE, got '{}' (a key holds no comma)",
                    esc(&param.text)
                ),
                &param.text,
            ));
        }
        // As in QEMU: a key given twice keeps its last value, but the
        // first `id=` names the device.
        match key.as_str() {
            "driver" => driver = Some(value),
            "id" if id.is_some() => {}
            "id" if !is_identifier(&value) => {
                return Err(err(
                    param.offset,
                    "Parameter 'id' expects an identifier".to_owned(),
                    &param.text,
                ))
            }
            "id" => id = Some(value),
            "bus" => bus = Some(value),
            _ => {
                properties.retain(|p| p.key != key);
                properties.push(OptionValue {
                    key,
                    value,
                    offset: param.offset,
                });
            }
        }
    }
    let driver = match driver {
        Some(d) if !d.is_empty() => d,
        _ => {
            return Err(err(
                0,
                format!("Parameter 'driver' is missing, got '{}'", esc(input)),
                input,
            ))
        }
    };
    Ok(DeviceOption {
        driver,
        id,
        bus,
        properties,
        help,
        warnings,
    })
}

/// Parse the argument of `-global`: `DRIVER.PROPERTY=VALUE` (the value is
/// taken literally, commas included), or `driver=D,property=P,value=V` in
/// any order (with `,,` escapes).
///
/// ```
/// use compat_core::parse_global;
/// let g = parse_global("pci-device.x-pcie-err-unc-mask=off").unwrap();
/// assert_eq!((g.driver.as_str(), g.property.as_str(), g.value.as_str()),
///            ("pci-device", "x-pcie-err-unc-mask", "off"));
/// let err = parse_global("virtio-blk-device-num-queues").unwrap_err();
/// assert_eq!(err.to_string(),
///            "-global: expected DRIVER.PROPERTY=VALUE, got 'virtio-blk-device-num-queues'");
/// ```
pub fn parse_global(input: &str) -> Result<GlobalOption, CmdlineError> {
    if let Some(global) = parse_global_dotted(input) {
        return Ok(global);
    }
    let first_key = input.split([',', '=']).next().unwrap_or("");
    if input.contains('=') && matches!(first_key, "driver" | "property" | "value") {
        return parse_global_keyed(input);
    }
    // Point at the part that broke the DRIVER.PROPERTY=VALUE shape.
    let offset = match input.find(['.', '=']) {
        Some(i) if input[i..].starts_with('.') && i > 0 => i + 1,
        _ => 0,
    };
    Err(CmdlineError::new(
        "-global",
        input,
        offset,
        format!("expected DRIVER.PROPERTY=VALUE, got '{}'", esc(input)),
        input,
    ))
}

/// QEMU's `sscanf("%[^.=].%[^=]=")`: the driver ends at the first `.`, the
/// property at the first `=` after it.
fn parse_global_dotted(input: &str) -> Option<GlobalOption> {
    let dot = input.find(['.', '='])?;
    if dot == 0 || !input[dot..].starts_with('.') {
        return None;
    }
    let rest = &input[dot + 1..];
    let eq = rest.find('=')?;
    if eq == 0 {
        return None;
    }
    Some(GlobalOption {
        driver: input[..dot].to_owned(),
        property: rest[..eq].to_owned(),
        value: rest[eq + 1..].to_owned(),
    })
}

fn parse_global_keyed(input: &str) -> Result<GlobalOption, CmdlineError> {
    const OPT: &str = "-global";
    let err = |offset, message, found: &str| CmdlineError::new(OPT, input, offset, message, found);
    let mut fields: [Option<String>; 3] = [None, None, None];
    for param in split_params(input) {
        let Some((key, value)) = param.text.split_once('=') else {
            return Err(err(
                param.offset,
                format!("expected KEY=VALUE, got '{}'", esc(&param.text)),
                &param.text,
            ));
        };
        let slot = match key {
            "driver" => 0,
            "property" => 1,
            "value" => 2,
            _ => {
                return Err(err(
                    param.offset,
                    format!(
                        "Invalid parameter '{}'{}",
                        esc(key),
                        crate::text::suggest::did_you_mean(key, ["driver", "property", "value"])
                    ),
                    key,
                ))
            }
        };
        // A key given twice keeps its last value, as in QEMU.
        fields[slot] = Some(value.to_owned());
    }
    match fields {
        [Some(driver), Some(property), Some(value)]
            if !driver.is_empty() && !property.is_empty() =>
        {
            Ok(GlobalOption {
                driver,
                property,
                value,
            })
        }
        _ => Err(err(
            0,
            format!(
                "options 'driver', 'property', and 'value' are required, got '{}'",
                esc(input)
            ),
            input,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(d: &DeviceOption) -> Vec<(&str, &str, usize)> {
        d.properties
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str(), p.offset))
            .collect()
    }

    #[test]
    fn device_strings() {
        let d = parse_device("virtio-blk-device").unwrap();
        assert_eq!(d.driver, "virtio-blk-device");
        assert!(d.properties.is_empty() && d.id.is_none() && d.bus.is_none());

        let d = parse_device("pcie-root-port,id=rp0,bus=pcie.0,x-pcie-err-unc-mask=off,").unwrap();
        assert_eq!(d.id.as_deref(), Some("rp0"));
        assert_eq!(d.bus.as_deref(), Some("pcie.0"));
        assert_eq!(props(&d), [("x-pcie-err-unc-mask", "off", 33)]);

        let d = parse_device("driver=e1000e,serial=x,,y,,,z=1").unwrap();
        assert_eq!(d.driver, "e1000e");
        assert_eq!(props(&d), [("serial", "x,y,", 14), ("z", "1", 28)]);

        // The implied driver takes `,,` escapes like any value; the registry
        // rejects the name later.
        assert_eq!(parse_device("a,,b").unwrap().driver, "a,b");

        let d = parse_device("virtio-blk-device,num-queues=4,opt=a=b").unwrap();
        assert_eq!(props(&d)[1], ("opt", "a=b", 31));
    }

    #[test]
    fn device_options_print_back_canonically() {
        for text in [
            "e1000e",
            "virtio-blk-device,id=blk0,bus=pci.0,serial=a,,b,num-queues=4",
        ] {
            let d = parse_device(text).unwrap();
            assert_eq!(d.to_string(), text);
            assert_eq!(parse_device(&d.to_string()).unwrap(), d);
        }
        let d = parse_device("driver=e1000e,mac=1,id=n0").unwrap();
        assert_eq!(d.to_string(), "e1000e,id=n0,mac=1");
        // A key holds no comma (QEMU ends a key there), so a printed
        // option never reads differently.
        let e = parse_device("e1000e,a,,b=1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "-device: expected KEY=VALUE, got 'a,b=1' (a key holds no comma) \
             (at offset 7 of 'e1000e,a,,b=1')"
        );
        let d = parse_device("e1000e,serial=a,,b,x=,,").unwrap();
        assert_eq!(d.to_string(), "e1000e,serial=a,,b,x=,,");
        let d = parse_device("driver=a=b,x=1").unwrap();
        assert_eq!(d.to_string(), "driver=a=b,x=1");
        for text in ["a.b.c=1", "driver=x=y,property=p,value=1,,2"] {
            let g = parse_global(text).unwrap();
            assert_eq!(parse_global(&g.to_string()).unwrap(), g, "{text}");
        }
    }

    #[test]
    fn repeated_keys_and_short_forms_as_in_qemu() {
        // The last value of a key wins, the driver's too; the first id.
        let d = parse_device("pcie-root-port,driver=e1000e,id=x,id=y,subsys=1,subsys=2").unwrap();
        assert_eq!((d.driver.as_str(), d.id.as_deref()), ("e1000e", Some("x")));
        assert_eq!(props(&d), [("subsys", "2", 48)]);
        assert_eq!(d.to_string(), "e1000e,id=x,subsys=2");
        // `KEY` is `KEY=on`, `noKEY` is `KEY=off`, each with QEMU's warning.
        let d = parse_device("e1000e,migrate-timadj,nomultifunction").unwrap();
        assert_eq!(
            props(&d),
            [("migrate-timadj", "on", 7), ("multifunction", "off", 22)]
        );
        assert_eq!(
            d.warnings,
            [
                "short-form boolean option 'migrate-timadj' deprecated\n\
                 Please use migrate-timadj=on instead",
                "short-form boolean option 'nomultifunction' deprecated\n\
                 Please use multifunction=off instead"
            ]
        );
        assert_eq!(d.to_string(), "e1000e,migrate-timadj=on,multifunction=off");
        // `help` and `?` ask for the type's properties.
        for text in ["e1000e,help", "e1000e,id=x,?"] {
            let d = parse_device(text).unwrap();
            assert!(d.help && d.warnings.is_empty(), "{text}");
        }
        let g = parse_global("driver=a,property=p,value=1,driver=b").unwrap();
        assert_eq!(g.to_string(), "b.p=1");
    }

    #[test]
    fn ids_are_identifiers_as_in_qemu() {
        for good in ["a", "blk0", "n-1.x_y", "Z9"] {
            assert_eq!(
                parse_device(&format!("e1000e,id={good}"))
                    .unwrap()
                    .id
                    .unwrap(),
                good
            );
        }
        for bad in ["1abc", "a b", "_x", "", "e1000e[0]", "a/b", "\u{e9}t\u{e9}"] {
            let text = format!("e1000e,id={bad}");
            let e = parse_device(&text).unwrap_err();
            assert_eq!(e.message, "Parameter 'id' expects an identifier", "{bad}");
            assert_eq!(e.offset, 7);
        }
    }

    #[test]
    fn outside_text_is_escaped_in_errors() {
        let e = parse_device("e1000e,\u{1b}[2Jfake\nline,,x=1").unwrap_err();
        let text = e.to_string();
        assert!(!text.contains('\u{1b}') && !text.contains('\n'), "{text}");
        assert!(text.contains("\\u{1b}[2Jfake\\nline"), "{text}");
    }

    #[test]
    fn device_errors() {
        let cases = [
            (
                "virtio-blk-device,=4",
                "-device: expected KEY=VALUE, got '=4' (empty key) \
                 (at offset 18 of 'virtio-blk-device,=4')",
            ),
            (
                "num-queues=4",
                "-device: Parameter 'driver' is missing, got 'num-queues=4'",
            ),
            (
                "",
                "-device: expected DRIVER or KEY=VALUE, got an empty parameter",
            ),
            (
                "driver=,x=1",
                "-device: Parameter 'driver' is missing, got 'driver=,x=1'",
            ),
        ];
        for (input, want) in cases {
            let got = parse_device(input).map(|d| format!("{d:?}"));
            assert_eq!(
                got.map_err(|e| e.to_string()),
                Err(want.to_owned()),
                "{input}"
            );
        }
    }

    #[test]
    fn global_strings() {
        let g = parse_global("virtio-blk-device.num-queues=4").unwrap();
        assert_eq!(g.to_string(), "virtio-blk-device.num-queues=4");
        let g = parse_global("ICH9-LPC.x.y=a,b").unwrap();
        assert_eq!(
            (g.driver.as_str(), g.property.as_str(), g.value.as_str()),
            ("ICH9-LPC", "x.y", "a,b")
        );
        let g = parse_global("isa-fdc.driveA=").unwrap();
        assert_eq!(g.value, "");
        let g = parse_global("property=num-queues,value=2,,3,driver=virtio-blk-device").unwrap();
        assert_eq!(g.to_string(), "virtio-blk-device.num-queues=2,3");
    }

    #[test]
    fn global_errors() {
        let cases = [
            (
                "virtio-blk-device-num-queues",
                "-global: expected DRIVER.PROPERTY=VALUE, got 'virtio-blk-device-num-queues'",
            ),
            (
                "virtio-blk-device.num-queues",
                "-global: expected DRIVER.PROPERTY=VALUE, got 'virtio-blk-device.num-queues' \
                 (at offset 18 of 'virtio-blk-device.num-queues')",
            ),
            (
                ".num-queues=4",
                "-global: expected DRIVER.PROPERTY=VALUE, got '.num-queues=4'",
            ),
            (
                "virtio-blk-device.=4",
                "-global: expected DRIVER.PROPERTY=VALUE, got 'virtio-blk-device.=4' \
                 (at offset 18 of 'virtio-blk-device.=4')",
            ),
            (
                "driver=virtio-blk-device,property=num-queues",
                "-global: options 'driver', 'property', and 'value' are required, \
                 got 'driver=virtio-blk-device,property=num-queues'",
            ),
            (
                "driver=a,proprety=b,value=c",
                "-global: Invalid parameter 'proprety'; did you mean 'property'? \
                 (at offset 9 of 'driver=a,proprety=b,value=c')",
            ),
            (
                "driver=a,property,value=v",
                "-global: expected KEY=VALUE, got 'property' \
                 (at offset 9 of 'driver=a,property,value=v')",
            ),
            ("", "-global: expected DRIVER.PROPERTY=VALUE, got ''"),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_global(input).map_err(|e| e.to_string()),
                Err(want.to_owned()),
                "{input}"
            );
        }
    }
}
