//! "Did you mean …?": the known name closest to one that is not known, for
//! the errors that name an unknown step, check, parameter, lab, quiz, roster
//! column, check kind or quiz field.

/// How alike two names must be (Jaro–Winkler, 0 to 1) to suggest one for
/// the other: a typo or two, a missing or doubled letter, not another word.
const ALIKE: f64 = 0.85;

/// The candidate most like `word` (ignoring case), if one is alike enough
/// to be what was meant.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(|c| (strsim::jaro_winkler(&word, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= ALIKE)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `; did you mean `NAME`?` for the [`closest`] candidate, or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_name_a_typo_meant_and_nothing_for_another_word() {
        let params = ["region", "bucket", "cache", "db_instance", "eb_env", "eb_app"];
        assert_eq!(closest("buckett", params), Some("bucket"));
        assert_eq!(closest("Bukket", params), Some("bucket"));
        assert_eq!(closest("db_instnace", params), Some("db_instance"));
        assert_eq!(closest("eb_ap", params), Some("eb_app"));
        assert_eq!(closest("colour", params), None);
        assert_eq!(closest("", params), None);
        assert_eq!(closest("bucket", []), None);
        assert_eq!(
            did_you_mean("s3.corss", ["s3.cors", "s3.bucket"]),
            "; did you mean `s3.cors`?"
        );
        assert_eq!(did_you_mean("zzz", ["s3.cors"]), "");
    }
}
