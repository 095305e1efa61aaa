//! No import circles between a crate's modules. Each file of its `src` is a module; a
//! module depends on another when it names something defined there: in a `use`, or in a path
//! written in its code or inside a macro's arguments (`crate::metrics::rejected(..)` in a
//! `tracing::warn!` counts). A name re-exported by a parent (`pub use store::*`) is followed to
//! the file that defines it, so a facade does not make its children depend on each other, and a
//! parent re-exporting its children is not a dependency of the parent. Unit tests
//! (`#[cfg(test)] mod`) are left out: they may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Item, UseTree, Visibility};

type ModPath = Vec<String>;

/// What one file of the crate says about names.
#[derive(Default)]
struct Module {
    /// Items defined here, by name.
    defines: BTreeSet<String>,
    /// `pub use` items: the name they are known by here, and the absolute path they name.
    reexports: BTreeMap<String, ModPath>,
    /// `pub use x::*`: modules whose names are known here too.
    globs: Vec<ModPath>,
    /// Every path this module names outside `pub use` of its own children, absolute.
    named: Vec<ModPath>,
}

pub struct Graph {
    modules: BTreeMap<ModPath, Module>,
}

fn module_path(root: &Path, file: &Path) -> ModPath {
    let relative = file
        .strip_prefix(root)
        .expect("a file under the crate root");
    let mut parts: ModPath = relative
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let crate_root = parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main");
    if crate_root || parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_test_module(item: &Item) -> bool {
    let Item::Mod(m) = item else { return false };
    m.attrs
        .iter()
        .any(|a| a.path().is_ident("cfg") && a.to_token_stream().to_string().contains("test"))
}

fn defined_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Const(i) => &i.ident,
        Item::Enum(i) => &i.ident,
        Item::Fn(i) => &i.sig.ident,
        Item::Mod(i) => &i.ident,
        Item::Static(i) => &i.ident,
        Item::Struct(i) => &i.ident,
        Item::Trait(i) => &i.ident,
        Item::Type(i) => &i.ident,
        Item::Union(i) => &i.ident,
        Item::Macro(i) => i.ident.as_ref()?,
        _ => return None,
    };
    Some(ident.to_string())
}

/// The leaves of a `use` tree: each full path (with `*` for a glob) and the name it binds.
fn use_leaves(tree: &UseTree, prefix: &mut ModPath, out: &mut Vec<(ModPath, String)>) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_leaves(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let name = n.ident.to_string();
            let mut path = prefix.clone();
            if name != "self" {
                path.push(name.clone());
            }
            let bound = if name == "self" {
                prefix.last().cloned().unwrap_or_default()
            } else {
                name
            };
            out.push((path, bound));
        }
        UseTree::Rename(r) => {
            let mut path = prefix.clone();
            path.push(r.ident.to_string());
            out.push((path, r.rename.to_string()));
        }
        UseTree::Glob(_) => {
            let mut path = prefix.clone();
            path.push("*".to_owned());
            out.push((path, "*".to_owned()));
        }
        UseTree::Group(g) => {
            for t in &g.items {
                use_leaves(t, prefix, out);
            }
        }
    }
}

