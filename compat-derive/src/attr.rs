//! Helpers to read `#[device(...)]`, `#[property(...)]` and
//! `#[property_enum(...)]` keys: one slot per key that reports duplicates,
//! "did you mean" for unknown keys, and doc comments.

use proc_macro2::Span;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;

use crate::ctxt::Ctxt;

/// One key of an attribute: remembers its value and rejects a second one.
pub struct Slot<T> {
    attr: &'static str,
    key: &'static str,
    value: Option<(T, Span)>,
}

impl<T> Slot<T> {
    pub fn new(attr: &'static str, key: &'static str) -> Self {
        Slot {
            attr,
            key,
            value: None,
        }
    }

    /// Store `value` read at `span`; a second value is an error at `span`.
    pub fn set(&mut self, cx: &Ctxt, span: Span, value: T) {
        if self.value.is_some() {
            cx.error_at(
                span,
                format!("duplicate `{}` in #[{}(...)]", self.key, self.attr),
            );
        } else {
            self.value = Some((value, span));
        }
    }

    pub fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(v, _)| v)
    }

    pub fn span(&self) -> Option<Span> {
        self.value.as_ref().map(|(_, s)| *s)
    }

    pub fn take(self) -> Option<(T, Span)> {
        self.value
    }
}

/// Report an unknown key of `#[attr(...)]` with the closest known one, and
/// skip its value so the keys after it are still read.
fn unknown_key(cx: &Ctxt, attr: &str, meta: &ParseNestedMeta, known: &[&str]) -> syn::Result<()> {
    let key = meta
        .path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| meta.path.to_token_stream().to_string());
    let hint = match compat_text::suggest::closest(&key, known.iter().copied()) {
        Some(k) => format!("; did you mean `{k}`?"),
        None => format!("; expected one of {}", backticked(known)),
    };
    cx.error_spanned_by(
        &meta.path,
        format!("unknown key `{key}` in #[{attr}(...)]{hint}"),
    );
    skip_value(meta)
}

fn backticked(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Consume `= value` or `(...)` after a key we do not use.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in meta.input);
        // Parenthesized content is ignored as a whole.
        let _ = _content.parse::<proc_macro2::TokenStream>()?;
    }
    Ok(())
}

/// The span of the whole `key = value` being parsed, for errors about it.
fn key_span(meta: &ParseNestedMeta) -> Span {
    meta.path.span()
}

/// The first paragraph of the item's doc comments, as one line.
pub fn doc_summary(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            {
                let line = s.value().trim().to_owned();
                if line.is_empty() {
                    if !lines.is_empty() {
                        break;
                    }
                } else {
                    lines.push(line);
                }
            }
        }
    }
    lines.join(" ")
}

/// Check a user-visible name (device type, property or enum value): what
/// QEMU's option syntax can carry. `also_forbidden` adds characters the
/// particular place cannot hold (a `.` in a device type name would break
/// `-global DRIVER.PROPERTY=VALUE`).
pub fn check_name(cx: &Ctxt, lit: &syn::LitStr, what: &str, also_forbidden: &[char]) {
    let name = lit.value();
    if name.is_empty() {
        cx.error_spanned_by(lit, format!("{what} must not be empty"));
        return;
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, ',' | '=') || c.is_whitespace() || also_forbidden.contains(c))
    {
        let why = match c {
            ',' => "it separates options in `-device` strings",
            '=' => "it separates keys from values",
            '.' => "it separates the type from the property in `-global DRIVER.PROPERTY=VALUE`",
            _ => "option strings cannot carry it",
        };
        cx.error_spanned_by(
            lit,
            format!("{what} `{name}` contains {c:?}, which is not allowed: {why}"),
        );
    }
}

/// A type as the user wrote it, without the token spacing of
/// `TokenStream::to_string` (`Vec<u8>`, not `Vec < u8 >`).
pub fn type_text(ty: &syn::Type) -> String {
    let raw = ty.to_token_stream().to_string();
    raw.replace("& ", "&")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ::", "::")
        .replace(":: ", "::")
        .replace(" ,", ",")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace("[ ", "[")
        .replace(" ]", "]")
        .replace(" ;", ";")
}

/// Read every `#[name(...)]` among `attrs`: `on_key` is called with each key
/// listed in `known` and its span (it reads the value, if any); an unknown
/// key is reported with the closest known one and skipped; malformed syntax
/// is reported and the rest of that attribute skipped. The one loop every
/// attribute of every macro is read with. Returns whether every attribute
/// parsed.
pub fn read_keys(
    cx: &Ctxt,
    attrs: &[syn::Attribute],
    name: &'static str,
    known: &[&'static str],
    mut on_key: impl FnMut(&'static str, Span, &ParseNestedMeta) -> syn::Result<()>,
) -> bool {
    let mut ok = true;
    for attr in attrs.iter().filter(|a| a.path().is_ident(name)) {
        let parsed =
            attr.parse_nested_meta(|meta| match known.iter().find(|k| meta.path.is_ident(k)) {
                Some(key) => on_key(key, key_span(&meta), &meta),
                None => unknown_key(cx, name, &meta, known),
            });
        if let Err(e) = parsed {
            cx.syn_error(e);
            ok = false;
        }
    }
    ok
}

/// `key` alone means true; `key = true|false` says so explicitly.
pub fn parse_flag(meta: &ParseNestedMeta) -> syn::Result<bool> {
    if meta.input.peek(syn::Token![=]) {
        let lit: syn::LitBool = meta.value()?.parse()?;
        Ok(lit.value)
    } else {
        Ok(true)
    }
}

/// `expr` without the invisible groups a `macro_rules!` parameter
/// (`$x:expr`) wraps it in: what the user wrote, to check as a literal.
pub fn ungrouped(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Group(g) => ungrouped(&g.expr),
        _ => expr,
    }
}

/// The value of `key = value`.
pub fn value<T: syn::parse::Parse>(meta: &ParseNestedMeta) -> syn::Result<T> {
    meta.value()?.parse()
}

/// What a struct derive says when it is given the wrong shape of input.
pub struct StructDerive {
    /// `#[derive(VMState)]`.
    pub derive: &'static str,
    /// Why the fields must be named.
    pub why_named: &'static str,
    /// What to say after "not an enum".
    pub enum_hint: &'static str,
    /// What to say after "does not support generic parameters".
    pub generic_hint: &'static str,
}

/// The named fields of a struct deriving `d.derive` (none for a unit
/// struct), or `None` with the error recorded; generic parameters are
/// reported too (a derived type is one concrete type).
pub fn struct_fields<'a>(
    cx: &Ctxt,
    input: &'a syn::DeriveInput,
    d: &StructDerive,
) -> Option<Vec<&'a syn::Field>> {
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &input.generics,
            format!(
                "{} does not support generic parameters{}",
                d.derive, d.generic_hint
            ),
        );
    }
    match &input.data {
        syn::Data::Struct(s) => match &s.fields {
            syn::Fields::Named(f) => Some(f.named.iter().collect()),
            syn::Fields::Unit => Some(Vec::new()),
            syn::Fields::Unnamed(f) => {
                cx.error_spanned_by(f, format!("{} needs {}", d.derive, d.why_named));
                None
            }
        },
        syn::Data::Enum(e) => {
            cx.error_spanned_by(
                e.enum_token,
                format!(
                    "{} needs a struct with named fields, not an enum{}",
                    d.derive, d.enum_hint
                ),
            );
            None
        }
        syn::Data::Union(u) => {
            cx.error_spanned_by(
                u.union_token,
                format!("{} needs a struct with named fields, not a union", d.derive),
            );
            None
        }
    }
}
