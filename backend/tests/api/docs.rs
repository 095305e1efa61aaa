//! `docs/` is what the built-in agent quotes to people, so it must stay true of the server: every
//! route it names is an operation of `openapi/openapi.json`, every operation is described, every
//! setting the server reads is documented (there and in `.env.example`), and no sentence says a
//! route the server has does not exist. Plain reads of the files; no server, no database.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The methods a route is named with, as in `DELETE /api/me`.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// What a sentence says when it denies that something exists (matched in any case, as whole
/// words).
const DENIALS: [&str; 8] = [
    "is not available",
    "not available",
    "is no",
    "there is no",
    "does not exist",
    "not supported",
    "not implemented",
    "not built",
];

/// Characters that end a path written in prose: `` `DELETE /api/me` ``, `(GET /healthz)`.
const PATH_ENDS: &[char] = &[
    '`', ')', '(', '"', '\'', '<', '>', ',', ';', '|', '*', ']', '[',
];

/// A file of the repository, from the backend crate's directory.
fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A page of `docs/`: its path inside `docs/`, and its text.
struct Page {
    name: String,
    text: String,
}

/// Every Markdown page of `docs/` (subfolders too, as the agent reads them), in path order.
fn pages() -> Vec<Page> {
    fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                collect(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("md"))
            {
                out.push(path);
            }
        }
    }
    let root = repo_file("docs");
    let mut paths = Vec::new();
    collect(&root, &mut paths);
    paths.sort();
    assert!(!paths.is_empty(), "no Markdown pages in {}", root.display());
    paths
        .into_iter()
        .map(|path| Page {
            name: path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string(),
            text: read(&path),
        })
        .collect()
}

/// A path as the docs and the API document are compared: no query string or fragment, no
/// trailing punctuation or slash, and every parameter segment (`{conversationId}`, `<id>`,
/// `:id`) written `{}`.
fn normalise(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let path = path.trim_end_matches(['.', ',', ':', ';', '!', '?']);
    let joined = path
        .split('/')
        .map(|segment| {
            let parameter = (segment.starts_with('{') && segment.ends_with('}'))
                || (segment.starts_with('<') && segment.ends_with('>'))
                || segment.starts_with(':');
            if parameter { "{}" } else { segment }
        })
        .collect::<Vec<_>>()
        .join("/");
    if joined.len() > 1 {
        joined.trim_end_matches('/').to_owned()
    } else {
        joined
    }
}

/// The path written at byte `start` of `text` (a `/`), up to the first space or prose mark.
fn path_at(text: &str, start: usize) -> &str {
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || PATH_ENDS.contains(&c))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Whether the character before byte `at` of `text` ends a word (or there is none).
fn starts_a_word(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric() && c != '_')
}

/// Whether the character at byte `at` of `text` starts a new word (or there is none).
fn ends_a_word(text: &str, at: usize) -> bool {
    text[at..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_alphanumeric() && c != '_')
}

/// A route named in prose: its method, its path normalised, and the path as written.
#[derive(Debug, PartialEq, Eq)]
struct Named {
    method: &'static str,
    path: String,
    written: String,
}

/// Every `METHOD /path` in `text`.
fn routes_named(text: &str) -> Vec<Named> {
    let mut found = Vec::new();
    for method in METHODS {
        let needle = format!("{method} /");
        let mut from = 0;
        while let Some(offset) = text[from..].find(&needle) {
            let at = from + offset;
            from = at + needle.len();
            if !starts_a_word(text, at) {
                continue;
            }
            let written = path_at(text, at + method.len() + 1);
            found.push(Named {
                method,
                path: normalise(written),
                written: written.to_owned(),
            });
        }
    }
    found
}

/// Every path in `sentence`, normalised: a `/` that starts a word (`/metrics`,
/// `` `DELETE /api/me` ``), and the path of a URL (`http://127.0.0.1:8080/api/me`).
fn paths_in(sentence: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (at, c) in sentence.char_indices() {
        if c == '/'
            && sentence[..at]
                .chars()
                .next_back()
                .is_none_or(|before| before.is_whitespace() || "`(\"'[".contains(before))
        {
            paths.push(normalise(path_at(sentence, at)));
        }
    }
    let mut from = 0;
    while let Some(offset) = sentence[from..].find("://") {
        let host = from + offset + 3;
        from = host;
        let url = path_at(sentence, host);
        if let Some(slash) = url.find('/') {
            paths.push(normalise(&url[slash..]));
        }
    }
    paths
}

