//! Object names: the Kubernetes rules they follow, and ASCII slugs of Vietnamese names.

/// Whether `name` is a DNS-1123 subdomain (what Kubernetes accepts as `metadata.name`).
pub fn is_dns1123_subdomain(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 253
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

/// An ASCII slug of a (Vietnamese) name: `Phường Ba Đình` → `phuong-ba-dinh`.
pub fn slug(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The closest candidate to `word` by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.chars().count().max(3) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_drop_diacritics() {
        assert_eq!(slug("Phường Ba Đình"), "phuong-ba-dinh");
        assert_eq!(slug("Đặc khu Bạch Long Vĩ"), "dac-khu-bach-long-vi");
        assert_eq!(
            slug("Sở Thông tin và Truyền thông"),
            "so-thong-tin-va-truyen-thong"
        );
    }

    #[test]
    fn dns_names() {
        assert!(is_dns1123_subdomain("cpe-00004.hanoi"));
        assert!(!is_dns1123_subdomain("Phường"));
        assert!(!is_dns1123_subdomain("-a"));
        assert!(!is_dns1123_subdomain(""));
    }

    #[test]
    fn typo_suggestions() {
        assert_eq!(closest("Devise", ["Device", "Region"]), Some("Device"));
        assert_eq!(closest("heightU", ["heightU", "powerKw"]), Some("heightU"));
        assert_eq!(closest("zzz", ["Device"]), None);
    }
}
