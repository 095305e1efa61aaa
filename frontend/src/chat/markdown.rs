//! Markdown for chat answers, parsed into a plain owned tree.
//!
//! Answers come from an LLM or from users, so their text is untrusted. The view renders this
//! tree with Leptos elements whose content is only ever text nodes, which means no markup from a
//! message can reach the DOM: raw HTML is kept as literal text, and links only carry
//! destinations that cannot run script. The view layer owns the rendering; this module is pure
//! so it can be tested natively.
//!
//! `parse` is called on every streamed delta of an answer that may reach tens of thousands of
//! characters, so it is a single pass over pulldown-cmark's events, and it must cope with text
//! cut at any point (an unclosed fence, half a table).

use std::mem;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, LinkType, Options, Parser, Tag};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Block {
    Paragraph(Vec<Inline>),
    /// `level` is 1..=6.
    Heading {
        level: u8,
        content: Vec<Inline>,
    },
    /// `start` is `Some(n)` for ordered lists. Tight and loose lists look the same here: an
    /// item's text always comes as `Paragraph` blocks.
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    /// Fenced or indented. `lang` is the first word of the info string.
    Code {
        lang: Option<String>,
        text: String,
    },
    Quote(Vec<Block>),
    Table {
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
    Rule,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Inline {
    Text(String),
    Code(String),
    Emphasis(Vec<Inline>),
    Strong(Vec<Inline>),
    Strikethrough(Vec<Inline>),
    /// `href` is None when the destination is not safe (anything but http:, https:, mailto:, or a
    /// relative/fragment URL); the text is still shown.
    Link {
        href: Option<String>,
        content: Vec<Inline>,
    },
    /// `[n]` in the text: a citation of source number n (1..=999).
    Citation(u32),
    LineBreak,
}

/// Parses an answer, complete or cut off anywhere, into blocks.
pub fn parse(text: &str) -> Vec<Block> {
    let mut builder = Builder::new();
    for event in Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        builder.event(event);
    }
    builder.into_document()
}

const SAFE_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// The destination to put in an `href`, or None when it could run script or load something we
/// do not vouch for.
///
/// Browsers drop tabs and newlines anywhere in a URL and controls around it, so
/// `java\tscript:` is `javascript:` to them; stripping every ASCII whitespace and control
/// character before reading the scheme refuses those spellings too. Anything with a colon
/// before the first `/`, `?` or `#` counts as having a scheme, which also refuses strings a
/// browser would read as relative (`a b:c`): refusing too much only costs a link.
fn safe_href(url: &str) -> Option<String> {
    let url = url.trim_matches(|c: char| c.is_whitespace() || c.is_control());
    if url.is_empty() {
        return None;
    }
    let mut scheme = String::new();
    for (index, c) in url.char_indices() {
        match c {
            ':' => {
                scheme.make_ascii_lowercase();
                let rest = &url[index + 1..];
                // Rebuilt from the cleaned scheme, so what reaches the DOM is the scheme we
                // checked, not a spelling of it.
                return SAFE_SCHEMES
                    .contains(&scheme.as_str())
                    .then(|| format!("{scheme}:{rest}"));
            }
            '/' | '?' | '#' => break,
            c if c.is_ascii_whitespace() || c.is_ascii_control() => {}
            c => scheme.push(c),
        }
    }
    Some(url.to_owned())
}

fn link_href(link_type: LinkType, dest: &str) -> Option<String> {
    // pulldown-cmark gives an email autolink's address without its scheme.
    if matches!(link_type, LinkType::Email) {
        safe_href(&format!("mailto:{dest}"))
    } else {
        safe_href(dest)
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// What an open element will become once its `End` event arrives.
enum Kind {
    Paragraph,
    Heading(u8),
    Quote,
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    Item,
    Code {
        lang: Option<String>,
        text: String,
    },
    Html(String),
    Table {
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
    Row {
        head: bool,
        cells: Vec<Vec<Inline>>,
    },
    Cell,
    Emphasis,
    Strong,
    Strikethrough,
    Link(Option<String>),
    Image(Option<String>),
    /// Elements with no rendering of their own (footnote definitions, definition lists,
    /// metadata, which the options leave off anyway): their content joins the parent's.
    PassBlock,
    PassInline,
}

struct Frame {
    kind: Kind,
    blocks: Vec<Block>,
    /// Inlines not yet in a block: a paragraph's or a span's content, or the text of a tight
    /// list item, whose paragraph pulldown-cmark leaves out.
    inlines: Vec<Inline>,
}

impl Frame {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            blocks: Vec::new(),
            inlines: Vec::new(),
        }
    }

    /// pulldown-cmark splits text at every bracket, entity and escape; merging as we go keeps
    /// the citation scan to one look at each string and the tree small.
    fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(Inline::Text(last)) = self.inlines.last_mut() {
            last.push_str(text);
        } else {
            self.inlines.push(Inline::Text(text.to_owned()));
        }
    }

    fn push_inline(&mut self, inline: Inline) {
        if let Inline::Text(text) = &inline {
            if text.is_empty() {
                return;
            }
            if let Some(Inline::Text(last)) = self.inlines.last_mut() {
                last.push_str(text);
                return;
            }
        }
        self.inlines.push(inline);
    }

    fn extend_inlines(&mut self, inlines: Vec<Inline>) {
        for inline in inlines {
            self.push_inline(inline);
        }
    }

    fn push_block(&mut self, block: Block) {
        // A tight item's text followed by a nested list: the text must stay in front of it.
        if !self.inlines.is_empty() {
            let pending = mem::take(&mut self.inlines);
            self.blocks.push(Block::Paragraph(split_citations(pending)));
        }
        self.blocks.push(block);
    }
}

/// `blocks` followed by `inlines` as a paragraph, if there are any.
fn with_paragraph(mut blocks: Vec<Block>, inlines: Vec<Inline>) -> Vec<Block> {
    if !inlines.is_empty() {
        blocks.push(Block::Paragraph(split_citations(inlines)));
    }
    blocks
}

struct Builder {
    root: Frame,
    stack: Vec<Frame>,
    /// Inside a link a citation would be a second interactive element in the anchor, so
    /// `[n]` stays text there.
    link_depth: usize,
}

impl Builder {
    fn new() -> Self {
        Self {
            root: Frame::new(Kind::PassBlock),
            stack: Vec::new(),
            link_depth: 0,
        }
    }

    fn top(&mut self) -> &mut Frame {
        self.stack.last_mut().unwrap_or(&mut self.root)
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            // pulldown-cmark balances Start and End even for cut-off text, so an End always
            // closes the innermost open element.
            Event::End(_) => {
                if let Some(frame) = self.stack.pop() {
                    self.close(frame);
                }
            }
            // Raw HTML is shown as the characters that were written, never interpreted.
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => self.text(&text),
            Event::Code(code) | Event::InlineMath(code) | Event::DisplayMath(code) => {
                self.top().push_inline(Inline::Code(code.into_string()));
            }
            Event::FootnoteReference(label) => {
                self.text("[^");
                self.text(&label);
                self.text("]");
            }
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.top().push_inline(Inline::LineBreak),
            Event::Rule => self.top().push_block(Block::Rule),
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }),
        }
    }

    fn text(&mut self, text: &str) {
        let top = self.top();
        if let Kind::Code { text: buffer, .. } | Kind::Html(buffer) = &mut top.kind {
            buffer.push_str(text);
        } else {
            top.push_text(text);
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        let kind = match tag {
            Tag::Paragraph => Kind::Paragraph,
            Tag::Heading { level, .. } => Kind::Heading(heading_level(level)),
            Tag::BlockQuote(_) => Kind::Quote,
            Tag::CodeBlock(CodeBlockKind::Fenced(info)) => Kind::Code {
                lang: info.split_whitespace().next().map(str::to_owned),
                text: String::new(),
            },
            Tag::CodeBlock(CodeBlockKind::Indented) => Kind::Code {
                lang: None,
                text: String::new(),
            },
            Tag::HtmlBlock => Kind::Html(String::new()),
            Tag::List(start) => Kind::List {
                start,
                items: Vec::new(),
            },
            Tag::Item => Kind::Item,
            Tag::Table(_) => Kind::Table {
                head: Vec::new(),
                rows: Vec::new(),
            },
            // pulldown-cmark puts the head's cells straight in `TableHead`, with no row.
            Tag::TableHead => Kind::Row {
                head: true,
                cells: Vec::new(),
            },
            Tag::TableRow => Kind::Row {
                head: false,
                cells: Vec::new(),
            },
            Tag::TableCell => Kind::Cell,
            Tag::Emphasis => Kind::Emphasis,
            Tag::Strong => Kind::Strong,
            Tag::Strikethrough => Kind::Strikethrough,
            Tag::Link {
                link_type,
                dest_url,
                ..
            } => {
                self.link_depth += 1;
                Kind::Link(link_href(link_type, &dest_url))
            }
            // An image would load its URL as soon as it renders; it becomes a link instead.
            Tag::Image {
                link_type,
                dest_url,
                ..
            } => {
                self.link_depth += 1;
                Kind::Image(link_href(link_type, &dest_url))
            }
            Tag::Superscript | Tag::Subscript => Kind::PassInline,
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => Kind::PassBlock,
        };
        self.stack.push(Frame::new(kind));
    }

    fn finish_inlines(&self, inlines: Vec<Inline>) -> Vec<Inline> {
        if self.link_depth > 0 {
            inlines
        } else {
            split_citations(inlines)
        }
    }

    fn close_span(&mut self, inlines: Vec<Inline>, wrap: fn(Vec<Inline>) -> Inline) {
        let content = self.finish_inlines(inlines);
        self.top().push_inline(wrap(content));
    }

    fn close(&mut self, frame: Frame) {
        let Frame {
            kind,
            blocks,
            inlines,
        } = frame;
        match kind {
            Kind::Paragraph => {
                let content = self.finish_inlines(inlines);
                self.top().push_block(Block::Paragraph(content));
            }
            Kind::Heading(level) => {
                let content = self.finish_inlines(inlines);
                self.top().push_block(Block::Heading { level, content });
            }
            Kind::Quote => {
                let blocks = with_paragraph(blocks, inlines);
                self.top().push_block(Block::Quote(blocks));
            }
            Kind::List { start, mut items } => {
                let stray = with_paragraph(blocks, inlines);
                if !stray.is_empty() {
                    items.push(stray);
                }
                self.top().push_block(Block::List { start, items });
            }
            Kind::Item => {
                let item = with_paragraph(blocks, inlines);
                let parent = self.top();
                if let Kind::List { items, .. } = &mut parent.kind {
                    items.push(item);
                } else {
                    for block in item {
                        parent.push_block(block);
                    }
                }
            }
            Kind::Code { lang, mut text } => {
                // The newline before the closing fence ends the last line; it is not a line.
                let len = text.strip_suffix('\n').map_or(text.len(), |body| {
                    body.strip_suffix('\r').unwrap_or(body).len()
                });
                text.truncate(len);
                self.top().push_block(Block::Code { lang, text });
            }
            Kind::Html(mut html) => {
                let len = html.trim_end_matches(['\n', '\r']).len();
                html.truncate(len);
                if !html.is_empty() {
                    self.top()
                        .push_block(Block::Paragraph(vec![Inline::Text(html)]));
                }
            }
            Kind::Table { head, rows } => self.top().push_block(Block::Table { head, rows }),
            Kind::Row { head, cells } => {
                let parent = self.top();
                if let Kind::Table {
                    head: table_head,
                    rows,
                } = &mut parent.kind
                {
                    if head {
                        *table_head = cells;
                    } else {
                        rows.push(cells);
                    }
                } else {
                    for inline in cells.into_iter().flatten() {
                        parent.push_inline(inline);
                    }
                }
            }
            Kind::Cell => {
                let content = self.finish_inlines(inlines);
                let parent = self.top();
                if let Kind::Row { cells, .. } = &mut parent.kind {
                    cells.push(content);
                } else {
                    parent.extend_inlines(content);
                }
            }
            Kind::Emphasis => self.close_span(inlines, Inline::Emphasis),
            Kind::Strong => self.close_span(inlines, Inline::Strong),
            Kind::Strikethrough => self.close_span(inlines, Inline::Strikethrough),
            Kind::Link(href) => {
                self.link_depth = self.link_depth.saturating_sub(1);
                self.top().push_inline(Inline::Link {
                    href,
                    content: inlines,
                });
            }
            Kind::Image(href) => {
                self.link_depth = self.link_depth.saturating_sub(1);
                let parent = self.top();
                match href {
                    Some(href) => {
                        // Without alt text the link would have nothing to click.
                        let content = if inlines.is_empty() {
                            vec![Inline::Text(href.clone())]
                        } else {
                            inlines
                        };
                        parent.push_inline(Inline::Link {
                            href: Some(href),
                            content,
                        });
                    }
                    // The alt text still says what the picture was.
                    None => parent.extend_inlines(inlines),
                }
            }
            Kind::PassBlock => {
                let parent = self.top();
                for block in with_paragraph(blocks, inlines) {
                    parent.push_block(block);
                }
            }
            Kind::PassInline => {
                let content = self.finish_inlines(inlines);
                self.top().extend_inlines(content);
            }
        }
    }

    fn into_document(mut self) -> Vec<Block> {
        while let Some(frame) = self.stack.pop() {
            self.close(frame);
        }
        with_paragraph(self.root.blocks, self.root.inlines)
    }
}

