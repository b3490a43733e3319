//! "Did you mean …?" for every place a user can misspell a name: property
//! names, device types, attribute keys in the derives, machine types, and
//! compat-set entries checked by the compiler — which is why the scoring is
//! a `const fn`.

/// Names longer than this get no suggestion (the scoring runs in `const`
/// evaluation, on fixed-size rows). QEMU itself caps type and property
/// names in `-global` at 63 characters.
pub const MAX_SUGGESTED_LEN: usize = 64;

/// Edit distance between two strings, counted in bytes: insertions,
/// deletions, substitutions, and swaps of two adjacent characters (the
/// commonest typo, `nmae` for `name`), each costing one. `None` when either
/// is longer than [`MAX_SUGGESTED_LEN`].
pub const fn edit_distance(a: &str, b: &str) -> Option<usize> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() > MAX_SUGGESTED_LEN || b.len() > MAX_SUGGESTED_LEN {
        return None;
    }
    // Three rows of the table: i-2, i-1 and i.
    let mut two_up = [0usize; MAX_SUGGESTED_LEN + 1];
    let mut up = [0usize; MAX_SUGGESTED_LEN + 1];
    let mut row = [0usize; MAX_SUGGESTED_LEN + 1];
    let mut j = 0;
    while j <= b.len() {
        up[j] = j;
        j += 1;
    }
    let mut i = 1;
    while i <= a.len() {
        row[0] = i;
        let mut j = 1;
        while j <= b.len() {
            let cost = if a[i - 1] == b[j - 1] { 0 } else { 1 };
            let mut best = min(min(up[j] + 1, row[j - 1] + 1), up[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = min(best, two_up[j - 2] + 1);
            }
            row[j] = best;
            j += 1;
        }
        two_up = up;
        up = row;
        i += 1;
    }
    Some(up[b.len()])
}

const fn min(a: usize, b: usize) -> usize {
    if a < b {
        a
    } else {
        b
    }
}

/// How plausible `candidate` is as what the user meant by `input`: `Some`
/// score (lower is closer) when it is at most a third of the input's length
/// away (never more than 3 edits), equal once `-`/`_` and case are ignored —
/// QEMU's own `num_queues` / `num-queues` trap — or a longer name the input
/// begins (`virtio-blk` for `virtio-blk-device`). An exact match is no
/// suggestion.
pub const fn score(input: &str, candidate: &str) -> Option<usize> {
    let (x, y) = (input.as_bytes(), candidate.as_bytes());
    let limit = {
        let third = x.len() / 3;
        if third < 1 {
            1
        } else if third > 3 {
            3
        } else {
            third
        }
    };
    if x.len() == y.len() {
        let mut exact = true;
        let mut loose = true;
        let mut i = 0;
        while i < x.len() {
            exact &= x[i] == y[i];
            loose &= fold(x[i]) == fold(y[i]);
            i += 1;
        }
        if exact {
            return None;
        }
        if loose {
            return Some(0);
        }
    }
    if x.len() >= 3 && y.len() > x.len() {
        let mut i = 0;
        while i < x.len() && fold(x[i]) == fold(y[i]) {
            i += 1;
        }
        if i == x.len() {
            return Some(limit);
        }
    }
    match edit_distance(input, candidate) {
        Some(d) if d <= limit => Some(d),
        _ => None,
    }
}

const fn fold(c: u8) -> u8 {
    if c == b'_' {
        b'-'
    } else {
        c.to_ascii_lowercase()
    }
}

/// The candidate closest to `input`, if any is plausible (see [`score`]).
pub fn closest<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
        .filter_map(|c| score(input, c).map(|s| (s, c)))
        .min_by_key(|(s, _)| *s)
        .map(|(_, c)| c)
}

/// `"; did you mean 'x'?"`, or nothing: the tail every not-found error uses.
pub fn did_you_mean<'a, I>(input: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match closest(input, candidates) {
        Some(c) => format!("; did you mean '{c}'?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("", ""), Some(0));
        assert_eq!(edit_distance("abc", ""), Some(3));
        assert_eq!(edit_distance("kitten", "sitting"), Some(3));
        assert_eq!(edit_distance("nmae", "name"), Some(1));
        assert_eq!(edit_distance("ab", "ba"), Some(1));
        assert_eq!(edit_distance("ca", "abc"), Some(3));
        assert_eq!(edit_distance(&"x".repeat(65), "x"), None);
        const D: Option<usize> = edit_distance("hw_compat_7_2", "hw_compat_7_1");
        assert_eq!(D, Some(1));
    }

    #[test]
    fn suggestions() {
        let names = ["name", "parent", "abstract", "hotpluggable"];
        assert_eq!(closest("nmae", names), Some("name"));
        assert_eq!(closest("parnet", names), Some("parent"));
        assert_eq!(closest("zzzzzz", names), None);
        assert_eq!(
            closest("name", names),
            None,
            "an exact match is no suggestion"
        );
        assert_eq!(
            closest("num_queues", ["num-queues", "queue-size"]),
            Some("num-queues")
        );
        assert_eq!(
            did_you_mean("defualt", ["default", "bit"]),
            "; did you mean 'default'?"
        );
        assert_eq!(did_you_mean("x", ["default"]), "");
        assert_eq!(
            closest("virtio-blk", ["virtio-blk-device", "virtio-device"]),
            Some("virtio-blk-device")
        );
        assert_eq!(closest("vi", ["virtio-blk-device"]), None);
        assert_eq!(closest("Q35", ["q35", "pc"]), Some("q35"));
    }
}
