//! Text from outside (a manifest, a server, a file name) made safe to show a person: control
//! characters escaped so nothing can forge a line or drive the terminal, long text cut, and
//! words shaped like credentials hidden. Every printer of foreign text goes through here.

use std::borrow::Cow;

/// What replaces a hidden credential.
pub const REDACTED: &str = "[REDACTED]";

/// The longest piece of foreign text echoed in a message, in characters.
pub const ECHO_LIMIT: usize = 120;

/// Whether `c` must not reach a terminal or a Markdown note as it is: C0 and C1 controls,
/// DEL, and the invisible format characters that reorder or hide text (bidirectional
/// overrides and isolates, zero-width characters, line and paragraph separators).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
        )
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| is_unsafe(c) && !(keep_newlines && c == '\n'))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` on one line: every control or invisible format character written as an escape
/// (`\n`, `\x1b`, `\u{202e}`), so it can neither start a new line nor move the cursor.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// Like [`one_line`] but keeps line breaks: for a whole message made of this tool's own
/// lines, with foreign parts already on one line.
pub fn keep_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// `text` cut to `limit` characters, saying how long it was.
pub fn cut(text: &str, limit: usize) -> Cow<'_, str> {
    let count = text.chars().count();
    if count <= limit {
        return Cow::Borrowed(text);
    }
    let head: String = text.chars().take(limit).collect();
    Cow::Owned(format!("{head}… ({count} characters in all)"))
}

/// Foreign text as it may be echoed in a message: on one line and at most
/// [`ECHO_LIMIT`] characters.
pub fn echo(text: &str) -> String {
    shown(text, ECHO_LIMIT)
}

/// `text` on one line and at most `limit` characters (cut before escaping, so the work is
/// bounded by `limit` too).
pub fn shown(text: &str, limit: usize) -> String {
    let mut chars = text.char_indices();
    match chars.nth(limit) {
        None => one_line(text).into_owned(),
        Some((at, _)) => {
            let count = limit + 1 + chars.count();
            format!("{}… ({count} characters in all)", one_line(&text[..at]))
        }
    }
}

/// Text in Markdown (a table cell, a list item of a note or an issue): on one line, and every character that
/// Markdown, GitLab references (`@user`, `#1`, `~label`, `%milestone`, `$snippet`, `&epic`) or
/// HTML give a meaning to written as a backslash escape, so it reads as it is. Paired
/// backticks stay inline code (where nothing is interpreted); a lone one is escaped.
pub fn markdown(text: &str) -> String {
    let line = one_line(text);
    let spans = line.matches('`').count().is_multiple_of(2);
    let mut in_code = false;
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        if c == '`' && spans {
            in_code = !in_code;
            out.push(c);
            continue;
        }
        if c == '|' || (!in_code && md_special(c)) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn md_special(c: char) -> bool {
    matches!(
        c,
        '\\' | '`'
            | '*'
            | '_'
            | '['
            | ']'
            | '<'
            | '>'
            | '#'
            | '!'
            | '~'
            | '@'
            | '$'
            | '%'
            | '&'
            | '{'
            | '}'
    )
}

/// Text as Markdown inline code: on one line, backticks replaced so it cannot close the span.
pub fn markdown_code(text: &str) -> String {
    format!("`{}`", one_line(text).replace('`', "'"))
}

/// Prefixes of credentials the platforms issue (GitLab's documented token prefixes) and of
/// the age secret key the escrow uses.
const PREFIXES: [&str; 15] = [
    "glpat-",
    "glptt-",
    "gldt-",
    "glrtr-",
    "glrt-",
    "glcbt-",
    "gloas-",
    "glft-",
    "glimt-",
    "glagent-",
    "glsoat-",
    "glffct-",
    "glwt-",
    "AGE-SECRET-KEY-",
    "age-secret-key-",
];

/// Names after which `=` or `:` is followed by a credential (`private_token=…`).
const SECRET_KEYS: [&str; 9] = [
    "private_token",
    "access_token",
    "refresh_token",
    "client_secret",
    "password",
    "passwd",
    "api_key",
    "apikey",
    "token",
];

/// Schemes of an `Authorization` header value, whose next word is a credential.
const AUTH_SCHEMES: [&str; 3] = ["Bearer ", "Basic ", "Token "];

/// A run of random-looking letters and digits at least this long is taken for a credential
/// (Zendesk API tokens have 40, OAuth access tokens 64).
const LONG_RUN: usize = 32;

fn token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b'/' | b'=' | b'~')
}

