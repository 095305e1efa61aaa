//! Snippets: PostgreSQL's `ts_headline` marks the matches with two private-use characters, and
//! sees `<` and `>` as two others, as the index does (all four are stripped from the text
//! first, so none can come from it); this turns its output back into the plain text, in
//! segments, and marks a cut with `…`.

use shared::search::Segment;

/// The characters `ts_headline` is told to put around a match.
pub const START: char = '\u{E000}';
pub const STOP: char = '\u{E001}';
/// What `<` and `>` are while PostgreSQL parses the text.
pub const LT: char = '\u{E002}';
pub const GT: char = '\u{E003}';

/// Segments of a marked headline of `text` (the text with the markers stripped). A headline
/// that starts or ends inside the text gets `…` there.
pub fn segments(headline: &str, text: &str) -> Vec<Segment> {
    let headline: String = headline
        .chars()
        .map(|c| match c {
            LT => '<',
            GT => '>',
            c => c,
        })
        .collect();
    let mut out: Vec<Segment> = Vec::new();
    let mut push = |piece: &str, mark: bool| {
        if piece.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(last) if last.mark == mark => last.text.push_str(piece),
            _ => out.push(Segment {
                text: piece.to_owned(),
                mark,
            }),
        }
    };
    let plain: String = headline
        .chars()
        .filter(|&c| c != START && c != STOP)
        .collect();
    let cut_before = !text.starts_with(plain.trim_start()) && !plain.trim().is_empty();
    let cut_after = !text.ends_with(plain.trim_end()) && !plain.trim().is_empty();
    if cut_before {
        push("…", false);
    }
    let mut mark = false;
    let mut piece = String::new();
    for c in headline.chars() {
        if c == START || c == STOP {
            push(&piece, mark);
            piece.clear();
            mark = c == START;
        } else {
            piece.push(c);
        }
    }
    push(&piece, mark);
    if cut_after {
        push("…", false);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(segments: &[Segment]) -> String {
        segments.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn marks_become_segments() {
        let text = "Water tomatoes deeply, then let the soil dry.";
        let headline = format!("Water {START}tomatoes{STOP} deeply, then let the soil dry.");
        let segments = segments(&headline, text);
        assert_eq!(joined(&segments), text);
        assert_eq!(
            segments
                .iter()
                .filter(|s| s.mark)
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>(),
            ["tomatoes"]
        );
    }

    #[test]
    fn a_cut_is_shown_with_an_ellipsis() {
        let text = "one two three four five six";
        let headline = format!("three {START}four{STOP}");
        let segments = segments(&headline, text);
        assert_eq!(joined(&segments), "…three four…");
        assert!(!segments[0].mark && segments[1].mark);
    }

    #[test]
    fn markup_in_the_text_stays_text() {
        let text = "<script>alert(1)</script> tomato";
        let headline = format!("{LT}script{GT}alert(1){LT}/script{GT} {START}tomato{STOP}");
        let segments = segments(&headline, text);
        assert_eq!(segments[0].text, "<script>alert(1)</script> ");
        assert!(segments[1].mark);
    }
}