/// The sentences of a Markdown text: its blocks (paragraphs, list items, headings, table rows,
/// code lines), each cut at `. `, `? ` and `! `.
fn sentences(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        let line = line.trim();
        let fence = line.starts_with("```");
        let starts_block = line.is_empty()
            || fence
            || in_code
            || line.starts_with("- ")
            || line.starts_with("* ")
            || line.starts_with('#')
            || line.starts_with('|')
            || line.starts_with('>')
            || line
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if starts_block && !block.is_empty() {
            blocks.push(block.join(" "));
            block.clear();
        }
        if fence {
            in_code = !in_code;
        }
        if !line.is_empty() {
            block.push(line);
        }
    }
    if !block.is_empty() {
        blocks.push(block.join(" "));
    }
    blocks
        .iter()
        .flat_map(|b| b.split(". "))
        .flat_map(|s| s.split("? "))
        .flat_map(|s| s.split("! "))
        .map(str::to_owned)
        .collect()
}

/// The denial `sentence` makes, if any (whole words, any case).
fn denial_in(sentence: &str) -> Option<&'static str> {
    let lower = sentence.to_lowercase();
    DENIALS.into_iter().find(|&phrase| {
        lower
            .match_indices(phrase)
            .any(|(at, _)| starts_a_word(&lower, at) && ends_a_word(&lower, at + phrase.len()))
    })
}

/// Whether `text` names the setting `name` as a word of its own (`AUTH_SECRET` is not named by
/// `BETTER_AUTH_SECRET`, nor `MAX_FOLLOWERS` by `MAX_FOLLOWERS_PER_USER`).
fn names_setting(text: &str, name: &str) -> bool {
    text.match_indices(name)
        .any(|(at, _)| starts_a_word(text, at) && ends_a_word(text, at + name.len()))
}

/// The operations of `openapi/openapi.json`, as (method, normalised path).
fn api_operations() -> BTreeSet<(String, String)> {
    let path = repo_file("openapi/openapi.json");
    let document: serde_json::Value =
        serde_json::from_str(&read(&path)).expect("openapi/openapi.json is JSON");
    let paths = document["paths"]
        .as_object()
        .expect("the API document has paths");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for method in item.keys() {
            let method = method.to_uppercase();
            if METHODS.contains(&method.as_str()) {
                operations.insert((method, normalise(path)));
            }
        }
    }
    assert!(!operations.is_empty(), "the API document has no operations");
    operations
}

fn api_paths() -> BTreeSet<String> {
    api_operations().into_iter().map(|(_, path)| path).collect()
}

fn report(what: &str, offenders: &[String]) -> String {
    format!(
        "{what} ({}):\n  {}",
        offenders.len(),
        offenders.join("\n  ")
    )
}

#[test]
fn the_checks_read_routes_paths_and_sentences_as_the_docs_write_them() {
    let text = "Send `DELETE /api/me` (or POST /api/auth/delete-user). TARGET /x is no route; \
                GET /api/conversations/{conversationId}/messages?limit=5.";
    let named: Vec<(&str, String)> = routes_named(text)
        .into_iter()
        .map(|n| (n.method, n.path))
        .collect();
    assert_eq!(
        named,
        [
            ("GET", "/api/conversations/{}/messages".to_owned()),
            ("POST", "/api/auth/delete-user".to_owned()),
            ("DELETE", "/api/me".to_owned()),
        ]
    );
    assert_eq!(
        normalise("/api/messages/<id>/feedback/"),
        "/api/messages/{}/feedback"
    );
    assert_eq!(
        paths_in("There is no `/metrics` at http://127.0.0.1:8080/api/me."),
        ["/metrics", "/api/me"]
    );
    assert_eq!(
        sentences("# Title\n\nOne. Two? Three!\n- Four\n- Five\n\n```sh\nsix\n```"),
        [
            "# Title", "One", "Two", "Three!", "- Four", "- Five", "```sh", "six", "```"
        ]
    );
    assert_eq!(denial_in("Password reset is not built."), Some("not built"));
    assert_eq!(denial_in("There is no such thing"), Some("is no"));
    assert_eq!(denial_in("This is not the one, nor is nothing"), None);
    assert!(names_setting("set `MAX_FOLLOWERS` here", "MAX_FOLLOWERS"));
    assert!(!names_setting("MAX_FOLLOWERS_PER_USER", "MAX_FOLLOWERS"));
    assert!(!names_setting("BETTER_AUTH_SECRET", "AUTH_SECRET"));
}

