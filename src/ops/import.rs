//! `tokenops import`: writes manifest entries for what already exists, so a team adopts its
//! estate in one reviewed merge request. `--discover` covers the live tokens of the discovery
//! scopes that no manifest declares; `--migrate-zendesk ID` writes the OAuth replacement of a
//! legacy Zendesk API token entry. The YAML is written as text (every string quoted), and no
//! existing file is ever overwritten.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::clients::Clients;
use crate::discover::{DiscoverError, ScanKinds, discover};
use crate::inventory::DiscoveredToken;
use crate::kinds::entry::{q, slug};
use crate::kinds::{TokenKindId, UndeclaredEntry};
use crate::ledger::Ledger;
use crate::manifest::{DeclaredToken, Desired, TokenKind};

/// Why `import` could not write its file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Live state could not be read.
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// The target exists.
    #[error(
        "{0} already exists; import never overwrites a file: move it away or pass another --out"
    )]
    Exists(PathBuf),
    /// No such manifest token.
    #[error(
        "no manifest declares a token with id `{0}`; pass the `id:` of a zendesk_api_token entry"
    )]
    UnknownToken(String),
    /// The token is not a legacy Zendesk API token.
    #[error(
        "token `{id}` ({origin}) is a {kind}, not a zendesk_api_token; only legacy Zendesk API \
         tokens are migrated"
    )]
    NotLegacy {
        /// The id.
        id: String,
        /// Where it is declared.
        origin: String,
        /// Its kind.
        kind: String,
    },
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// Where.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file (`None` when there was nothing to write).
    pub path: Option<PathBuf>,
    /// Entries in it.
    pub entries: usize,
    /// Live tokens left out, with why.
    pub skipped: Vec<String>,
}

/// The manifest text for undeclared tokens (`None` when there are none), and the ones left out.
pub fn entries_yaml(
    found: &[DiscoveredToken],
    taken: &BTreeSet<String>,
) -> (Option<String>, usize, Vec<String>) {
    let mut out = String::from(
        "# Written by `tokenops import --discover`: live tokens no manifest declared yet.\n\
         # Fill in each token's consumers (every place its value is used) before merging.\n\
         tokens:\n",
    );
    let mut ids = taken.clone();
    let mut count = 0;
    let mut skipped = Vec::new();
    for t in found.iter().filter(|t| t.declared_by.is_none()) {
        let r = &t.record;
        let entry = match TokenKindId::from_key(&t.kind) {
            Some(kind) => (kind.meta().import)(t),
            None => UndeclaredEntry::Skip(format!(
                "{} {} on {}: this version cannot declare it",
                t.kind, r.platform_id, t.platform
            )),
        };
        let (base, body) = match entry {
            UndeclaredEntry::Entry { id_base, body } => (id_base, body),
            UndeclaredEntry::Skip(why) => {
                skipped.push(why);
                continue;
            }
        };
        let mut id = base.clone();
        let mut n = 2;
        while !ids.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        count += 1;
        let expires = r
            .expires_at
            .map(|d| format!(", expires {d}"))
            .unwrap_or_default();
        let _ = write!(
            out,
            "  - id: {}\n    description: {}\n{body}    # Fill in: every place this token is \
             used (CI/CD variables, webhooks, Zendesk apps, manual steps).\n    consumers: []\n",
            q(&id),
            q(&format!(
                "imported from {} ({} id {}{expires})",
                t.platform, t.kind, r.platform_id
            )),
        );
    }
    ((count > 0).then_some(out), count, skipped)
}

fn write_new(path: &Path, text: &str) -> Result<(), ImportError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| ImportError::Write {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                ImportError::Exists(path.to_path_buf())
            } else {
                ImportError::Write {
                    path: path.display().to_string(),
                    source,
                }
            }
        })?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|source| ImportError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// `import --discover`: scans the discovery scopes (every active token) and writes
