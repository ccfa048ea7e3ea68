//! The alphabets of names people write and tokenops prints or looks up: token ids and
//! instance names (a safe alphabet and length, so no name can forge a line of output or a
//! Markdown note), and environment-variable names (POSIX names).

/// The longest token id or instance name.
pub const MAX_ID: usize = 128;

/// The documented id alphabet, for messages and the JSON Schema.
pub const ID_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

/// The longest environment-variable name accepted.
pub const MAX_ENV: usize = 255;

/// A POSIX environment-variable name, for the JSON Schema.
pub const ENV_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_]{0,254}$";

/// Why `id` is not a valid token id or instance name, if it is not.
pub fn id_problem(id: &str) -> Option<String> {
    let count = id.chars().count();
    if count > MAX_ID {
        return Some(format!("is {count} characters long; the limit is {MAX_ID}"));
    }
    let first_ok = id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let bad = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
    match (first_ok, bad) {
        (_, Some(c)) => Some(format!("contains {}", describe_char(c))),
        (false, None) => Some("must start with a letter or a digit".to_string()),
        (true, None) => None,
    }
}

/// The hint for an id that breaks the rule.
pub fn id_hint() -> String {
    format!(
        "use at most {MAX_ID} letters, digits, `.`, `_` and `-`, starting with a letter or a \
         digit (e.g. `zd-global-gitlab-sync`)"
    )
}

/// Why `name` is not a usable environment-variable name, if it is not: POSIX names are
/// letters, digits and `_`, not starting with a digit.
pub fn env_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".to_string());
    }
    let count = name.chars().count();
    if count > MAX_ENV {
        return Some(format!(
            "is {count} characters long; the limit is {MAX_ENV}"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!("contains {}", describe_char(c)));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some("starts with a digit".to_string());
    }
    None
}

/// The hint for a bad environment-variable name.
pub const ENV_HINT: &str = "name an environment variable: letters, digits and `_`, not starting with a digit (e.g. GITLAB_TOKEN)";

fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        '\n' => "a line break".to_string(),
        c if crate::text::is_unsafe(c) => {
            format!(
                "the control character {}",
                crate::text::one_line(&c.to_string())
            )
        }
        c => format!("`{c}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for ok in ["zd-global-gitlab-sync", "41", "tokenops_prod", "a.b", "A1"] {
            assert_eq!(id_problem(ok), None, "{ok}");
        }
        for bad in ["", "-x", "a b", "ok\n\x1b[32mforged", "ä", &"x".repeat(129)] {
            assert!(id_problem(bad).is_some(), "{bad:?}");
        }
        assert!(id_problem("a\x1b").unwrap().contains("\\x1b"));
    }

    #[test]
    fn env_names() {
        for ok in ["GITLAB_TOKEN", "_X", "a1"] {
            assert_eq!(env_problem(ok), None, "{ok}");
        }
        for bad in ["", "A=B", "GITLAB TOKEN", "1X", "X-Y", &"X".repeat(256)] {
            assert!(env_problem(bad).is_some(), "{bad:?}");
        }
    }
}
