//! Small text helpers the drivers share for what they write for people and for `import`:
//! YAML scalars, id slugs, roles, and the check report's stable keys.

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
pub fn q(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

/// A flow list of quoted scopes: `["api", "read_api"]`.
pub fn scopes(list: &[String]) -> String {
    format!(
        "[{}]",
        list.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// Lower-case letters and digits joined by single dashes, for generated ids.
pub fn slug(parts: &[&str]) -> String {
    let mut out = String::new();
    for c in parts.join("-").chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The manifest name of a GitLab access level.
pub fn role(level: Option<u32>) -> &'static str {
    match level {
        Some(10) => "guest",
        Some(15) => "planner",
        Some(20) => "reporter",
        Some(30) => "developer",
        Some(50) => "owner",
        _ => "maintainer",
    }
}

/// Joins parts with `/`, keeping the key safe inside an HTML comment: characters outside a
/// small set are percent-encoded, and so is any `-` that follows another.
pub fn key(parts: &[&str]) -> String {
    let joined = parts.join("/");
    let mut out = String::with_capacity(joined.len());
    let mut last = '\0';
    for c in joined.chars() {
        let plain = c.is_ascii_alphanumeric() || "._/@:+".contains(c) || (c == '-' && last != '-');
        if plain {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        last = c;
    }
    out
}
