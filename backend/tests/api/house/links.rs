//! Every relative link in the repository's Markdown resolves: to a file or folder that exists,
//! and, with a `#fragment`, to a heading of that page (GitHub's anchors).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{files_under, repo};

/// `[text](target)` targets in `text`, outside code blocks and inline code.
fn link_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        // Drop inline code, where brackets are not links.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or_default();
            out.push(target.to_owned());
            rest = &after[end..];
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence {
            continue;
        }
        if let Some(heading) = line.strip_prefix('#') {
            let base = anchor(heading.trim_start_matches('#').replace('`', "").as_str());
            let mut name = base.clone();
            let mut n = 1;
            while seen.contains(&name) {
                name = format!("{base}-{n}");
                n += 1;
            }
            seen.insert(name);
        }
    }
    seen
}

fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    files_under(root, &["md"], &mut files);
    files.retain(|f| {
        let relative = f.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        // Folders of other projects' files, which link as their own repositories do.
        !relative.starts_with("e2e/node_modules") && !relative.contains("/node_modules/")
    });
    files
}

#[test]
fn every_relative_link_in_the_markdown_resolves() {
    let root = repo().canonicalize().unwrap();
    let files = markdown_files(&root);
    assert!(
        files.iter().any(|f| f.ends_with("README.md")),
        "the walk did not find README.md"
    );
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for target in link_targets(&text) {
            if target.is_empty()
                || target.contains("://")
                || target.starts_with("mailto:")
                || target.starts_with('<')
            {
                continue;
            }
            checked += 1;
            let (path, fragment) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target.as_str(), None),
            };
            let resolved = if path.is_empty() {
                file.clone()
            } else if let Some(from_root) = path.strip_prefix('/') {
                root.join(from_root)
            } else {
                file.parent().unwrap().join(path)
            };
            let here = file.strip_prefix(&root).unwrap().display().to_string();
            if !resolved.exists() {
                broken.push(format!("{here}: {target} (no such file)"));
                continue;
            }
            if let Some(fragment) = fragment
                && resolved.extension().is_some_and(|e| e == "md")
                && !anchors(&std::fs::read_to_string(&resolved).unwrap()).contains(fragment)
            {
                broken.push(format!("{here}: {target} (no such heading)"));
            }
        }
    }
    assert!(checked > 20, "only {checked} links were found to check");
    assert!(
        broken.is_empty(),
        "links that lead nowhere:\n{}",
        broken.join("\n")
    );
}

#[test]
fn anchors_are_read_as_github_writes_them() {
    assert_eq!(anchor(" Running it"), "running-it");
    assert_eq!(anchor(" What's `/api/auth`?"), "whats-apiauth");
    let page = "# A\n## A\n```\n# not a heading\n```\n## Settings, in short";
    let found = anchors(page);
    assert!(found.contains("a") && found.contains("a-1"));
    assert!(found.contains("settings-in-short"));
    assert!(!found.contains("not-a-heading"));
    assert_eq!(
        link_targets("see [docs](docs/x.md#y) and `[no](z)` and [web](https://e.x)"),
        vec!["docs/x.md#y".to_owned(), "https://e.x".to_owned()]
    );
}
