//! Three-way merge of a free-text field edited in a form: the user started from `base`
//! and typed `mine`, while the document moved on to `theirs` (another tab, another
//! device). Writing `mine` as is would undo their edit (the text is diffed against the
//! current document); writing the merge keeps both. Automerge then merges character-wise
//! with edits made concurrently elsewhere.

/// The one region of `base` that `edited` replaced: (start, end in base, replacement).
fn splice(base: &[char], edited: &[char]) -> (usize, usize, Vec<char>) {
    let prefix = base.iter().zip(edited).take_while(|(a, b)| a == b).count();
    let max_suffix = base.len().min(edited.len()) - prefix;
    let suffix = base.iter().rev().zip(edited.iter().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
    (prefix, base.len() - suffix, edited[prefix..edited.len() - suffix].to_vec())
}

pub fn merge3(base: &str, mine: &str, theirs: &str) -> String {
    if mine == base {
        return theirs.to_string();
    }
    if theirs == base || theirs == mine {
        return mine.to_string();
    }
    let b: Vec<char> = base.chars().collect();
    let (m0, m1, m_ins) = splice(&b, &mine.chars().collect::<Vec<_>>());
    let (t0, t1, t_ins) = splice(&b, &theirs.chars().collect::<Vec<_>>());
    let mut out: Vec<char>;
    if m1 <= t0 || t1 <= m0 {
        // Separate regions: apply the later one first so the earlier offsets hold.
        out = b.clone();
        let (mut first, mut second) = ((m0, m1, m_ins), (t0, t1, t_ins));
        if (second.0, second.1) > (first.0, first.1) {
            std::mem::swap(&mut first, &mut second);
        }
        out.splice(first.0..first.1, first.2);
        out.splice(second.0..second.1, second.2);
    } else {
        // Both changed the same words: theirs around, mine in the overlap.
        let (u0, u1) = (m0.min(t0), m1.max(t1));
        let mut mid: Vec<char> = b[u0..m0].to_vec();
        mid.extend(m_ins);
        mid.extend(&b[m1..u1]);
        out = b[..u0].to_vec();
        out.extend(mid);
        out.extend(&b[u1..]);
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::merge3;

    #[test]
    fn both_edits_survive_when_they_touch_different_places() {
        let cases = [
            ("喜欢酱香型", "老板喜欢酱香型", "喜欢酱香型，月底进货", "老板喜欢酱香型，月底进货"),
            ("abc", "abc", "abX", "abX"),
            ("abc", "aXc", "abc", "aXc"),
            ("", "mine", "theirs", "theirsmine"),
            ("one two", "one 2", "1 two", "1 2"),
            ("hello", "hello world", "hello there", "hello there world"),
        ];
        for (base, mine, theirs, want) in cases {
            assert_eq!(merge3(base, mine, theirs), want, "{base:?} {mine:?} {theirs:?}");
        }
    }

    #[test]
    fn the_same_words_changed_twice_keep_mine() {
        assert_eq!(merge3("price 100", "price 120", "price 110"), "price 120");
    }
}
