//! What a server sends back is never trusted to be free of secrets: before any of it reaches
//! a message or a log, every credential the client holds and every secret value in flight
//! (captured while a request body is serialized) is removed, in each encoding a server might
//! echo it in (plain, JSON-escaped, percent-encoded, base64, hex, or a long piece of it), then
//! words shaped like credentials are hidden, controls escaped and the text cut.

use std::cell::RefCell;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::text;

/// The longest excerpt of what a server said that is kept in a message.
pub const MAX_TEXT: usize = 300;

/// A piece of a secret at least this long, found anywhere, is removed too (a server that
/// echoes a credential cut short still must not print its head).
const PIECE: usize = 12;

/// Secrets shorter than this are not searched for (they would match ordinary words).
const SHORTEST: usize = 4;

thread_local! {
    static CAPTURE: RefCell<Option<Vec<Zeroizing<String>>>> = const { RefCell::new(None) };
}

/// Hands a secret to a serializer, noting it as a value in flight when a request body is
/// being built (see [`capture`]). The only way a secret enters a request body.
pub(crate) fn in_flight(secret: &SecretString) -> &str {
    let value = secret.expose_secret();
    CAPTURE.with(|c| {
        if let Some(seen) = c.borrow_mut().as_mut() {
            seen.push(Zeroizing::new(value.to_string()));
        }
    });
    value
}

/// Runs `f` (a body serialization) and returns what it made with every secret it exposed
/// through [`in_flight`].
pub(crate) fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<Zeroizing<String>>) {
    let outer = CAPTURE.with(|c| c.borrow_mut().replace(Vec::new()));
    let result = f();
    let seen = CAPTURE.with(|c| {
        let mut slot = c.borrow_mut();
        let seen = slot.take().unwrap_or_default();
        *slot = outer;
        seen
    });
    (result, seen)
}

/// The secrets one request involves: the client's credential (and the header made of it),
/// a per-request credential, and the values its body carries. Cheap to clone.
#[derive(Clone, Default)]
pub struct Secrets {
    client: Arc<Vec<Zeroizing<String>>>,
    request: Arc<Vec<Zeroizing<String>>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Secrets([{} REDACTED])",
            self.client.len() + self.request.len()
        )
    }
}

impl Secrets {
    pub(crate) fn new(client: Arc<Vec<Zeroizing<String>>>) -> Secrets {
        Secrets {
            client,
            request: Arc::default(),
        }
    }

    /// These client secrets plus `more` (a credential the client switched to); the old
    /// ones stay, so a server echoing either is cleaned.
    pub(crate) fn extended(&self, more: Vec<Zeroizing<String>>) -> Secrets {
        let mut client: Vec<Zeroizing<String>> = self.client.iter().cloned().collect();
        client.extend(more);
        Secrets {
            client: Arc::new(client),
            request: self.request.clone(),
        }
    }

    /// These secrets plus `more` (a request's own).
    pub(crate) fn with(&self, more: Arc<Vec<Zeroizing<String>>>) -> Secrets {
        Secrets {
            client: self.client.clone(),
            request: more,
        }
    }

    fn all(&self) -> impl Iterator<Item = &str> {
        self.client
            .iter()
            .chain(self.request.iter())
            .map(|s| s.as_str())
            .filter(|s| s.len() >= SHORTEST)
    }

    /// `text` without any of these secrets, in any of the encodings a server might use.
    pub fn remove_from(&self, text: &str) -> String {
        let mut ranges = Vec::new();
        for secret in self.all() {
            for needle in forms(secret) {
                for (at, _) in text.match_indices(needle.as_str()) {
                    ranges.push((at, at + needle.len()));
                }
            }
            pieces(secret.as_bytes(), text.as_bytes(), &mut ranges);
        }
        text::replace_ranges(text, ranges).into_owned()
    }

    /// Server text as it may be shown: secrets removed, credential-shaped words hidden,
    /// controls escaped, and cut to [`MAX_TEXT`] characters.
    pub fn clean(&self, text: &str) -> String {
        // Bound the work before anything else: a server can send megabytes.
        let head: String = text.chars().take(MAX_TEXT * 8).collect();
        let removed = self.remove_from(&head);
        let hidden = text::hide_credentials(&removed);
        let line = text::one_line(hidden.trim());
        text::cut(&line, MAX_TEXT).into_owned()
    }
}