/// Hides words shaped like credentials: values with a platform's token prefix, the word after
/// `Bearer`/`Basic`, the value of `private_token=` and similar, and long runs of letters
/// mixed with digits. For text a server sent, whose credentials tokenops does not know.
pub fn hide_credentials(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let run_end = |from: usize| {
        let mut end = from;
        while end < bytes.len() && token_char(bytes[end]) {
            end += 1;
        }
        end
    };
    for prefix in PREFIXES {
        for (at, _) in text.match_indices(prefix) {
            let end = run_end(at + prefix.len());
            if end > at + prefix.len() {
                ranges.push((at, end));
            }
        }
    }
    for scheme in AUTH_SCHEMES {
        for (at, _) in text.match_indices(scheme) {
            let start = at + scheme.len();
            let end = run_end(start);
            if end - start >= 8 {
                ranges.push((start, end));
            }
        }
    }
    let lower = text.to_ascii_lowercase();
    for key in SECRET_KEYS {
        for (at, _) in lower.match_indices(key) {
            // `token=…` (a query) or `"token": "…"` (JSON); not `token: is invalid`.
            let mut start = at + key.len();
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric()) {
                continue;
            }
            if bytes.get(start) == Some(&b'"') || bytes.get(start) == Some(&b'\'') {
                start += 1;
            }
            match bytes.get(start) {
                Some(b'=') => start += 1,
                Some(b':') => {
                    start += 1;
                    while bytes.get(start) == Some(&b' ') {
                        start += 1;
                    }
                    if !matches!(bytes.get(start), Some(b'"' | b'\'')) {
                        continue;
                    }
                    start += 1;
                }
                _ => continue,
            }
            let end = run_end(start);
            if end - start >= 4 {
                ranges.push((start, end));
            }
        }
    }
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let run = &bytes[start..i];
        if run.len() >= LONG_RUN
            && run.iter().any(u8::is_ascii_digit)
            && run.iter().any(u8::is_ascii_alphabetic)
        {
            ranges.push((start, i));
        }
    }
    replace_ranges(text, ranges)
}

/// Replaces the byte ranges (widened to character boundaries, merged when they touch) with
/// [`REDACTED`].
pub(crate) fn replace_ranges(text: &str, mut ranges: Vec<(usize, usize)>) -> Cow<'_, str> {
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    for (start, end) in &mut ranges {
        while *start > 0 && !text.is_char_boundary(*start) {
            *start -= 1;
        }
        while *end < text.len() && !text.is_char_boundary(*end) {
            *end += 1;
        }
    }
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut current: Option<(usize, usize)> = None;
    for (start, end) in ranges {
        match &mut current {
            Some((_, cur_end)) if start <= *cur_end => *cur_end = (*cur_end).max(end),
            _ => {
                if let Some((s, e)) = current.take() {
                    out.push_str(&text[at..s]);
                    out.push_str(REDACTED);
                    at = e;
                }
                current = Some((start, end));
            }
        }
    }
    if let Some((s, e)) = current {
        out.push_str(&text[at..s]);
        out.push_str(REDACTED);
        at = e;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped() {
        assert_eq!(
            one_line("a\nb\x1b[2Jc\u{202e}d"),
            "a\\nb\\x1b[2Jc\\u{202e}d"
        );
        assert_eq!(one_line("plain text"), "plain text");
        assert_eq!(keep_lines("one\ntwo\r\x07"), "one\ntwo\\r\\x07");
        assert_eq!(one_line("\u{9b}31m"), "\\u{009b}31m");
    }

    #[test]
    fn long_text_is_cut() {
        let long = "k".repeat(1_000_000);
        let shown = echo(&long);
        assert!(shown.len() < 200, "{}", shown.len());
        assert!(shown.ends_with("(1000000 characters in all)"));
        assert_eq!(cut("short", 10), "short");
    }

    #[test]
    fn credential_shapes_are_hidden() {
        // Built at run time, so that no token-shaped literal sits in the source.
        let pat = format!("the token {}-{} is not valid", "glpat", "x".repeat(20));
        let cases = [
            (pat.as_str(), "the token [REDACTED] is not valid"),
            (
                "Authorization: Bearer abcdefgh12345678",
                "Authorization: Bearer [REDACTED]",
            ),
            (
                "GET /x?private_token=s3cr3tvalue&a=1",
                "GET /x?private_token=[REDACTED]&a=1",
            ),
            (
                r#"{"password": "hunter2hunter2"}"#,
                r#"{"password": "[REDACTED]"}"#,
            ),
            (
                "key AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQ",
                "key [REDACTED]",
            ),
            (
                "zendesk token Wf5pKRdCE2vvz9FyRPp4tjjW6eeRFcq4sEEkfAx0 rejected",
                "zendesk token [REDACTED] rejected",
            ),
            ("404 Project Not Found", "404 Project Not Found"),
            (
                "support/ops/zendesk-global-gitlab-sync-production-2026",
                "support/ops/zendesk-global-gitlab-sync-production-2026",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(hide_credentials(input), expected, "{input}");
        }
    }
}

/// An error with its causes, `outer: cause: …`, each cause added only when the text so far
/// does not already say it (most of tokenops's errors quote their cause in their own words).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod chain_tests {
    #[derive(Debug, thiserror::Error)]
    #[error("inner problem")]
    struct Inner;

    #[derive(Debug, thiserror::Error)]
    #[error("the shared ledger: {source}")]
    struct Quoting {
        source: Inner,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("the shared ledger")]
    struct Silent {
        #[source]
        cause: Inner,
    }

    #[test]
    fn a_cause_the_message_already_quotes_is_not_repeated() {
        assert_eq!(
            super::error_chain(&Quoting { source: Inner }),
            "the shared ledger: inner problem"
        );
        assert_eq!(
            super::error_chain(&Silent { cause: Inner }),
            "the shared ledger: inner problem"
        );
    }
}
