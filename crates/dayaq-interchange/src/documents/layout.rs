//! The layout: the document's blocks placed on A4 pages (pure arithmetic, no PDF yet).

use super::{Block, Document, Table};

pub(crate) const PAGE_W: f32 = 595.0;
pub(crate) const PAGE_H: f32 = 842.0;
pub(crate) const MARGIN: f32 = 42.0;
pub(crate) const BOTTOM: f32 = PAGE_H - 56.0;
const TITLE_SIZE: f32 = 16.0;
const TEXT_SIZE: f32 = 9.0;
const CAPTION_SIZE: f32 = 11.0;
const CELL_SIZE: f32 = 8.0;
/// The footer's size.
pub(crate) const SMALL_SIZE: f32 = CELL_SIZE;
const LINE: f32 = 1.35;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;

/// Text widths from the font's horizontal advances (no kerning: a hair wide, never narrow).
pub(crate) struct Metrics<'a> {
    face: ttf_parser::Face<'a>,
    per_em: f32,
}

impl<'a> Metrics<'a> {
    pub(crate) fn new(font: &'a [u8]) -> Option<Self> {
        let face = ttf_parser::Face::parse(font, 0).ok()?;
        let per_em = f32::from(face.units_per_em().max(1));
        Some(Self { face, per_em })
    }

    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .and_then(|g| self.face.glyph_hor_advance(g))
                    .map(f32::from)
                    .unwrap_or(self.per_em * 0.6)
            })
            .sum();
        units / self.per_em * size
    }

    /// Greedy word wrap to `max` points wide (a word wider than a line is cut).
    pub(crate) fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut cur = String::new();
        for word in text.split_whitespace() {
            let mut word = word.to_string();
            while self.width(&word, size) > max && word.chars().count() > 1 {
                if !cur.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                }
                // The longest head that fits (at least one character).
                let chars: Vec<char> = word.chars().collect();
                let mut n = chars.len() - 1;
                while n > 1 && self.width(&chars[..n].iter().collect::<String>(), size) > max {
                    n -= 1;
                }
                lines.push(chars[..n].iter().collect());
                word = chars[n..].iter().collect();
            }
            let candidate = if cur.is_empty() {
                word.clone()
            } else {
                format!("{cur} {word}")
            };
            if self.width(&candidate, size) > max && !cur.is_empty() {
                lines.push(std::mem::replace(&mut cur, word));
            } else {
                cur = candidate;
            }
        }
        if !cur.is_empty() || lines.is_empty() {
            lines.push(cur);
        }
        lines
    }
}

/// Drops characters the reader need not see and the font lacks (Fluent's bidi isolation marks).
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\u{2068}' | '\u{2069}' | '\u{200e}' | '\u{200f}'))
        .collect()
}

/// What is drawn on a page.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
    Rule {
        x: f32,
        y: f32,
        w: f32,
        grey: u8,
    },
}

/// Lays the report out on pages (pure arithmetic, no PDF yet).
struct Layout<'m> {
    pages: Vec<Vec<Op>>,
    y: f32,
    m: &'m Metrics<'m>,
}

impl<'m> Layout<'m> {
    fn new(m: &'m Metrics<'m>) -> Self {
        Self {
            pages: vec![Vec::new()],
            y: MARGIN,
            m,
        }
    }
    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }
    fn need(&mut self, h: f32) {
        if self.y + h > BOTTOM && self.y > MARGIN + 1.0 {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }
    fn text(&mut self, x: f32, size: f32, text: &str) {
        let y = self.y + size;
        self.page().push(Op::Text {
            x,
            y,
            size,
            text: text.to_string(),
        });
    }
    fn paragraph(&mut self, size: f32, text: &str) {
        for line in self.m.wrap(text, size, PAGE_W - 2.0 * MARGIN) {
            self.need(size * LINE);
            self.text(MARGIN, size, &line);
            self.y += size * LINE;
        }
    }
    fn rule(&mut self, grey: u8) {
        let y = self.y;
        self.page().push(Op::Rule {
            x: MARGIN,
            y,
            w: PAGE_W - 2.0 * MARGIN,
            grey,
        });
    }

    fn table(&mut self, t: &Table) {
        let content = PAGE_W - 2.0 * MARGIN;
        let n = t.columns.len().max(1) as f32;
        let label_w = if n <= 2.0 {
            content * 0.5
        } else {
            content * 0.3
        };
        let col_w = (content - label_w) / n;
        let cell_line = CELL_SIZE * LINE;
        // Many columns: a smaller header so that the column names fit in fewer lines.
        let header_size = if n > 4.0 { CELL_SIZE - 1.5 } else { CELL_SIZE };
        let header_line = header_size * LINE;
        // The caption stays with the header and the first row.
        let header: Vec<Vec<String>> = t
            .columns
            .iter()
            .map(|c| self.m.wrap(c, header_size, col_w - 4.0))
            .collect();
        let header_lines = header.iter().map(Vec::len).max().unwrap_or(1) as f32;
        self.need(CAPTION_SIZE * LINE * 2.0 + header_lines * header_line + 2.0 * cell_line);
        self.y += CAPTION_SIZE * 0.6;
        for line in self.m.wrap(&t.caption, CAPTION_SIZE, content) {
            self.text(MARGIN, CAPTION_SIZE, &line);
            self.y += CAPTION_SIZE * LINE;
        }
        if let Some(note) = &t.note {
            self.paragraph(TEXT_SIZE, note);
            self.y += TEXT_SIZE;
            return;
        }
        let draw_header = |l: &mut Layout| {
            for (i, lines) in header.iter().enumerate() {
                let right = MARGIN + label_w + col_w * (i as f32 + 1.0);
                for (j, line) in lines.iter().enumerate() {
                    let x = right - l.m.width(line, header_size) - 2.0;
                    let y = l.y + header_size + j as f32 * header_line;
                    l.page().push(Op::Text {
                        x: x.max(MARGIN + label_w + col_w * i as f32),
                        y,
                        size: header_size,
                        text: line.clone(),
                    });
                }
            }
            l.y += header_lines * header_line + 2.0;
            l.rule(0x60);
            l.y += 2.0;
        };
        draw_header(self);
        for row in &t.rows {
            let label = self.m.wrap(&row.label, CELL_SIZE, label_w - 6.0);
            let h = label.len() as f32 * cell_line + 2.0;
            if self.y + h > BOTTOM {
                self.pages.push(Vec::new());
                self.y = MARGIN;
                draw_header(self);
            }
            for (j, line) in label.iter().enumerate() {
                let y = self.y + CELL_SIZE + j as f32 * cell_line;
                self.page().push(Op::Text {
                    x: MARGIN,
                    y,
                    size: CELL_SIZE,
                    text: line.clone(),
                });
            }
            for (i, cell) in row.cells.iter().enumerate() {
                let right = MARGIN + label_w + col_w * (i as f32 + 1.0);
                let y = self.y + CELL_SIZE;
                let x = right - self.m.width(cell, CELL_SIZE) - 2.0;
                self.page().push(Op::Text {
                    x,
                    y,
                    size: CELL_SIZE,
                    text: cell.clone(),
                });
            }
            self.y += h;
            self.rule(0xd0);
            self.y += 1.0;
        }
        self.y += TEXT_SIZE;
    }
}

