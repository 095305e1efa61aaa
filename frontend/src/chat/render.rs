//! The Markdown tree as Leptos elements. Only text nodes carry message text; nothing is ever set
//! as `inner_html`. Blocks are keyed by content, so while an answer streams only its last
//! block is rebuilt.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use leptos::prelude::*;
use shared::messages::Source;

use super::markdown::{self, Block, Inline};
use crate::ui::{copy_text, icon};

/// Renders `text` as Markdown; `[n]` markers become buttons that open source `n`.
pub fn markdown_view(
    text: Signal<String>,
    sources: Signal<Vec<Source>>,
    on_cite: Callback<u32>,
) -> impl IntoView {
    let blocks = Memo::new(move |_| {
        markdown::parse(&text.read())
            .into_iter()
            .enumerate()
            .map(|(i, block)| {
                let mut h = DefaultHasher::new();
                block.hash(&mut h);
                (i, h.finish(), block)
            })
            .collect::<Vec<_>>()
    });
    view! {
        <div class="md">
            <For
                each=move || blocks.get()
                key=|(i, h, _)| (*i, *h)
                children=move |(_, _, block)| block_view(block, sources, on_cite)
            />
        </div>
    }
}

fn block_view(block: Block, sources: Signal<Vec<Source>>, on_cite: Callback<u32>) -> AnyView {
    let inl = move |content: Vec<Inline>| inlines(content, sources, on_cite);
    match block {
        Block::Paragraph(content) => view! { <p>{inl(content)}</p> }.into_any(),
        Block::Heading { level, content } => match level {
            1 => view! { <h2 class="md-h">{inl(content)}</h2> }.into_any(),
            2 => view! { <h3 class="md-h">{inl(content)}</h3> }.into_any(),
            3 => view! { <h4 class="md-h">{inl(content)}</h4> }.into_any(),
            4 => view! { <h5 class="md-h">{inl(content)}</h5> }.into_any(),
            _ => view! { <h6 class="md-h">{inl(content)}</h6> }.into_any(),
        },
        Block::List { start, items } => {
            let items = items
                .into_iter()
                .map(|blocks| {
                    view! {
                        <li>{blocks.into_iter().map(|b| block_view(b, sources, on_cite)).collect_view()}</li>
                    }
                })
                .collect_view();
            match start {
                Some(n) => view! { <ol start=n.to_string()>{items}</ol> }.into_any(),
                None => view! { <ul>{items}</ul> }.into_any(),
            }
        }
        Block::Code { lang, text } => code_block(lang, text).into_any(),
        Block::Quote(blocks) => view! {
            <blockquote>{blocks.into_iter().map(|b| block_view(b, sources, on_cite)).collect_view()}</blockquote>
        }
        .into_any(),
        Block::Table { head, rows } => view! {
            <div class="table-wrap">
                <table>
                    <thead><tr>{head.into_iter().map(|c| view! { <th scope="col">{inl(c)}</th> }).collect_view()}</tr></thead>
                    <tbody>
                        {rows.into_iter().map(|row| view! {
                            <tr>{row.into_iter().map(|c| view! { <td>{inl(c)}</td> }).collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
        Block::Rule => view! { <hr /> }.into_any(),
    }
}

fn code_block(lang: Option<String>, text: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let to_copy = StoredValue::new(text.clone());
    let copy = move |_| {
        leptos::task::spawn_local(async move {
            if copy_text(&to_copy.get_value()).await {
                copied.set(true);
                set_timeout(
                    move || copied.set(false),
                    std::time::Duration::from_millis(1500),
                );
            }
        });
    };
    view! {
        <div class="code">
            <div class="code-head">
                <span>{lang.unwrap_or_else(|| "code".to_owned())}</span>
                <button type="button" class="ghost small" on:click=copy>
                    {icon("copy")}
                    {move || if copied.get() { "Copied" } else { "Copy code" }}
                </button>
            </div>
            <pre><code>{text}</code></pre>
        </div>
    }
}

fn inlines(content: Vec<Inline>, sources: Signal<Vec<Source>>, on_cite: Callback<u32>) -> AnyView {
    content
        .into_iter()
        .map(|i| inline_view(i, sources, on_cite))
        .collect_view()
        .into_any()
}

fn inline_view(inline: Inline, sources: Signal<Vec<Source>>, on_cite: Callback<u32>) -> AnyView {
    let inl = move |content: Vec<Inline>| inlines(content, sources, on_cite);
    match inline {
        Inline::Text(text) => text.into_any(),
        Inline::Code(text) => view! { <code>{text}</code> }.into_any(),
        Inline::Emphasis(c) => view! { <em>{inl(c)}</em> }.into_any(),
        Inline::Strong(c) => view! { <strong>{inl(c)}</strong> }.into_any(),
        Inline::Strikethrough(c) => view! { <del>{inl(c)}</del> }.into_any(),
        Inline::Link {
            href: Some(href),
            content,
        } => view! {
            <a href=href target="_blank" rel="noopener noreferrer">{inl(content)}</a>
        }
        .into_any(),
        Inline::Link { href: None, content } => {
            view! { <span class="unsafe-link" title="Link removed: it could run code">{inl(content)}</span> }
                .into_any()
        }
        Inline::Citation(n) => {
            let label = move || {
                sources
                    .read()
                    .iter()
                    .find(|s| s.n == n)
                    .map_or_else(|| format!("Source {n}"), |s| format!("Source {n}: {}", s.title))
            };
            view! {
                <sup class="cite-wrap">
                    <button type="button" class="cite" aria-label=label on:click=move |_| on_cite.run(n)>
                        {n}
                    </button>
                </sup>
            }
            .into_any()
        }
        Inline::LineBreak => view! { <br /> }.into_any(),
    }
}
