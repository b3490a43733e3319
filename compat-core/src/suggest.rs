//! "Did you mean …?" for every place a user can misspell a name: property
//! names, device types, attribute keys in the derives, machine types.

/// Edit distance between two strings, counted in `char`s: insertions,
/// deletions, substitutions, and swaps of two adjacent characters (the
/// commonest typo, `nmae` for `name`), each costing one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate closest to `input`, if it is close enough to be a plausible
/// misspelling: at most a third of the input's length away (and never more
/// than 3 edits), equal once `-` and `_` are treated alike — QEMU's own
/// `num_queues` / `num-queues` trap — or a longer name the input begins
/// (`virtio-blk` for `virtio-blk-device`).
pub fn closest<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let normalized = normalize(input);
    let limit = (input.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != input)
        .map(|c| {
            let c_normalized = normalize(c);
            let d = if c_normalized == normalized {
                0
            } else if normalized.len() >= 3 && c_normalized.starts_with(&normalized) {
                limit
            } else {
                edit_distance(input, c)
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
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

fn normalize(s: &str) -> String {
    s.replace('_', "-").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("nmae", "name"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
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
    }
}