/// `out/imported.yaml`.
pub async fn discover_and_write(
    desired: &Desired,
    clients: &Clients,
    now: Timestamp,
    out: &Path,
) -> Result<Written, ImportError> {
    let path = out.join("imported.yaml");
    if path.exists() {
        return Err(ImportError::Exists(path));
    }
    let mut bare = desired.clone();
    for token in &mut bare.tokens {
        token.spec.consumers.clear();
        token.consumer_origins.clear();
    }
    let kinds = ScanKinds {
        triggers: true,
        expires_before: None,
        zendesk_oauth: true,
        deploy_tokens: true,
    };
    let inventory = discover(&bare, &Ledger::default(), clients, now, Some(kinds)).await?;
    let taken = desired.tokens.iter().map(|t| t.spec.id.clone()).collect();
    let (text, entries, skipped) = entries_yaml(&inventory.discovered, &taken);
    let path = match text {
        Some(text) => {
            write_new(&path, &text)?;
            Some(path)
        }
        None => None,
    };
    Ok(Written {
        path,
        entries,
        skipped,
    })
}

/// The consumer entries of `token` as written in its manifest, re-indented as comments.
fn consumer_lines(token: &DeclaredToken) -> Vec<String> {
    let Some(first) = token.consumer_origins.first() else {
        return Vec::new();
    };
    let Ok(text) = std::fs::read_to_string(&first.file) else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    let start = (first.line as usize).saturating_sub(1);
    let Some(line) = lines.get(start) else {
        return Vec::new();
    };
    let dash = line.len() - line.trim_start().len();
    let mut out = Vec::new();
    for line in &lines[start..] {
        let indent = line.len() - line.trim_start().len();
        if !line.trim().is_empty()
            && (indent < dash || (indent == dash && !line.trim_start().starts_with("- ")))
        {
            break;
        }
        out.push(format!(
            "    #   {}",
            line.get(dash..).unwrap_or("").trim_end()
        ));
    }
    while out.last().is_some_and(|l| l.trim() == "#") {
        out.pop();
    }
    out
}

/// `import --migrate-zendesk ID`: writes the OAuth replacement of a legacy API token entry
/// next to the manifest that declares it.
pub fn migrate_zendesk(desired: &Desired, id: &str) -> Result<Written, ImportError> {
    let token = desired
        .token(id)
        .ok_or_else(|| ImportError::UnknownToken(id.to_string()))?;
    let TokenKind::ZendeskApiToken(legacy) = &token.spec.kind else {
        return Err(ImportError::NotLegacy {
            id: id.to_string(),
            origin: token.origin.to_string(),
            kind: token.spec.kind.key().to_string(),
        });
    };
    let dir = token.origin.file.parent().unwrap_or(Path::new("."));
    let path = dir.join(format!("{}-oauth.yaml", slug(&[id])));
    let new_id = format!("{id}-oauth");
    let mut text = format!(
        "# Written by `tokenops import --migrate-zendesk {id}`: the OAuth replacement of the\n\
         # legacy Zendesk API token `{id}` ({origin}). API tokens stop working on 2027-04-30.\n\
         # 1. Fill in `client` (a confidential OAuth client's identifier) and `scopes`.\n\
         # 2. Move the consumers below from `{id}` to this entry (a place holds one value), in\n\
         #    this same merge request; `tokenops plan` then shows each one switching over.\n\
         tokens:\n  - id: {}\n    description: {}\n    zendesk_oauth_token:\n      zendesk: {}\n      \
         client: \"\"  # fill in: the OAuth client's identifier\n      scopes: [\"read\"]  # fill in: \
         the scopes the consumers need\n",
        q(&new_id),
        q(&format!(
            "replaces the legacy API token {}",
            legacy.token_id
        )),
        q(&legacy.zendesk),
        origin = token.origin,
    );
    let consumers = consumer_lines(token);
    if consumers.is_empty() {
        text.push_str("    consumers: []\n");
    } else {
        text.push_str(&format!(
            "    # The consumers of `{id}`, to move here:\n    consumers: []\n"
        ));
        for line in consumers {
            text.push_str(&line);
            text.push('\n');
        }
    }
    write_new(&path, &text)?;
    Ok(Written {
        path: Some(path),
        entries: 1,
        skipped: Vec::new(),
    })
}
