//! What the user typed, made into the two halves the SQL needs: the text for
//! `websearch_to_tsquery` (quotes, `OR`, `-word`), and the word still being typed, matched as a
//! prefix.

/// The most characters a query may have.
pub const MAX_QUERY_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    /// Everything before the word being typed, in websearch syntax.
    pub head: String,
    /// The last word when it is a plain word at the end (not quoted, not negated, not `OR`):
    /// letters and digits only, so it is safe inside `to_tsquery`.
    pub prefix: Option<String>,
    /// The prefix follows an `OR` (`cats or dog`): either may match, not both.
    pub or_prefix: bool,
}

/// Splits `q` into its websearch head and the last word, which is matched as a prefix.
pub fn parse(q: &str) -> Typed {
    let q = q.trim();
    let whole = || Typed {
        head: q.to_owned(),
        prefix: None,
        or_prefix: false,
    };
    // An open quote: the word belongs to a phrase still being typed; a closed quote ends one.
    if q.chars().filter(|&c| c == '"').count() % 2 == 1 {
        return whole();
    }
    let start = q
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric())
        .last()
        .map(|(i, _)| i);
    let Some(start) = start else {
        return whole();
    };
    let word = &q[start..];
    let before = &q[..start];
    let negated = before.ends_with('-')
        && before[..before.len() - 1]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
    let operator = word.eq_ignore_ascii_case("or") && !before.trim().is_empty();
    if negated || operator {
        return whole();
    }
    // "... or toma": the text before a trailing `or` that stands as a word. `get` rather than
    // slicing: the last two bytes may be inside a character (a fuzzer's query once was).
    let trimmed = before.trim_end();
    let head_before_or = trimmed
        .len()
        .checked_sub(2)
        .and_then(|at| Some((trimmed.get(..at)?, trimmed.get(at..)?)))
        .filter(|(head, or)| {
            or.eq_ignore_ascii_case("or")
                && head.chars().next_back().is_some_and(char::is_whitespace)
        })
        .map(|(head, _)| head);
    Typed {
        head: head_before_or.unwrap_or(before).to_owned(),
        prefix: Some(word.to_lowercase()),
        or_prefix: head_before_or.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_of_several_bytes_before_the_last_word_is_not_cut() {
        // Found by schemathesis: this query panicked the worker that parsed it.
        let _ = parse("V\u{9e}\u{f1e2}\u{4e51e}\u{b3}6PcY");
        assert_eq!(
            parse("漢 or toma"),
            Typed {
                head: "漢 ".to_owned(),
                prefix: Some("toma".to_owned()),
                or_prefix: true
            }
        );
        assert_eq!(parse("x漢 toma").head, "x漢 ");
    }

    fn typed(head: &str, prefix: Option<&str>) -> Typed {
        Typed {
            head: head.to_owned(),
            prefix: prefix.map(str::to_owned),
            or_prefix: false,
        }
    }

    #[test]
    fn the_last_plain_word_is_a_prefix() {
        assert_eq!(parse("water toma"), typed("water ", Some("toma")));
        assert_eq!(parse("  Tomato "), typed("", Some("tomato")));
        assert_eq!(parse("node.js"), typed("node.", Some("js")));
        assert_eq!(parse("Straße"), typed("", Some("straße")));
    }

    #[test]
    fn quotes_negation_and_or_are_left_to_websearch() {
        assert_eq!(
            parse(r#""keyset pagination""#),
            typed(r#""keyset pagination""#, None)
        );
        assert_eq!(parse(r#""keyset pagi"#), typed(r#""keyset pagi"#, None));
        assert_eq!(parse("cats -dogs"), typed("cats -dogs", None));
        assert_eq!(parse("-dogs"), typed("-dogs", None));
        assert_eq!(parse("cats or"), typed("cats or", None));
        let either = parse("cats OR dogs");
        assert_eq!(
            (either.head.as_str(), either.prefix.as_deref()),
            ("cats ", Some("dogs"))
        );
        assert!(either.or_prefix);
        assert!(!parse("color dogs").or_prefix);
        assert_eq!(parse("well-know"), typed("well-", Some("know")));
        assert_eq!(parse("why?"), typed("why?", None));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever someone types into search is parsed, never a panic.
        #[test]
        fn any_query_parses(q in any::<String>()) {
            let typed = parse(&q);
            if let Some(prefix) = &typed.prefix {
                prop_assert!(!prefix.is_empty());
            }
        }

        #[test]
        fn any_query_of_words_and_operators_parses(
            words in prop::collection::vec(prop_oneof![
                "[a-zA-Z]{1,6}", "漢{1,3}", Just("or".to_owned()), Just("OR".to_owned()),
                Just("-".to_owned()), Just("\"".to_owned()), "\\PC{1,3}",
            ], 0..8),
        ) {
            let _ = parse(&words.join(" "));
            let _ = parse(&words.concat());
        }
    }
}
