//! The house rules, checked on the repository's own files (no server, no database): no import
//! circles between the modules of the backend, the app or `shared`, no source file past 500
//! lines, a README a newcomer can read, and every link in the Markdown resolving.

mod imports;
mod links;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a source file may grow before it is split.
const MAX_LINES: usize = 500;

/// Files allowed past [`MAX_LINES`], and why.
const LONG_FILES: &[(&str, &str)] = &[(
    "frontend/src/chat/markdown.rs",
    "the Markdown parser and its tests, which read best beside the rules they check",
)];

/// The README's budget: what Chatkeep is, the two commands, the main settings, where to read on.
const README_MAX_LINES: usize = 300;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files_under(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if !matches!(
                name.as_ref(),
                "node_modules" | "target" | ".git" | "results"
            ) {
                files_under(&path, extensions, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| extensions.iter().any(|x| e == *x))
        {
            out.push(path);
        }
    }
}

type Edges = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

/// The circles among `crate_dir`'s modules, each printed with its arrows, and the edges read.
fn circles_in(crate_dir: &str) -> (Vec<String>, Edges) {
    let graph = imports::Graph::read(&repo().join(crate_dir).join("src"));
    let edges = graph.edges();
    let report = imports::circles(&edges)
        .iter()
        .map(|circle| {
            let lines: Vec<String> = circle
                .iter()
                .map(|m| {
                    let inside: Vec<String> = edges[m]
                        .iter()
                        .filter(|d| circle.contains(d))
                        .map(imports::name)
                        .collect();
                    format!("    {} -> {}", imports::name(m), inside.join(", "))
                })
                .collect();
            format!(
                "{crate_dir}, {} modules:\n{}",
                circle.len(),
                lines.join("\n")
            )
        })
        .collect();
    (report, edges)
}

#[test]
fn no_import_circles_between_modules() {
    let mut report = Vec::new();
    for crate_dir in ["backend", "frontend", "shared"] {
        report.extend(circles_in(crate_dir).0);
    }
    assert!(
        report.is_empty(),
        "modules that import each other, round in a circle (move what both need to a lower \
         module, or pass it in):\n{}",
        report.join("\n")
    );
    let (_, app) = circles_in("frontend");
    let app_edge = ["chat", "page"].map(str::to_owned).to_vec();
    assert!(
        app.get(&app_edge)
            .is_some_and(|deps| deps.contains(&vec!["chat".to_owned(), "state".to_owned()])),
        "the app's crate root (main.rs) was not read"
    );
    let (_, edges) = circles_in("backend");
    // The check reads what it must: a sample of edges the code is known to have.
    let edge = |from: &str, to: &str| {
        let path = |s: &str| s.split("::").map(str::to_owned).collect::<Vec<_>>();
        edges
            .get(&path(from))
            .is_some_and(|deps| deps.contains(&path(to)))
    };
    assert!(edge("messages::routes", "state"), "a `use` edge was missed");
    assert!(
        edge("db", "metrics"),
        "a path written in the code was missed"
    );
    assert!(
        edge("feedback::store", "columns"),
        "an edge through a `use` group was missed"
    );
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let m = |s: &str| vec![s.to_owned()];
    let mut edges: Edges = BTreeMap::new();
    edges.insert(m("a"), [m("b")].into());
    edges.insert(m("b"), [m("c")].into());
    edges.insert(m("c"), [m("a")].into());
    edges.insert(m("d"), [m("a")].into());
    let circles = imports::circles(&edges);
    assert_eq!(circles, vec![vec![m("a"), m("b"), m("c")]]);
}

#[test]
fn no_source_file_is_over_500_lines() {
    let root = repo();
    let mut files = Vec::new();
    for dir in [
        "backend/src",
        "backend/tests",
        "backend/benches",
        "frontend/src",
        "shared/src",
    ] {
        files_under(&root.join(dir), &["rs"], &mut files);
    }
    files_under(&root.join("e2e"), &["mjs"], &mut files);
    assert!(
        files.len() > 100,
        "the walk found only {} files",
        files.len()
    );
    let mut long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let relative = f
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > MAX_LINES && !LONG_FILES.iter().any(|(p, _)| *p == relative))
                .then(|| format!("{relative}: {lines} lines"))
        })
        .collect();
    long.sort();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines; split each by what its parts do:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_readme_is_short_enough_to_read_first() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md is {lines} lines; keep it under {README_MAX_LINES} (what Chatkeep is, the two \
         commands, the main settings, where to read on) and move depth to docs/ or bench/"
    );
}
