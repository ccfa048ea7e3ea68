//! The one leak check: no output or file a test reads may hold a secret the sandbox issued
//! (seeded or minted), a secret it holds (values tokenops generated and wrote to consumers,
//! values a test planted), or the scenario's escrow identity; nor anything shaped like a
//! GitLab token (`glpat-…`, `glptt-…`), which catches values of a sandbox the test cannot
//! see (the one `tokenops demo` runs in-process), nor an age identity (`AGE-SECRET-KEY-1…`)
//! outside the one place `tokenops init` prints its new one on purpose
//! ([`Scenario::printed_once`]).

use secrecy::ExposeSecret;

use super::Scenario;

/// Values shorter than this are not secrets the sandbox would issue or hold (flags, names).
const MIN_SECRET_LEN: usize = 8;

impl Scenario {
    /// Every value the sandbox ever issued, exposed for checks.
    pub fn issued(&self) -> Vec<String> {
        self.sandbox
            .issued_values()
            .iter()
            .map(|v| v.expose_secret().to_string())
            .collect()
    }

    /// Every secret to look for: issued values, every secret-bearing field of the sandbox's
    /// state, and the escrow identity.
    pub fn secrets(&self) -> Vec<String> {
        let mut values = self.issued();
        self.sandbox.with_state(|w| {
            for gl in w.gitlab.values() {
                values.extend(gl.tokens.values().map(|t| t.value.reveal().to_string()));
                values.extend(gl.triggers.values().map(|t| t.value.reveal().to_string()));
                values.extend(
                    gl.deploy_tokens
                        .values()
                        .map(|t| t.value.reveal().to_string()),
                );
                // A deploy token's username is not secret: variables that hold one are not
                // searched for.
                let usernames: Vec<String> =
                    gl.deploy_tokens.values().map(|t| t.username()).collect();
                values.extend(
                    gl.variables
                        .iter()
                        .map(|v| v.value.reveal().to_string())
                        .filter(|v| !usernames.contains(v)),
                );
                for h in gl.hooks.values() {
                    values.extend(h.token.iter().map(|t| t.reveal().to_string()));
                    values.extend(h.custom_headers.values().map(|v| v.reveal().to_string()));
                    values.extend(h.url_variables.values().map(|v| v.reveal().to_string()));
                }
            }
            for zd in w.zendesk.values() {
                for t in zd.oauth_tokens.values() {
                    values.push(t.value.reveal().to_string());
                    values.extend(t.refresh.iter().map(|r| r.reveal().to_string()));
                }
                values.extend(zd.clients.values().map(|c| c.secret.reveal().to_string()));
                values.extend(zd.api_tokens.values().map(|t| t.value.reveal().to_string()));
                for h in zd.webhooks.values() {
                    values.push(h.signing_secret.reveal().to_string());
                    if let Some(a) = &h.authentication {
                        values.extend(a.data.values().map(|v| v.reveal().to_string()));
                    }
                }
                for i in zd.installations.values() {
                    values.extend(i.secure_settings.values().map(|v| v.reveal().to_string()));
                }
            }
        });
        values.push(self.identity.expose_secret().to_string());
        values.extend(
            self.printed_on_purpose
                .lock()
                .expect("printed secrets")
                .iter()
                .cloned(),
        );
        // Basic-auth user names (`someone@example.com/token`) are not secret.
        values.retain(|v| v.len() >= MIN_SECRET_LEN && !v.contains('@'));
        values.sort();
        values.dedup();
        values
    }

    /// Panics if `text` (called `what` in the message) holds any of [`Scenario::secrets`] or
    /// a GitLab-token-shaped word. The message never repeats the value.
    pub fn assert_no_secret_in(&self, what: &str, text: &str) {
        scan(&self.secrets(), what, text);
        self.checked
            .lock()
            .expect("checked texts")
            .push((what.to_string(), text.to_string()));
    }

    /// Checks the stdout of `tokenops init`, which prints its new age identity on purpose:
    /// exactly one identity, exactly once, and nothing else secret. From then on the identity
    /// is a secret like the sandbox's: a leak in any other output or file. Returns stdout
    /// with the identity replaced, for what is checked again at the end.
    pub fn printed_once(&self, what: &str, stdout: &str) -> String {
        let found: Vec<&str> = age_identities(stdout).collect();
        assert_eq!(
            found.len(),
            1,
            "{what}: prints its age identity exactly once"
        );
        let identity = found[0].to_string();
        let rest = stdout.replace(&identity, "[the identity printed once]");
        self.printed_on_purpose
            .lock()
            .expect("printed secrets")
            .push(identity);
        self.assert_no_secret_in(what, &rest);
        rest
    }

    /// Scans every text checked so far against the secrets known now.
    pub(super) fn recheck_at_end(&self) {
        let secrets = self.secrets();
        for (what, text) in self.checked.lock().expect("checked texts").iter() {
            scan(
                &secrets,
                &format!("{what} (checked again at the end)"),
                text,
            );
        }
    }
}

fn scan(secrets: &[String], what: &str, text: &str) {
    assert!(!secrets.is_empty(), "the sandbox holds values to look for");
    for value in secrets {
        assert!(
            !text.contains(value.as_str()),
            "{what} contains a secret value in clear"
        );
    }
    assert_no_token_shape(what, text);
    assert!(
        age_identities(text).next().is_none(),
        "{what} holds something shaped like an age identity"
    );
}

/// Words shaped like an age identity (`AGE-SECRET-KEY-1` and its Bech32 body).
fn age_identities(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("AGE-SECRET-KEY-1") && w.len() > 40)
}

/// Panics if `text` holds a word shaped like a GitLab token value: a `glpat-`, `glptt-` or
/// `gldt-` prefix followed by a body.
pub fn assert_no_token_shape(what: &str, text: &str) {
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        let shaped = ["glpat-", "glptt-", "gldt-"]
            .iter()
            .any(|p| word.starts_with(p) && word.len() > p.len() + 4);
        assert!(
            !shaped,
            "{what} holds something shaped like a GitLab token ({} characters)",
            word.len()
        );
    }
}

#[test]
#[should_panic(expected = "contains a secret value in clear")]
fn the_leak_check_finds_an_issued_value() {
    let sc = Scenario::demo().start();
    let admin = sc.admin();
    sc.assert_no_secret_in("a text", &format!("token: {admin}\n"));
}

#[test]
#[should_panic(expected = "checked again at the end")]
fn a_value_that_reaches_the_sandbox_after_the_output_is_still_found() {
    let sc = Scenario::demo().start();
    let later = "a-value-tokenops-made-itself-0123456789";
    sc.assert_no_secret_in("an early output", &format!("generated {later}\n"));
    sc.with_gitlab(|gl| {
        gl.variables[0].value = tokenops::sandbox::state::Value::from_request(later);
    });
}