/// Splits `[n]` citation markers out of the text inlines. The inlines are already merged, so a
/// marker pulldown-cmark emitted as `[`, `3`, `]` is whole here.
fn split_citations(inlines: Vec<Inline>) -> Vec<Inline> {
    let mut out = Vec::with_capacity(inlines.len());
    for inline in inlines {
        match inline {
            Inline::Text(text) => split_text(text, &mut out),
            other => out.push(other),
        }
    }
    out
}

fn split_text(text: String, out: &mut Vec<Inline>) {
    let mut emitted = 0;
    let mut search = 0;
    while let Some(offset) = text[search..].find('[') {
        let open = search + offset;
        if let Some((number, len)) = citation_at(&text.as_bytes()[open..]) {
            if open > emitted {
                out.push(Inline::Text(text[emitted..open].to_owned()));
            }
            out.push(Inline::Citation(number));
            emitted = open + len;
            search = emitted;
        } else {
            search = open + 1;
        }
    }
    if emitted == 0 {
        // The common case: no marker, so the string moves over without a copy.
        out.push(Inline::Text(text));
    } else if emitted < text.len() {
        out.push(Inline::Text(text[emitted..].to_owned()));
    }
}

/// The source number and byte length of a `[n]` marker at the start of `bytes`, which starts
/// with `[`. Source numbers start at 1, so `[0]` and `[01]` are not markers.
fn citation_at(bytes: &[u8]) -> Option<(u32, usize)> {
    let digits = bytes
        .iter()
        .skip(1)
        .take(4)
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    let closed = bytes.get(digits + 1) == Some(&b']');
    let leading_zero = bytes.get(1) == Some(&b'0');
    if !(1..=3).contains(&digits) || !closed || leading_zero {
        return None;
    }
    let number = bytes[1..=digits]
        .iter()
        .fold(0, |number, digit| number * 10 + u32::from(digit - b'0'));
    Some((number, digits + 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(text: &str) -> Inline {
        Inline::Text(text.to_owned())
    }

    fn para(content: Vec<Inline>) -> Block {
        Block::Paragraph(content)
    }

    fn link(href: Option<&str>, content: Vec<Inline>) -> Inline {
        Inline::Link {
            href: href.map(str::to_owned),
            content,
        }
    }

    /// Every inline in the tree, containers before their content.
    fn flatten(blocks: &[Block]) -> Vec<&Inline> {
        let mut out = Vec::new();
        collect_blocks(blocks, &mut out);
        out
    }

    fn collect_blocks<'a>(blocks: &'a [Block], out: &mut Vec<&'a Inline>) {
        for block in blocks {
            match block {
                Block::Paragraph(content) | Block::Heading { content, .. } => {
                    collect_inlines(content, out);
                }
                Block::List { items, .. } => {
                    for item in items {
                        collect_blocks(item, out);
                    }
                }
                Block::Quote(blocks) => collect_blocks(blocks, out),
                Block::Table { head, rows } => {
                    for cell in head.iter().chain(rows.iter().flatten()) {
                        collect_inlines(cell, out);
                    }
                }
                Block::Code { .. } | Block::Rule => {}
            }
        }
    }

    fn collect_inlines<'a>(inlines: &'a [Inline], out: &mut Vec<&'a Inline>) {
        for inline in inlines {
            out.push(inline);
            if let Inline::Emphasis(content)
            | Inline::Strong(content)
            | Inline::Strikethrough(content)
            | Inline::Link { content, .. } = inline
            {
                collect_inlines(content, out);
            }
        }
    }

    /// The characters a reader would see.
    fn shown_text(blocks: &[Block]) -> String {
        let mut shown = String::new();
        for inline in flatten(blocks) {
            match inline {
                Inline::Text(text) | Inline::Code(text) => shown.push_str(text),
                Inline::Citation(number) => shown.push_str(&format!("[{number}]")),
                Inline::LineBreak => shown.push('\n'),
                Inline::Emphasis(_)
                | Inline::Strong(_)
                | Inline::Strikethrough(_)
                | Inline::Link { .. } => {}
            }
        }
        shown
    }

    /// Independent of `safe_href`: what may sit in an `href` without running anything.
    fn href_is_safe(href: &str) -> bool {
        let lower = href.to_ascii_lowercase();
        let has_scheme = lower
            .split('/')
            .next()
            .is_some_and(|head| head.contains(':'));
        let allowed = ["http://", "https://", "mailto:", "/", "#"]
            .iter()
            .any(|&prefix| lower.starts_with(prefix));
        !lower.chars().any(char::is_control) && (allowed || !has_scheme)
    }

    #[test]
    fn headings_keep_their_level_and_inline_content() {
        let blocks =
            parse("# One\n\n### Three *em*\n\n###### Six\n\n####### Seven\n\nSetext\n======\n");
        assert_eq!(
            blocks,
            vec![
                Block::Heading {
                    level: 1,
                    content: vec![text("One")]
                },
                Block::Heading {
                    level: 3,
                    content: vec![text("Three "), Inline::Emphasis(vec![text("em")])]
                },
                Block::Heading {
                    level: 6,
                    content: vec![text("Six")]
                },
                para(vec![text("####### Seven")]),
                Block::Heading {
                    level: 1,
                    content: vec![text("Setext")]
                },
            ]
        );
    }

    #[test]
    fn ordered_lists_keep_their_start_and_nest_bullet_lists() {
        let blocks = parse("3. first\n4. second\n   - inner a\n   - inner b\n5. third\n");
        assert_eq!(
            blocks,
            vec![Block::List {
                start: Some(3),
                items: vec![
                    vec![para(vec![text("first")])],
                    vec![
                        para(vec![text("second")]),
                        Block::List {
                            start: None,
                            items: vec![
                                vec![para(vec![text("inner a")])],
                                vec![para(vec![text("inner b")])],
                            ],
                        },
                    ],
                    vec![para(vec![text("third")])],
                ],
            }]
        );
    }

    #[test]
    fn tight_and_loose_lists_give_the_same_tree() {
        assert_eq!(
            parse("- a\n- b\n"),
            vec![Block::List {
                start: None,
                items: vec![vec![para(vec![text("a")])], vec![para(vec![text("b")])]],
            }]
        );
        assert_eq!(parse("- a\n- b\n"), parse("- a\n\n- b\n"));
    }

    #[test]
    fn emphasis_strong_and_strikethrough_nest_their_text() {
        assert_eq!(
            parse("*em* **strong** ~~gone~~ ~one~"),
            vec![para(vec![
                Inline::Emphasis(vec![text("em")]),
                text(" "),
                Inline::Strong(vec![text("strong")]),
                text(" "),
                Inline::Strikethrough(vec![text("gone")]),
                text(" "),
                Inline::Strikethrough(vec![text("one")]),
            ])]
        );
    }

    #[test]
    fn inline_code_keeps_brackets_and_tags_as_code() {
        assert_eq!(
            parse("use `[1]` and `<b>x</b>`"),
            vec![para(vec![
                text("use "),
                Inline::Code("[1]".to_owned()),
                text(" and "),
                Inline::Code("<b>x</b>".to_owned()),
            ])]
        );
    }

    #[test]
    fn code_blocks_keep_their_language_and_text() {
        let blocks =
            parse("```rust title=x\nlet a = [1]; // <b>\n```\n\n```\nplain\n```\n\n    indented\n");
        assert_eq!(
            blocks,
            vec![
                Block::Code {
                    lang: Some("rust".to_owned()),
                    text: "let a = [1]; // <b>".to_owned()
                },
                Block::Code {
                    lang: None,
                    text: "plain".to_owned()
                },
                Block::Code {
                    lang: None,
                    text: "indented".to_owned()
                },
            ]
        );
    }

    #[test]
    fn an_unclosed_fence_is_code_up_to_the_end() {
        assert_eq!(
            parse("```py\nprint(1)\n"),
            vec![Block::Code {
                lang: Some("py".to_owned()),
                text: "print(1)".to_owned()
            }]
        );
    }

    #[test]
    fn tables_have_a_head_and_rows_of_cells() {
        let blocks = parse("| Name | Score |\n| ---- | ----: |\n| *a* | [1] |\n| b | 2 |\n");
        assert_eq!(
            blocks,
            vec![Block::Table {
                head: vec![vec![text("Name")], vec![text("Score")]],
                rows: vec![
                    vec![
                        vec![Inline::Emphasis(vec![text("a")])],
                        vec![Inline::Citation(1)]
                    ],
                    vec![vec![text("b")], vec![text("2")]],
                ],
            }]
        );
    }

    #[test]
    fn blockquotes_hold_blocks_and_soft_breaks_become_spaces() {
        assert_eq!(
            parse("> quoted *text*\n> more\n\nafter"),
            vec![
                Block::Quote(vec![para(vec![
                    text("quoted "),
                    Inline::Emphasis(vec![text("text")]),
                    text(" more"),
                ])]),
                para(vec![text("after")]),
            ]
        );
        assert_eq!(
            parse("> - a\n> - b"),
            vec![Block::Quote(vec![Block::List {
                start: None,
                items: vec![vec![para(vec![text("a")])], vec![para(vec![text("b")])]],
            }])]
        );
    }

    #[test]
    fn rules_separate_blocks() {
        assert_eq!(
            parse("above\n\n---\n\nbelow\n\n***"),
            vec![
                para(vec![text("above")]),
                Block::Rule,
                para(vec![text("below")]),
                Block::Rule,
            ]
        );
    }

    #[test]
    fn hard_breaks_become_line_breaks() {
        assert_eq!(
            parse("one\ntwo  \nthree\\\nfour"),
            vec![para(vec![
                text("one two"),
                Inline::LineBreak,
                text("three"),
                Inline::LineBreak,
                text("four"),
            ])]
        );
    }

    #[test]
    fn entities_are_decoded_into_one_text() {
        assert_eq!(
            parse("a &amp; b &lt;c&gt;"),
            vec![para(vec![text("a & b <c>")])]
        );
    }

    #[test]
    fn raw_html_is_shown_as_written() {
        assert_eq!(
            parse("<div>\n<b>hi</b>\n</div>\n\ntext"),
            vec![
                para(vec![text("<div>\n<b>hi</b>\n</div>")]),
                para(vec![text("text")]),
            ]
        );
        assert_eq!(
            parse("a <b>bold</b> c"),
            vec![para(vec![text("a <b>bold</b> c")])]
        );
    }

    #[test]
    fn links_keep_safe_destinations_and_drop_unsafe_ones() {
        assert_eq!(
            parse(
                "[site](https://example.com) [rel](/docs#x) [frag](#top) [mail](mailto:a@b.c) \
                 [bad](javascript:alert(1))"
            ),
            vec![para(vec![
                link(Some("https://example.com"), vec![text("site")]),
                text(" "),
                link(Some("/docs#x"), vec![text("rel")]),
                text(" "),
                link(Some("#top"), vec![text("frag")]),
                text(" "),
                link(Some("mailto:a@b.c"), vec![text("mail")]),
                text(" "),
                link(None, vec![text("bad")]),
            ])]
        );
    }

    #[test]
    fn autolinks_are_links_and_emails_get_mailto() {
        assert_eq!(
            parse("<https://example.com/a> <me@example.com>"),
            vec![para(vec![
                link(
                    Some("https://example.com/a"),
                    vec![text("https://example.com/a")]
                ),
                text(" "),
                link(Some("mailto:me@example.com"), vec![text("me@example.com")]),
            ])]
        );
    }

    #[test]
    fn images_become_links_and_unsafe_ones_only_their_alt_text() {
        assert_eq!(
            parse(
                "![a cat](https://example.com/cat.png) ![](https://example.com/x.png) \
                 ![alt](javascript:alert(1))"
            ),
            vec![para(vec![
                link(Some("https://example.com/cat.png"), vec![text("a cat")]),
                text(" "),
                link(
                    Some("https://example.com/x.png"),
                    vec![text("https://example.com/x.png")]
                ),
                text(" alt"),
            ])]
        );
    }

    #[test]
    fn safe_href_allows_web_mail_and_relative_urls_only() {
        for (url, expected) in [
            ("https://example.com", Some("https://example.com")),
            ("  HTTP://Example.com/a  ", Some("http://Example.com/a")),
            ("ht\ttps://x", Some("https://x")),
            ("mailto:a@b.c", Some("mailto:a@b.c")),
            ("/path", Some("/path")),
            ("#frag", Some("#frag")),
            ("docs/page", Some("docs/page")),
            ("./a:b", Some("./a:b")),
            ("?q=a:b", Some("?q=a:b")),
            ("javascript:alert(1)", None),
            ("JaVaScRiPt:alert(1)", None),
            ("java\tscript:alert(1)", None),
            ("java\nscript:alert(1)", None),
            ("\u{1}javascript:alert(1)", None),
            (" javascript:alert(1)", None),
            ("data:text/html,<script>alert(1)</script>", None),
            ("vbscript:msgbox(1)", None),
            ("ftp://example.com", None),
            ("", None),
            ("   ", None),
        ] {
            assert_eq!(safe_href(url).as_deref(), expected, "{url:?}");
        }
    }

    enum Expect {
        /// Raw HTML: shown character for character, and no link made from it.
        Literal,
        /// A Markdown link: it is a link, and its destination was dropped.
        Refused,
        /// This text is shown.
        Shows(&'static str),
        /// Only the universal checks.
        Nothing,
    }

    fn xss_corpus() -> Vec<(&'static str, Expect)> {
        vec![
            ("<script>alert(1)</script>", Expect::Literal),
            ("<img src=x onerror=alert(1)>", Expect::Literal),
            ("<svg onload=alert(1)>", Expect::Literal),
            ("<iframe src=javascript:alert(1)>", Expect::Literal),
            (r#"<a href="javascript:alert(1)">x</a>"#, Expect::Literal),
            ("<a href=javascript:alert(1)>x</a>", Expect::Literal),
            (
                r#"<a href="&#106;avascript:alert(1)">x</a>"#,
                Expect::Literal,
            ),
            (
                r#"<a href="javascript&colon;alert(1)">x</a>"#,
                Expect::Literal,
            ),
            ("<style>body{display:none}</style>", Expect::Literal),
            (
                "<form><button formaction=javascript:alert(1)>X</button></form>",
                Expect::Literal,
            ),
            ("<!-- <script>alert(1)</script> -->", Expect::Literal),
            ("<details open ontoggle=alert(1)>", Expect::Literal),
            ("<body onload=alert(1)>", Expect::Literal),
            ("<input autofocus onfocus=alert(1)>", Expect::Literal),
            (
                r#"<object data="javascript:alert(1)"></object>"#,
                Expect::Literal,
            ),
            (
                "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
                Expect::Literal,
            ),
            ("<svg><script>alert(1)</script></svg>", Expect::Literal),
            (
                r#"<IMG SRC="jav&#x09;ascript:alert('XSS');">"#,
                Expect::Literal,
            ),
            (
                r#"<meta http-equiv="refresh" content="0;url=javascript:alert(1)">"#,
                Expect::Literal,
            ),
            (r#"<base href="javascript:alert(1)//">"#, Expect::Literal),
            (
                "<textarea><script>alert(1)</script></textarea>",
                Expect::Literal,
            ),
            ("<marquee onstart=alert(1)>", Expect::Literal),
            ("<video><source onerror=alert(1)></video>", Expect::Literal),
            (
                r#"<embed src="data:text/html;base64,PHNjcmlwdD4=">"#,
                Expect::Literal,
            ),
            (
                "<link rel=stylesheet href=javascript:alert(1)>",
                Expect::Literal,
            ),
            (
                r#"<div style="background:url(javascript:alert(1))">"#,
                Expect::Literal,
            ),
            ("<scr<script>ipt>alert(1)</script>", Expect::Literal),
            (r#""><script>alert(1)</script>"#, Expect::Literal),
            ("[x](javascript:alert(1))", Expect::Refused),
            ("[x](JaVaScRiPt:alert(1))", Expect::Refused),
            ("[x](java&#x09;script:alert(1))", Expect::Refused),
            ("[x](&#106;avascript:alert(1))", Expect::Refused),
            ("[x](javascript&colon;alert(1))", Expect::Refused),
            ("[x](<javascript:alert(1)>)", Expect::Refused),
            ("[x]( javascript:alert(1) )", Expect::Refused),
            (r#"[x](javascript:alert(1) "title")"#, Expect::Refused),
            ("[x](javascript://%0aalert(1))", Expect::Refused),
            ("[x](%6A%61vascript:alert(1))", Expect::Refused),
            ("[x](data:text/html;base64,PHNjcmlwdD4=)", Expect::Refused),
            ("[x](vbscript:msgbox(1))", Expect::Refused),
            ("[x](file:///etc/passwd)", Expect::Refused),
            ("[x][r]\n\n[r]: javascript:alert(1)", Expect::Refused),
            ("<javascript:alert(1)>", Expect::Refused),
            ("<JAVASCRIPT:alert(1)>", Expect::Refused),
            ("<vbscript:msgbox(1)>", Expect::Refused),
            (
                "[<img src=x onerror=alert(1)>](javascript:alert(1))",
                Expect::Refused,
            ),
            (
                "&lt;script&gt;alert(1)&lt;/script&gt;",
                Expect::Shows("<script>alert(1)</script>"),
            ),
            (
                "&#60;img src=x onerror=alert(1)&#62;",
                Expect::Shows("<img src=x onerror=alert(1)>"),
            ),
            (
                "[<img src=x onerror=alert(1)>](javascript:alert(1))",
                Expect::Shows("<img src=x onerror=alert(1)>"),
            ),
            ("![x](javascript:alert(1))", Expect::Shows("x")),
            (
                "![x](data:image/svg+xml,%3Csvg%20onload=alert(1)%3E)",
                Expect::Shows("x"),
            ),
            ("javascript:alert(1)", Expect::Shows("javascript:alert(1)")),
            ("[x](\u{0}javascript:alert(1))", Expect::Nothing),
            ("[x](java\nscript:alert(1))", Expect::Nothing),
        ]
    }

    #[test]
    fn no_xss_payload_yields_markup_or_an_unsafe_link() {
        let corpus = xss_corpus();
        assert!(corpus.len() >= 25, "the corpus must stay broad");
        for (payload, expect) in corpus {
            // Block and Inline have no variant that carries markup or attributes, so a `<`
            // can only ever be text; what is left to check is where links point and that
            // nothing was silently dropped.
            let blocks = parse(payload);
            let hrefs: Vec<Option<&str>> = flatten(&blocks)
                .into_iter()
                .filter_map(|inline| match inline {
                    Inline::Link { href, .. } => Some(href.as_deref()),
                    _ => None,
                })
                .collect();
            for href in hrefs.iter().flatten() {
                assert!(href_is_safe(href), "{payload:?} gave the href {href:?}");
            }
            let shown = shown_text(&blocks);
            match expect {
                Expect::Literal => {
                    assert!(hrefs.is_empty(), "{payload:?} made links: {hrefs:?}");
                    assert!(shown.contains(payload), "{payload:?} is shown as {shown:?}");
                }
                Expect::Refused => assert!(
                    !hrefs.is_empty() && hrefs.iter().all(Option::is_none),
                    "{payload:?} gave {hrefs:?}"
                ),
                Expect::Shows(expected) => assert!(
                    shown.contains(expected),
                    "{payload:?} is shown as {shown:?}"
                ),
                Expect::Nothing => {}
            }
        }
    }

    #[test]
    fn bracketed_numbers_become_citations() {
        assert_eq!(
            parse("See [1]."),
            vec![para(vec![text("See "), Inline::Citation(1), text(".")])]
        );
        assert_eq!(
            parse("Both [12] and [1][2]"),
            vec![para(vec![
                text("Both "),
                Inline::Citation(12),
                text(" and "),
                Inline::Citation(1),
                Inline::Citation(2),
            ])]
        );
        assert_eq!(
            parse("**[3]**"),
            vec![para(vec![Inline::Strong(vec![Inline::Citation(3)])])]
        );
        assert_eq!(
            parse("# Answer [2]"),
            vec![Block::Heading {
                level: 1,
                content: vec![text("Answer "), Inline::Citation(2)]
            }]
        );
        assert_eq!(
            parse("- item [4]"),
            vec![Block::List {
                start: None,
                items: vec![vec![para(vec![text("item "), Inline::Citation(4)])]],
            }]
        );
    }

    #[test]
    fn zero_leading_zeros_and_four_digit_numbers_stay_text() {
        assert_eq!(
            parse("[999] [0] [1234] [01]"),
            vec![para(vec![Inline::Citation(999), text(" [0] [1234] [01]")])]
        );
    }

    #[test]
    fn citations_are_not_found_in_code_or_links() {
        assert_eq!(
            parse("`[1]`"),
            vec![para(vec![Inline::Code("[1]".to_owned())])]
        );
        assert_eq!(
            parse("```\n[1]\n```"),
            vec![Block::Code {
                lang: None,
                text: "[1]".to_owned()
            }]
        );
        assert_eq!(
            parse("[1](http://x)"),
            vec![para(vec![link(Some("http://x"), vec![text("1")])])]
        );
        assert_eq!(
            parse("[1]\n\n[1]: https://example.com"),
            vec![para(vec![link(
                Some("https://example.com"),
                vec![text("1")]
            )])]
        );
        assert_eq!(
            parse("[see [1]](https://example.com)"),
            vec![para(vec![link(
                Some("https://example.com"),
                vec![text("see [1]")]
            )])]
        );
    }

    #[test]
    fn long_answers_with_many_markers_parse_whole() {
        let blocks = parse(&"[1] ".repeat(5000));
        let citations = flatten(&blocks)
            .into_iter()
            .filter(|inline| matches!(inline, Inline::Citation(1)))
            .count();
        assert_eq!(citations, 5000);
        assert_eq!(shown_text(&parse(&"[".repeat(10_000))).len(), 10_000);
    }

    const SAMPLE: &str = r#"# Answer — résumé 日本語 🙂

Intro with *emphasis*, **strong**, ~~strike~~, `code [1]`, and citations [1][2].
A soft break and a hard one  
here\
and there. Entities: &amp; &lt;b&gt; &#x1F600; &copy; &#0;

1. first [3]
2. second
   - nested *one*
   - nested `two`
     > quoted in a list

- [ ] not a task list
- loose item

  with a second paragraph

| Col A | Col B | Ünïcode |
| :---- | :---: | ------: |
| `x\|y` | [4] | ñ |
| **b** | <b>c</b> | 🙂 |

> A quote with a [link](https://example.com "title") and ![img](javascript:alert(1)).
>> Nested quote with <img src=x onerror=alert(1)>.

```rust title
fn main() {
    println!("[5] <script>");
}
```

    indented code

<div onclick="alert(1)">
html *block*
</div>

<script>alert(1)</script>

Autolinks: <https://example.com/é> <me@example.com> <javascript:alert(1)>.
[ref link][r] and [unknown][nope] and [12](#frag) [999] [1000] [^1].

[r]: https://example.com/ref

***

Setext heading
--------------

Trailing paragraph with unclosed `code and **bold and [link](http://x

```py
print('unterminated')"#;

    #[test]
    fn every_prefix_of_a_streamed_answer_parses_without_panicking() {
        let ends = SAMPLE
            .char_indices()
            .map(|(index, _)| index)
            .chain([SAMPLE.len()]);
        for end in ends {
            let prefix = &SAMPLE[..end];
            // Each block takes at least one byte of source.
            assert!(parse(prefix).len() <= prefix.len(), "{prefix:?}");
        }
        assert!(parse(SAMPLE).len() > 10);
    }
}
