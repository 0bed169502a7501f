//! Folding of header and attribute names for matching, and "did you mean" distances.
//!
//! Two names match when their folded forms are equal: lower case, look-alike Cyrillic and
//! Greek letters replaced by the Latin letters they imitate, and everything that is not a
//! letter or digit dropped. The vendor's own document writes "Сompany Name" with a Cyrillic
//! "С", and spreadsheets write "E-Mail", "e_mail" and "Email" for one attribute. Both sides
//! of a comparison are folded the same way, so names in any script still match themselves.

/// The folded form of a header or attribute name.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if let Some(latin) = look_alike(c) {
            out.push(latin);
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The Latin letter a Cyrillic or Greek letter is commonly mistaken for, in lower case.
fn look_alike(c: char) -> Option<char> {
    let latin = match c {
        'А' | 'а' | 'Α' | 'α' => 'a',
        'В' | 'в' | 'Β' | 'β' => 'b',
        'С' | 'с' | 'Ϲ' | 'ϲ' => 'c',
        'Е' | 'е' | 'Ё' | 'ё' | 'Ε' | 'ε' => 'e',
        'Н' | 'н' | 'Η' => 'h',
        'І' | 'і' | 'Ι' | 'ι' => 'i',
        'Ј' | 'ј' => 'j',
        'К' | 'к' | 'Κ' | 'κ' => 'k',
        'М' | 'м' | 'Μ' => 'm',
        'Ν' => 'n',
        'О' | 'о' | 'Ο' | 'ο' => 'o',
        'Р' | 'р' | 'Ρ' | 'ρ' => 'p',
        'Ѕ' | 'ѕ' => 's',
        'Т' | 'т' | 'Τ' | 'τ' => 't',
        'Х' | 'х' | 'Χ' | 'χ' => 'x',
        'У' | 'у' | 'Υ' => 'y',
        'Ζ' => 'z',
        _ => return None,
    };
    Some(latin)
}

/// The Levenshtein distance between two strings, counted in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Whether `candidate` is close enough to `wanted` (both folded) to be suggested: a few
/// edits for short names, about a third of the length for long ones, or one containing the
/// other.
pub fn is_close(wanted: &str, candidate: &str) -> Option<usize> {
    if wanted.is_empty() || candidate.is_empty() {
        return None;
    }
    let d = distance(wanted, candidate);
    let allowed = (wanted.chars().count().max(candidate.chars().count()) / 3).max(2);
    if d <= allowed {
        Some(d)
    } else if (wanted.len() >= 3 && candidate.contains(wanted))
        || (candidate.len() >= 3 && wanted.contains(candidate))
    {
        Some(allowed + 1)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_punctuation_and_look_alikes() {
        assert_eq!(fold("  E-Mail "), "email");
        assert_eq!(fold("e_mail"), "email");
        assert_eq!(fold("Сompany Name"), "companyname");
        assert_eq!(fold("ОRG_NАМЕ"), "orgname");
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("webiste", "website"), 2);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("name", "name"), 0);
    }
}