impl Layout<'_> {
    fn heading(&mut self, text: &str) {
        let lines = self.m.wrap(text, CAPTION_SIZE, CONTENT_W);
        // The heading stays with its first two lines of text.
        self.need(
            CAPTION_SIZE * 0.6 + lines.len() as f32 * CAPTION_SIZE * LINE + 2.0 * TEXT_SIZE * LINE,
        );
        self.y += CAPTION_SIZE * 0.6;
        for line in lines {
            self.text(MARGIN, CAPTION_SIZE, &line);
            self.y += CAPTION_SIZE * LINE;
        }
        self.y += 2.0;
    }

    fn key_values(&mut self, kv: &[(String, String)]) {
        let label_w = CONTENT_W * 0.35;
        let line = TEXT_SIZE * LINE;
        for (k, v) in kv {
            let keys = self.m.wrap(k, TEXT_SIZE, label_w - 8.0);
            let values = self.m.wrap(v, TEXT_SIZE, CONTENT_W - label_w);
            for i in 0..keys.len().max(values.len()) {
                self.need(line);
                if let Some(k) = keys.get(i).filter(|k| !k.is_empty()) {
                    self.text(MARGIN, TEXT_SIZE, k);
                }
                if let Some(v) = values.get(i) {
                    self.text(MARGIN + label_w, TEXT_SIZE, v);
                }
                self.y += line;
            }
            self.y += 2.0;
        }
        self.y += TEXT_SIZE * 0.5;
    }

    fn signatures(&mut self, people: &[String], date: &str) {
        let line_w = CONTENT_W * 0.55;
        let date_x = MARGIN + CONTENT_W * 0.65;
        let date_w = CONTENT_W * 0.35;
        for who in people {
            // Room to sign above the line, the names under it.
            self.need(30.0 + 2.0 * CELL_SIZE * LINE);
            self.y += 30.0;
            let y = self.y;
            self.page().push(Op::Rule {
                x: MARGIN,
                y,
                w: line_w,
                grey: 0,
            });
            self.page().push(Op::Rule {
                x: date_x,
                y,
                w: date_w,
                grey: 0,
            });
            self.y += 2.0;
            let who = self.m.wrap(who, CELL_SIZE, line_w);
            let date = self.m.wrap(date, CELL_SIZE, date_w);
            for i in 0..who.len().max(date.len()) {
                if let Some(w) = who.get(i) {
                    self.text(MARGIN, CELL_SIZE, w);
                }
                if let Some(d) = date.get(i) {
                    self.text(date_x, CELL_SIZE, d);
                }
                self.y += CELL_SIZE * LINE;
            }
        }
        self.y += TEXT_SIZE;
    }
}

/// The pages of `d`: what is drawn on each (the footer is added when writing).
pub(crate) fn layout(d: &Document, m: &Metrics<'_>) -> Vec<Vec<Op>> {
    let mut l = Layout::new(m);
    for line in m.wrap(&d.title, TITLE_SIZE, CONTENT_W) {
        l.text(MARGIN, TITLE_SIZE, &line);
        l.y += TITLE_SIZE * LINE;
    }
    l.y += 4.0;
    for b in &d.blocks {
        match b {
            Block::Heading(s) => l.heading(s),
            Block::Paragraph(s) => {
                l.paragraph(TEXT_SIZE, s);
                l.y += TEXT_SIZE * 0.5;
            }
            Block::KeyValues(kv) => l.key_values(kv),
            Block::Table(t) => l.table(t),
            Block::Signatures { people, date } => l.signatures(people, date),
        }
    }
    l.pages
}
