//! Excerpts made ready to quote: whitespace collapsed, cut code spans mended, and an ellipsis
//! where an excerpt starts or ends inside its section.

/// What `ts_headline` puts between the fragments of one excerpt: the query's
/// `FragmentDelimiter`, which has to be spelled out there too (sqlx checks literal SQL).
const FRAGMENT_DELIMITER: &str = " … ";

/// `headline` (fragments of `content` from `ts_headline`) made ready to quote: whitespace
/// collapsed, code spans the cuts split mended, and an ellipsis where it starts or ends inside
/// the section, so a quote that begins mid-sentence says so.
pub(super) fn quotable(content: &str, headline: &str) -> String {
    let collapse = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let section = collapse(content);
    let fragments: Vec<String> = headline.split(FRAGMENT_DELIMITER).map(collapse).collect();
    let mut quote = fragments
        .iter()
        .map(|fragment| mend_code_spans(fragment))
        .collect::<Vec<_>>()
        .join(FRAGMENT_DELIMITER);
    if fragments
        .first()
        .is_some_and(|f| !section.starts_with(f.as_str()))
    {
        quote.insert_str(0, "… ");
    }
    if fragments
        .last()
        .is_some_and(|f| !section.ends_with(f.as_str()))
    {
        quote.push_str(" …");
    }
    quote
}

/// A fragment cut out of Markdown can begin or end inside an inline code span. Left alone, its
/// lone backtick pairs with the next quote's, and everything between renders as code. This
/// reopens a span the fragment starts inside and closes one it ends inside, so the quoted text
/// stays verbatim and only the cut span is marked as code.
fn mend_code_spans(fragment: &str) -> String {
    let runs = backtick_runs(fragment);
    let Some(&(first_at, first_len)) = runs.first() else {
        return fragment.to_owned();
    };
    let mut mended = String::with_capacity(fragment.len() + 4);
    // A closing run follows the code it ends: no space before it, and no code after it.
    let before = fragment[..first_at].chars().next_back();
    let after = fragment[first_at + first_len..].chars().next();
    let starts_inside = before.is_some_and(|c| !c.is_whitespace() && !"([{\"'".contains(c))
        && after.is_none_or(|c| c.is_whitespace() || ".,;:!?)]}".contains(c));
    if starts_inside {
        mended.push_str(&"`".repeat(first_len));
    }
    mended.push_str(fragment);
    // Pair runs as CommonMark does: a run opens a span that the next run of the same length
    // closes; runs of other lengths in between are literal text inside it. A first run that
    // closes the reopened span is already paired.
    let mut open: Option<usize> = None;
    for &(_, len) in &runs[usize::from(starts_inside)..] {
        match open {
            Some(n) if n == len => open = None,
            Some(_) => {}
            None => open = Some(len),
        }
    }
    if let Some(n) = open {
        mended.push_str(&"`".repeat(n));
    }
    mended
}

/// Byte offset and length of each run of backticks in `text`.
fn backtick_runs(text: &str) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, b) in text.bytes().enumerate() {
        match (b == b'`', start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i - s));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, text.len() - s));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_span_cut_by_a_fragment_is_closed_or_reopened() {
        // Cut after the opening backtick: closed at the end.
        assert_eq!(
            mend_code_spans("the `wasm32-unknown-unknown` target, `wasm-bindgen"),
            "the `wasm32-unknown-unknown` target, `wasm-bindgen`"
        );
        // Cut inside the span: reopened at the start.
        assert_eq!(
            mend_code_spans("unknown-unknown` Rust target, `wasm-bindgen` and"),
            "`unknown-unknown` Rust target, `wasm-bindgen` and"
        );
        // Both at once.
        assert_eq!(
            mend_code_spans("env` file, and `DATABASE"),
            "`env` file, and `DATABASE`"
        );
        // Balanced spans, and text without any, are left as they are.
        for text in [
            "the `chatkeep` database",
            "no code here",
            "``a ` b`` and `c`",
            "`x`.",
        ] {
            assert_eq!(mend_code_spans(text), text);
        }
        // A run inside a longer span is text, not an opener.
        assert_eq!(mend_code_spans("say ``a ` b"), "say ``a ` b``");
    }

    #[test]
    fn a_quote_says_where_it_was_cut() {
        let section = "Run it.\nThen `chatkeep`\n  starts. It listens on 8080.";
        assert_eq!(
            quotable(section, section),
            "Run it. Then `chatkeep` starts. It listens on 8080."
        );
        assert_eq!(
            quotable(section, "Then `chatkeep` starts."),
            "… Then `chatkeep` starts. …"
        );
        assert_eq!(quotable(section, "Run it. Then"), "Run it. Then …");
        assert_eq!(
            quotable(section, "chatkeep` starts. It listens on 8080."),
            "… `chatkeep` starts. It listens on 8080."
        );
        assert_eq!(
            quotable(section, "Run it. … It listens on 8080."),
            "Run it. … It listens on 8080."
        );
    }
}
