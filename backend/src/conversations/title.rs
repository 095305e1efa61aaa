//! Title rules: what a title may be when someone sets it, and the one made from a
//! conversation's first question.

use crate::error::ApiError;

const MAX_TITLE_CHARS: usize = 200;

/// A title as stored: trimmed, 1 to 200 characters, no control characters.
pub fn parse_title(raw: &str) -> Result<String, ApiError> {
    let title: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "title must not contain control characters",
        ));
    }
    let chars = title.chars().count();
    if chars == 0 || chars > MAX_TITLE_CHARS {
        return Err(ApiError::validation(format!(
            "title must be 1 to {MAX_TITLE_CHARS} characters (got {chars})"
        )));
    }
    Ok(title)
}

/// A conversation title from its first question: the first line, at most 60 characters,
/// cut at a word.
pub fn title_from(question: &str) -> String {
    const MAX: usize = 60;
    let line: String = question
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(question)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if line.chars().count() <= MAX {
        return line;
    }
    let cut: String = line.chars().take(MAX).collect();
    let at_word = cut
        .rfind(' ')
        .filter(|&i| i > MAX / 2)
        .map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end_matches([',', '.', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_the_first_line_cut_at_a_word() {
        assert_eq!(
            title_from("  How do I   reset it?\nmore"),
            "How do I reset it?"
        );
        let long = "Explain the difference between keyset pagination and offset pagination in detail please";
        let title = title_from(long);
        assert!(
            title.ends_with('…') && title.chars().count() <= 61,
            "{title}"
        );
        assert!(long.starts_with(title.trim_end_matches('…')));
    }
}
