//! The three renderings of a [`Diff`]: JSON for scripts, text for a
//! terminal, markdown for a pull request description.

use std::fmt::Write as _;

use super::{Class, Diff};

/// Markdown lists stop after this many entries per class; a pull request
/// body has a size limit, and the JSON has them all.
const MARKDOWN_LIMIT: usize = 200;

impl Diff {
    /// Pretty JSON in the documented format, ending with a newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a Diff holds only strings and numbers");
        s.push('\n');
        s
    }

    /// A report for a terminal: a summary line, the semver line, then one
    /// line per change grouped by class.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let s = &self.summary;
        let _ = writeln!(out, "{} -> {}", self.old, self.new);
        let _ = writeln!(
            out,
            "{} breaking, {} non-breaking, {} docs-only",
            s.breaking, s.non_breaking, s.docs_only
        );
        let _ = writeln!(
            out,
            "semver impact of regenerating: {} ({})",
            self.semver.impact, self.semver.reason
        );
        let mut current = None;
        for c in &self.changes {
            if current != Some(c.class) {
                current = Some(c.class);
                let _ = writeln!(out, "\n{}:", c.class.as_str());
            }
            let _ = writeln!(out, "  {}\n      at {}", c.reason, c.location);
        }
        out
    }

    /// A pull request description: title line, verdict, counts, then the
    /// changes per class (breaking first), each with its JSON location.
    pub fn render_markdown(&self) -> String {
        let mut out = String::new();
        let s = &self.summary;
        let _ = writeln!(out, "## OpenAPI spec update: `{}` → `{}`\n", self.old, self.new);
        let verdict = if s.breaking > 0 {
            "**Breaking**: read the breaking changes before merging."
        } else if s.non_breaking > 0 {
            "**Additive**: regenerating needs no handwritten change."
        } else {
            "**Documentation only.**"
        };
        let _ = writeln!(out, "{verdict}\n");
        let _ = writeln!(
            out,
            "**Semver impact of regenerating: {}**: {}\n",
            self.semver.impact,
            md_inline(&self.semver.reason)
        );
        let _ = writeln!(out, "| breaking | non-breaking | docs-only |\n|---:|---:|---:|");
        let _ = writeln!(out, "| {} | {} | {} |", s.breaking, s.non_breaking, s.docs_only);
        for class in [Class::Breaking, Class::NonBreaking, Class::DocsOnly] {
            let list: Vec<_> = self.changes.iter().filter(|c| c.class == class).collect();
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n### {} ({})\n", class.as_str(), list.len());
            for c in list.iter().take(MARKDOWN_LIMIT) {
                let _ = writeln!(out, "- {}  \n  at `{}`", md_inline(&c.reason), c.location);
            }
            if list.len() > MARKDOWN_LIMIT {
                let _ = writeln!(
                    out,
                    "- … and {} more (`maverick spec diff --format json` lists them all)",
                    list.len() - MARKDOWN_LIMIT
                );
            }
        }
        out
    }
}

/// Reasons are plain text that may hold `<`, `*` or `_` (`{model}`,
/// `request.messages[]<role=user>`); keep markdown from reading them.
/// Text inside backticks is already code and stays as it is.
fn md_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for ch in text.chars() {
        if ch == '`' {
            in_code = !in_code;
        } else if !in_code && matches!(ch, '<' | '>' | '*' | '_' | '|' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}