/// Paths that start with `crate`, `super` or `self` anywhere in `tokens`, macro arguments
/// included.
fn written_paths(tokens: TokenStream, out: &mut Vec<ModPath>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let ident_at = |i: usize| match tokens.get(i) {
        Some(TokenTree::Ident(id)) => Some(id.to_string()),
        _ => None,
    };
    let colons_at = |i: usize| {
        matches!((tokens.get(i), tokens.get(i + 1)),
            (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':')
    };
    let mut i = 0;
    while i < tokens.len() {
        if let TokenTree::Group(g) = &tokens[i] {
            written_paths(g.stream(), out);
            i += 1;
            continue;
        }
        let starts = matches!(ident_at(i).as_deref(), Some("crate" | "super" | "self"))
            && !(i >= 2 && colons_at(i - 2));
        if starts && colons_at(i + 1) {
            let mut path = vec![ident_at(i).unwrap()];
            let mut j = i + 1;
            while colons_at(j) {
                match ident_at(j + 2) {
                    Some(next) => {
                        path.push(next);
                        j += 3;
                    }
                    None => break,
                }
            }
            out.push(path);
            i = j;
        } else {
            i += 1;
        }
    }
}

impl Graph {
    /// Reads every module of the crate whose root is `root`: `lib.rs`, or `main.rs` when there
    /// is no library (beside a library, `main.rs` is another crate and is left out).
    pub fn read(root: &Path) -> Self {
        let mut files = Vec::new();
        rust_files(root, &mut files);
        let library = root.join("lib.rs").is_file();
        let in_crate = |f: &&PathBuf| !(library && *f == &root.join("main.rs"));
        let paths: BTreeSet<ModPath> = files
            .iter()
            .filter(in_crate)
            .map(|f| module_path(root, f))
            .collect();
        let mut modules = BTreeMap::new();
        for file in files.iter().filter(in_crate) {
            let here = module_path(root, file);
            let text = std::fs::read_to_string(file).unwrap();
            let parsed = syn::parse_file(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
            let mut module = Module::default();
            let absolute = |path: &[String]| -> Option<ModPath> {
                let first = path.first()?.as_str();
                match first {
                    "crate" => Some(path[1..].to_vec()),
                    "self" => Some(here.iter().chain(&path[1..]).cloned().collect()),
                    "super" => {
                        let ups = path.iter().take_while(|s| *s == "super").count();
                        let base = &here[..here.len().checked_sub(ups)?];
                        Some(base.iter().chain(&path[ups..]).cloned().collect())
                    }
                    // A child module named without `self::` (2018 paths).
                    _ => {
                        let mut child = here.clone();
                        child.push(first.to_owned());
                        paths
                            .contains(&child)
                            .then(|| here.iter().chain(path).cloned().collect())
                    }
                }
            };
            for item in parsed.items.iter().filter(|i| !is_test_module(i)) {
                if let Some(name) = defined_name(item) {
                    module.defines.insert(name);
                }
                if let Item::Use(u) = item {
                    let public = !matches!(u.vis, Visibility::Inherited);
                    let mut leaves = Vec::new();
                    use_leaves(&u.tree, &mut Vec::new(), &mut leaves);
                    for (path, bound) in leaves {
                        let Some(abs) = absolute(&path) else { continue };
                        let glob = bound == "*";
                        let target: ModPath = if glob {
                            abs[..abs.len() - 1].to_vec()
                        } else {
                            abs.clone()
                        };
                        if public {
                            if glob {
                                module.globs.push(target.clone());
                            } else {
                                module.reexports.insert(bound, target.clone());
                            }
                            // A facade re-exporting its own children depends on nothing.
                            if target.len() > here.len() && target.starts_with(&here) {
                                continue;
                            }
                        }
                        module.named.push(target);
                    }
                } else {
                    written_paths(item.to_token_stream(), &mut module.named);
                }
            }
            let named = std::mem::take(&mut module.named);
            module.named = named
                .iter()
                .filter_map(|p| {
                    if p.first()
                        .is_some_and(|s| s == "crate" || s == "super" || s == "self")
                    {
                        absolute(p)
                    } else {
                        Some(p.clone())
                    }
                })
                .collect();
            modules.insert(here, module);
        }
        Self { modules }
    }

    /// The module that defines what `path` names.
    fn resolve(&self, path: &[String], depth: usize) -> Option<ModPath> {
        for n in (0..=path.len()).rev() {
            let Some(module) = self.modules.get(&path[..n]) else {
                continue;
            };
            let prefix = path[..n].to_vec();
            let Some(name) = path.get(n) else {
                return Some(prefix);
            };
            if module.defines.contains(name) || depth > 8 {
                return Some(prefix);
            }
            if let Some(target) = module.reexports.get(name) {
                let mut followed = target.clone();
                followed.extend_from_slice(&path[n + 1..]);
                return self.resolve(&followed, depth + 1);
            }
            for glob in &module.globs {
                if self
                    .modules
                    .get(glob)
                    .is_some_and(|g| g.defines.contains(name))
                {
                    return Some(glob.clone());
                }
            }
            return Some(prefix);
        }
        None
    }

    /// Module → the modules it depends on.
    pub fn edges(&self) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
        self.modules
            .iter()
            .map(|(here, module)| {
                let deps = module
                    .named
                    .iter()
                    .filter_map(|p| self.resolve(p, 0))
                    .filter(|d| d != here && !d.is_empty())
                    .collect();
                (here.clone(), deps)
            })
            .collect()
    }
}

/// The strongly connected components with more than one module (Tarjan's algorithm).
pub fn circles(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        found: Vec<Vec<ModPath>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a ModPath) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.edges.contains_key(w) {
                    continue;
                }
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

pub fn name(path: &ModPath) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        path.join("::")
    }
}