/// (a) A route the docs send people to must exist.
#[test]
fn every_route_the_docs_name_is_in_the_api_document() {
    let operations = api_operations();
    let mut offenders = Vec::new();
    let mut named = 0;
    for page in pages() {
        for route in routes_named(&page.text) {
            named += 1;
            if !operations.contains(&(route.method.to_owned(), route.path.clone())) {
                offenders.push(format!(
                    "{}: {} {} (read as {} {})",
                    page.name, route.method, route.written, route.method, route.path
                ));
            }
        }
    }
    assert!(named > 0, "the docs name no route at all");
    assert!(
        offenders.is_empty(),
        "{}",
        report(
            "docs/ names routes that openapi/openapi.json does not have",
            &offenders
        )
    );
}

/// (b) Every operation is explained somewhere people (and the agent) can find it.
#[test]
fn every_operation_of_the_api_document_is_described_in_the_docs() {
    let described: BTreeSet<(String, String)> = pages()
        .iter()
        .flat_map(|page| routes_named(&page.text))
        .map(|route| (route.method.to_owned(), route.path))
        .collect();
    let offenders: Vec<String> = api_operations()
        .into_iter()
        .filter(|operation| !described.contains(operation))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        offenders.is_empty(),
        "{}",
        report(
            "operations of openapi/openapi.json that no page of docs/ names as `METHOD /path`",
            &offenders
        )
    );
}

/// (c) Every setting the server reads is described for the people who run it.
#[test]
fn every_setting_the_server_reads_is_described_in_the_docs() {
    let docs: String = pages()
        .into_iter()
        .map(|page| page.text)
        .collect::<Vec<_>>()
        .join("\n");
    let names = chatkeep::config::setting_names();
    assert!(!names.is_empty(), "setting_names() names no setting");
    let offenders: Vec<String> = names
        .into_iter()
        .filter(|name| !names_setting(&docs, name))
        .collect();
    assert!(
        offenders.is_empty(),
        "{}",
        report(
            "settings the server reads that no page of docs/ names",
            &offenders
        )
    );
}

/// (c) ... and in `.env.example`, which operators copy.
#[test]
fn every_setting_the_server_reads_is_in_env_example() {
    let example = read(&repo_file(".env.example"));
    let offenders: Vec<String> = chatkeep::config::setting_names()
        .into_iter()
        .filter(|name| !names_setting(&example, name))
        .collect();
    assert!(
        offenders.is_empty(),
        "{}",
        report(
            "settings the server reads that .env.example does not name",
            &offenders
        )
    );
}

/// (d) The agent quotes sentences whole: one that says a route is missing must not name a route
/// the server has.
#[test]
fn no_sentence_of_the_docs_denies_a_route_the_api_has() {
    let paths = api_paths();
    let mut offenders = Vec::new();
    for page in pages() {
        for sentence in sentences(&page.text) {
            let Some(denial) = denial_in(&sentence) else {
                continue;
            };
            let existing: Vec<String> = paths_in(&sentence)
                .into_iter()
                .filter(|path| paths.contains(path))
                .collect();
            if !existing.is_empty() {
                offenders.push(format!(
                    "{}: \"{denial}\" beside {}: {sentence}",
                    page.name,
                    existing.join(", ")
                ));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "{}",
        report(
            "sentences in docs/ that deny something while naming a path the API has",
            &offenders
        )
    );
}