/// The encodings of `secret` searched for.
fn forms(secret: &str) -> Vec<Zeroizing<String>> {
    let mut out: Vec<Zeroizing<String>> = Vec::new();
    let mut push = |s: String| {
        if s.len() >= SHORTEST && !out.iter().any(|o| o.as_str() == s) {
            out.push(Zeroizing::new(s));
        }
    };
    push(secret.to_string());
    // JSON string escapes (with and without `\/`).
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    push(json.replace('/', "\\/"));
    push(json);
    push(ascii_json_escape(secret));
    // Percent-encoding: form style, every reserved byte, upper and lower hex.
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    push(form.to_ascii_lowercase_hex());
    push(form);
    let every = super::base::encode_segment(secret);
    push(every.to_ascii_lowercase_hex());
    push(every);
    // Hex.
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    push(hex.to_ascii_uppercase());
    push(hex);
    // Base64 (standard and URL-safe) at each of the three alignments in a longer text.
    for core in base64_cores(secret.as_bytes()) {
        let url_safe: String = core
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        push(url_safe);
        push(core);
    }
    out
}

trait LowerHex {
    fn to_ascii_lowercase_hex(&self) -> String;
}

impl LowerHex for String {
    /// The same percent-encoding with lower-case hex digits.
    fn to_ascii_lowercase_hex(&self) -> String {
        let mut out = String::with_capacity(self.len());
        let mut chars = self.chars();
        while let Some(c) = chars.next() {
            out.push(c);
            if c == '%' {
                for d in chars.by_ref().take(2) {
                    out.push(d.to_ascii_lowercase());
                }
            }
        }
        out
    }
}

/// Every non-alphanumeric character as `\u00XX`, the way some JSON writers escape.
fn ascii_json_escape(secret: &str) -> String {
    let mut out = String::new();
    for c in secret.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The part of the base64 encoding of `secret` that is the same wherever it sits in a longer
/// text: for each of the three byte alignments, the groups of four characters made only of
/// the secret's own bytes.
fn base64_cores(secret: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for shift in 0..3usize {
        let mut input = vec![0u8; shift];
        input.extend_from_slice(secret);
        let encoded = super::auth::base64(&input);
        let whole_groups = input.len() / 3 * 4;
        let start = if shift == 0 { 0 } else { 4 };
        if whole_groups > start {
            let core = encoded[start..whole_groups].to_string();
            if core.len() >= 8 {
                out.push(core);
            }
        }
    }
    out
}

/// Marks every place where a piece of `secret` at least [`PIECE`] bytes long appears.
fn pieces(secret: &[u8], text: &[u8], ranges: &mut Vec<(usize, usize)>) {
    if secret.len() <= PIECE || text.len() < PIECE {
        return;
    }
    let windows: std::collections::HashSet<&[u8]> = secret.windows(PIECE).collect();
    for (at, window) in text.windows(PIECE).enumerate() {
        if windows.contains(window) {
            ranges.push((at, at + PIECE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(values: &[&str]) -> Secrets {
        Secrets::new(Arc::new(
            values
                .iter()
                .map(|v| Zeroizing::new(v.to_string()))
                .collect(),
        ))
    }

    #[test]
    fn every_encoding_is_removed() {
        let token = "glpat-Xy9/zz+Qw_7rT5uV3sA1bC";
        let s = secrets(&[token]);
        let b64 = super::super::auth::base64(format!("user/token:{token}").as_bytes());
        let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
        let echoes = [
            format!("the token {token} is not valid"),
            format!("the token {} is not valid", token.replace('/', "\\/")),
            format!(
                "the token {} is not valid",
                url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
            ),
            format!("auth was Basic {b64}"),
            format!("hex {hex}"),
            format!("cut {}…", &token[..20]),
        ];
        for echo in echoes {
            let clean = s.remove_from(&echo);
            assert!(!clean.contains(&token[6..18]), "{echo} -> {clean}");
            assert!(clean.contains("[REDACTED]"), "{echo} -> {clean}");
        }
    }

    #[test]
    fn capture_collects_values_in_flight() {
        let secret = SecretString::from("value-in-flight-1");
        let (text, seen) = capture(|| format!("{{\"v\":\"{}\"}}", in_flight(&secret)));
        assert!(text.contains("value-in-flight-1"));
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].as_str(), "value-in-flight-1");
        // Outside a capture nothing is kept.
        let _ = in_flight(&secret);
        let (_, none) = capture(|| ());
        assert!(none.is_empty());
    }

    #[test]
    fn clean_bounds_and_escapes() {
        let s = secrets(&["credential-1234"]);
        let long = format!("{}\x1b[31m credential-1234", "x".repeat(5000));
        let clean = s.clean(&long);
        assert!(clean.chars().count() < MAX_TEXT + 40);
        let clean = s.clean("bad\ncredential-1234\x1b[2J");
        assert_eq!(clean, "bad\\n[REDACTED]\\x1b[2J");
    }
}
