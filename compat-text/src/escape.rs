//! Text from outside — a stream's section names, a command line's values —
//! made safe to print: control characters (terminal escape codes, line
//! breaks that would fake further lines), quotes and backslashes are
//! written as Rust escapes, so what is printed is one unambiguous token.

use core::fmt;

/// `text`, displayed with control characters, invisible formatting
/// characters, quotes and backslashes escaped (`\n`, `\u{1b}`, `\'`); other
/// characters, non-ASCII letters included, as they are.
///
/// ```
/// use compat_text::escape::escaped;
/// assert_eq!(escaped("virtio-blk").to_string(), "virtio-blk");
/// assert_eq!(escaped("a\nb'\u{1b}[2J").to_string(), "a\\nb\\'\\u{1b}[2J");
/// ```
pub fn escaped(text: &str) -> Escaped<'_> {
    Escaped(text)
}

/// See [`escaped`].
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        let text = self.0;
        // Names are almost always plain; they print in one piece.
        if !text.chars().any(needs_escape) {
            return f.write_str(text);
        }
        for c in text.chars() {
            if needs_escape(c) {
                for e in c.escape_debug() {
                    f.write_char(e)?;
                }
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// Whether `c` must not reach a terminal as it is.
fn needs_escape(c: char) -> bool {
    match c {
        '\'' | '"' | '\\' => true,
        ' '..='~' => false,
        // Other characters: those `escape_debug` would write otherwise
        // (controls, bidirectional overrides, unassigned code points).
        c => c.is_control() || c.escape_debug().nth(1).is_some(),
    }
}

/// Whether `text` would print as it is.
pub fn is_plain(text: &str) -> bool {
    !text.chars().any(needs_escape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_print_unchanged() {
        for name in ["0000:00:03.0/pcie-root-port", "e1000e", "pc-q35-7.2", "é"] {
            assert_eq!(escaped(name).to_string(), name);
            assert!(is_plain(name));
        }
    }

    #[test]
    fn controls_quotes_and_overrides_are_escaped() {
        assert_eq!(escaped("a'b").to_string(), "a\\'b");
        assert_eq!(escaped("x\r\ny").to_string(), "x\\r\\ny");
        assert_eq!(escaped("\u{1b}[31m").to_string(), "\\u{1b}[31m");
        assert_eq!(escaped("\u{202e}abc").to_string(), "\\u{202e}abc");
        assert_eq!(escaped("\u{7f}").to_string(), "\\u{7f}");
        assert!(!is_plain("a\tb"));
    }
}
