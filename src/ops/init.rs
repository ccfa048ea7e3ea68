//! `tokenops init`: a starting project. Writes `tokenops.yaml` (the instances, the ledger in
//! the GitLab project's Terraform state, the check report, and the public half of a fresh
//! age key pair), `manifests/tokenops.yaml` (the entries that keep tokenops's own
//! credentials alive) and the JSON Schemas both point editors at, refusing before it writes
//! anything when any of them exists. Returns the
//! age identity, which is printed once and never written, and the CI/CD variables to create.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use super::apply::escrow::generate_identity;

/// The config file `init` writes, relative to the directory.
pub const CONFIG_FILE: &str = "tokenops.yaml";
/// The manifest `init` writes, relative to the directory.
pub const MANIFEST_FILE: &str = "manifests/tokenops.yaml";
/// Where `init` writes the JSON Schemas, relative to the directory.
pub const SCHEMA_DIR: &str = "schemas";
/// The CI/CD variable the escrow identity goes in.
pub const IDENTITY_VARIABLE: &str = "TOKENOPS_ESCROW_IDENTITY";

/// The GitLab instance tokenops's pipelines run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitlabSetup {
    /// The name manifests use.
    pub name: String,
    /// Base URL.
    pub url: String,
    /// The user whose personal access tokens tokenops signs in with.
    pub user: String,
    /// The project that runs tokenops's pipelines and holds its CI/CD variables and ledger.
    pub project: String,
}

/// A Zendesk instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZendeskSetup {
    /// The name manifests use.
    pub name: String,
    /// Base URL.
    pub url: String,
}

/// What `init` was asked to write.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The directory to write in.
    pub dir: PathBuf,
    /// The GitLab instance.
    pub gitlab: GitlabSetup,
    /// Zendesk instances.
    pub zendesk: Vec<ZendeskSetup>,
    /// The confidential Zendesk OAuth client tokenops signs in with (client-credentials
    /// grant) on every Zendesk instance; its read-only tokens are minted with it too.
    pub zendesk_client: String,
}

/// Why `init` wrote nothing, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A file `init` would write is already there.
    #[error(
        "{path} already exists; tokenops init never overwrites a file. Move it away, or run \
         init with --dir pointing at an empty directory"
    )]
    Exists {
        /// The file.
        path: String,
    },
    /// A flag or answer is not usable.
    #[error("{what} `{value}` {why}")]
    Invalid {
        /// Which flag or question.
        what: String,
        /// What was given.
        value: String,
        /// Why, and the fix.
        why: String,
    },
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A CI/CD variable to create under Settings > CI/CD > Variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiVariable {
    /// Its key.
    pub key: String,
    /// Protected: only pipelines of protected branches read it.
    pub protected: bool,
    /// Hidden (besides masked): nobody can read it back in the UI.
    pub hidden: bool,
    /// What to put in it.
    pub what: String,
}

/// What `init` wrote.
pub struct Initialized {
    /// The files, as written.
    pub files: Vec<PathBuf>,
    /// The age identity matching the recipient in tokenops.yaml; written nowhere.
    pub identity: SecretString,
    /// The age recipient written to tokenops.yaml.
    pub recipient: String,
    /// The CI/CD variables to create.
    pub variables: Vec<CiVariable>,
}

/// The name a GitLab URL gives its instance: its host (`gitlab.com`).
pub fn gitlab_name(url: &str) -> Result<String, InitError> {
    let parsed = url::Url::parse(url).map_err(|e| InitError::Invalid {
        what: "--gitlab".to_string(),
        value: url.to_string(),
        why: format!("is not a URL ({e}); write it like https://gitlab.com"),
    })?;
    parsed
        .host_str()
        .map(str::to_string)
        .ok_or_else(|| InitError::Invalid {
            what: "--gitlab".to_string(),
            value: url.to_string(),
            why: "has no host; write it like https://gitlab.com".to_string(),
        })
}

/// Writes the files; refuses before writing anything when one exists.
pub fn init(options: &InitOptions) -> Result<Initialized, InitError> {
    check_inputs(options)?;
    let (identity, recipient) = generate_identity();
    let mut files = vec![
        (PathBuf::from(CONFIG_FILE), config_text(options, &recipient)),
        (PathBuf::from(MANIFEST_FILE), manifest_text(options)),
    ];
    for (name, text) in super::schema::schemas() {
        files.push((Path::new(SCHEMA_DIR).join(name), text));
    }
    let files: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|(p, t)| (options.dir.join(p), t))
        .collect();
    if let Some((existing, _)) = files.iter().find(|(p, _)| p.exists()) {
        return Err(InitError::Exists {
            path: existing.display().to_string(),
        });
    }
    for (path, text) in &files {
        write_new(path, text)?;
    }
    Ok(Initialized {
        files: files.into_iter().map(|(p, _)| p).collect(),
        identity,
        recipient,
        variables: variables(options),
    })
}

fn check_inputs(options: &InitOptions) -> Result<(), InitError> {
    let g = &options.gitlab;
    url_ok("--gitlab", &g.url)?;
    name_ok("the GitLab instance name", &g.name)?;
    if g.user.trim().is_empty() || g.user.contains(char::is_whitespace) {
        return Err(invalid(
            "--gitlab-user",
            &g.user,
            "is not a GitLab user name; give the user (a service account or bot user) whose \
             personal access tokens tokenops signs in with",
        ));
    }
    let path_ok = g.project.split('/').count() >= 2
        && g.project.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        });
    if !path_ok {
        return Err(invalid(
            "--project",
            &g.project,
            "is not a full project path; give the project that runs tokenops's pipelines, like \
             support/ops/tokenops",
        ));
    }
    name_ok("--zendesk-client", &options.zendesk_client)?;
    for z in &options.zendesk {
        name_ok("--zendesk NAME", &z.name)?;
        url_ok("--zendesk", &z.url)?;
    }
    Ok(())
}

fn invalid(what: &str, value: &str, why: &str) -> InitError {
    InitError::Invalid {
        what: what.to_string(),
        value: value.to_string(),
        why: why.to_string(),
    }
}

fn url_ok(what: &str, url: &str) -> Result<(), InitError> {
    crate::http::base_url_problem(url)
        .map(drop)
        .map_err(|p| invalid(what, url, &format!("is refused: {}", p.reason)))
}

fn name_ok(what: &str, name: &str) -> Result<(), InitError> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            what,
            name,
            "is not a name: use letters, digits, `.`, `_` and `-`, starting with a letter or digit",
        ))
    }
}

fn write_new(path: &Path, text: &str) -> Result<(), InitError> {
    let fail = |source| InitError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    // `create_new`: a file that appeared since the check is still not overwritten.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => InitError::Exists {
                path: path.display().to_string(),
            },
            _ => fail(e),
        })?;
    file.write_all(text.as_bytes()).map_err(fail)
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn q(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

/// `ZENDESK_<NAME>` for Zendesk instance `name`.
fn zendesk_prefix(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("ZENDESK_{upper}")
}

fn config_text(o: &InitOptions, recipient: &str) -> String {
    let g = &o.gitlab;
    let mut out = format!(
        "# yaml-language-server: $schema=schemas/tokenops.schema.json\n\
         #\n\
         # Written by `tokenops init`. Platform instances, defaults and settings shared by every\n\
         # manifest under manifests/. No secret lives here: only the names of the environment\n\
         # variables that hold them.\n\
         version: 1\n\n\
         # Each instance names two credentials: the one apply writes with (protected in CI) and\n\
         # a read-only one for plan, check and import (unprotected, so merge-request pipelines\n\
         # can plan).\n\
         gitlab:\n  - name: {name}\n    url: {url}\n    token_env: GITLAB_TOKEN\n    read_token_env: GITLAB_READ_TOKEN\n",
        name = q(&g.name),
        url = q(&g.url),
    );
    if !o.zendesk.is_empty() {
        out.push_str(
            "\n# Zendesk instances sign in with a confidential OAuth client: each run mints its own\n\
             # short-lived access token from the client's identifier and secret and revokes it\n\
             # when the run ends.\nzendesk:\n",
        );
        for z in &o.zendesk {
            let prefix = zendesk_prefix(&z.name);
            out.push_str(&format!(
                "  - name: {name}\n    url: {url}\n    client_id_env: {prefix}_CLIENT_ID\n    client_secret_env: {prefix}_CLIENT_SECRET\n    read_oauth_token_env: {prefix}_READ_TOKEN\n",
                name = q(&z.name),
                url = q(&z.url),
            ));
        }
    }
    out.push_str(&format!(
        "\ndefaults:\n  rotation:\n    rotate_before: 21d\n    lifetime: 365d\n    strategy: rotate\n    mode: auto\n\n\
         # The ledger lives in the GitLab-managed Terraform state of the project that runs\n\
         # tokenops's pipelines, which its jobs reach with their CI_JOB_TOKEN. On a laptop,\n\
         # `state: {{ backend: local }}` keeps it in .tokenops/state.json instead.\n\
         state:\n  backend: gitlab\n  gitlab: {name}\n  project: {project}\n  name: tokenops\n\n\
         # New values are age-encrypted to this recipient and written to the ledger before any\n\
         # other call. The matching secret key was printed once by `tokenops init` and lives\n\
         # only in the CI/CD variable {IDENTITY_VARIABLE} (masked, protected, hidden).\n\
         escrow:\n  recipient: {recipient}\n  identity_env: {IDENTITY_VARIABLE}\n\n\
         check:\n  within: 21d\n  report:\n    gitlab: {name}\n    project: {project}\n    labels: [token-checker]\n",
        name = q(&g.name),
        project = q(&g.project),
    ));
    out
}

fn manifest_text(o: &InitOptions) -> String {
    let g = &o.gitlab;
    let gl = q(&g.name);
    let project = q(&g.project);
    let user = q(&g.user);
    let mut out = format!(
        "# yaml-language-server: $schema=../schemas/manifest.schema.json\n\
         #\n\
         # Written by `tokenops init`: the credentials tokenops itself signs in with. A person\n\
         # creates the first value of each by hand and puts it in its CI/CD variable; from then\n\
         # on apply rotates it (the GitLab credential last in its run, through self-rotate),\n\
         # switches the rest of the run to the new value and writes it back to the variable the\n\
         # next pipeline reads.\n\
         tokens:\n\
         \x20 - id: tokenops-rotate-token\n\
         \x20   description: The credential tokenops's apply, rotate and check jobs sign in with\n\
         \x20   gitlab_personal_access_token:\n\
         \x20     gitlab: {gl}\n\
         \x20     user: {user}\n\
         \x20     name: tokenops\n\
         \x20     scopes: [api]\n\
         \x20   consumers:\n\
         \x20     - tokenops_credential: {{ gitlab: {gl} }}\n\
         \x20     - gitlab_ci_variable:\n\
         \x20         gitlab: {gl}\n\
         \x20         project: {project}\n\
         \x20         key: TOKENOPS_ROTATE_TOKEN\n\
         \x20         masked: true\n\
         \x20         protected: true\n\n\
         \x20 - id: tokenops-read-token\n\
         \x20   description: The read-only credential merge-request pipelines plan with\n\
         \x20   gitlab_personal_access_token:\n\
         \x20     gitlab: {gl}\n\
         \x20     user: {user}\n\
         \x20     name: tokenops-read\n\
         \x20     scopes: [read_api]\n\
         \x20   consumers:\n\
         \x20     - gitlab_ci_variable:\n\
         \x20         gitlab: {gl}\n\
         \x20         project: {project}\n\
         \x20         key: TOKENOPS_READ_TOKEN\n\
         \x20         masked: true\n"
    );
    for z in &o.zendesk {
        let prefix = zendesk_prefix(&z.name);
        let zd = q(&z.name);
        let client = q(&o.zendesk_client);
        out.push_str(&format!(
            "\n\
             \x20 - id: {secret_id}\n\
             \x20   description: Secret of the OAuth client tokenops signs in to Zendesk {name} with\n\
             \x20   zendesk_oauth_client_secret:\n\
             \x20     zendesk: {zd}\n\
             \x20     client: {client}\n\
             \x20   rotation: {{ lifetime: 90d, rotate_before: 14d }}\n\
             \x20   consumers:\n\
             \x20     - tokenops_credential: {{ zendesk: {zd} }}\n\
             \x20     - gitlab_ci_variable:\n\
             \x20         gitlab: {gl}\n\
             \x20         project: {project}\n\
             \x20         key: {prefix}_CLIENT_SECRET\n\
             \x20         masked: true\n\
             \x20         protected: true\n\
             \x20         raw: true\n\n\
             \x20 # Zendesk's expiry policy gives an access token 48 hours at most: this one lives 36\n\
             \x20 # hours and the scheduled apply renews it 12 hours before it expires, so the rotate\n\
             \x20 # schedule must run at least every 12 hours.\n\
             \x20 - id: {read_id}\n\
             \x20   description: The read-only OAuth token plan and check sign in to Zendesk {name} with\n\
             \x20   zendesk_oauth_token:\n\
             \x20     zendesk: {zd}\n\
             \x20     client: {client}\n\
             \x20     scopes: [read]\n\
             \x20     grant: client_credentials\n\
             \x20   rotation: {{ lifetime: 36h, rotate_before: 12h }}\n\
             \x20   consumers:\n\
             \x20     - gitlab_ci_variable:\n\
             \x20         gitlab: {gl}\n\
             \x20         project: {project}\n\
             \x20         key: {prefix}_READ_TOKEN\n\
             \x20         masked: true\n",
            secret_id = q(&format!("tokenops-zendesk-{}", z.name)),
            read_id = q(&format!("tokenops-zendesk-{}-read", z.name)),
            name = z.name,
        ));
    }
    out
}

fn variables(o: &InitOptions) -> Vec<CiVariable> {
    let user = &o.gitlab.user;
    let mut out = vec![
        CiVariable {
            key: "TOKENOPS_ROTATE_TOKEN".to_string(),
            protected: true,
            hidden: false,
            what: format!(
                "a personal access token of {user} named `tokenops`, scope `api`, created by \
                 hand once; tokenops rotates it from then on"
            ),
        },
        CiVariable {
            key: "TOKENOPS_READ_TOKEN".to_string(),
            protected: false,
            hidden: false,
            what: format!(
                "a personal access token of {user} named `tokenops-read`, scope `read_api`, \
                 created by hand once"
            ),
        },
        CiVariable {
            key: "TOKENOPS_NOTE_TOKEN".to_string(),
            protected: false,
            hidden: false,
            what: "optional: a project access token (Reporter, `api`) that may comment on \
                   merge requests, for `plan --comment`"
                .to_string(),
        },
    ];
    for z in &o.zendesk {
        let prefix = zendesk_prefix(&z.name);
        let client = &o.zendesk_client;
        out.push(CiVariable {
            key: format!("{prefix}_CLIENT_ID"),
            protected: false,
            hidden: false,
            what: format!(
                "the identifier `{client}` of the confidential OAuth client tokenops signs in \
                 to {} with (Admin Center > Apps and integrations > APIs > OAuth clients), \
                 created by hand once; not a secret",
                z.name
            ),
        });
        out.push(CiVariable {
            key: format!("{prefix}_CLIENT_SECRET"),
            protected: true,
            hidden: false,
            what: "that client's secret, shown once when the client is created; tokenops \
                   replaces it from then on"
                .to_string(),
        });
        out.push(CiVariable {
            key: format!("{prefix}_READ_TOKEN"),
            protected: false,
            hidden: false,
            what: format!(
                "an OAuth token of client `{client}` on {} with scope `read` (e.g. from the \
                 client-credentials grant); tokenops renews it from then on",
                z.name
            ),
        });
    }
    out.push(CiVariable {
        key: IDENTITY_VARIABLE.to_string(),
        protected: true,
        hidden: true,
        what: "the age identity printed above".to_string(),
    });
    out
}

/// What `init` prints: the files, the identity (the one secret tokenops prints on purpose,
/// once), the CI/CD variables and the next steps.
pub fn report(done: &Initialized, project: &str) -> String {
    let mut out = String::from("Wrote:\n");
    for f in &done.files {
        out.push_str(&format!("  {}\n", f.display()));
    }
    out.push_str(&format!(
        "\nThe escrow key pair is new: tokenops.yaml holds its public recipient {}. Its secret \
         half is below and is not written anywhere. Store this as the masked, protected CI/CD \
         variable {IDENTITY_VARIABLE} (Settings > CI/CD > Variables, visibility \"Masked and \
         hidden\") now; it is shown only this once:\n\n{}\n\n",
        done.recipient,
        done.identity.expose_secret()
    ));
    out.push_str(&format!(
        "CI/CD variables to create in project {project} (Settings > CI/CD > Variables):\n"
    ));
    for v in &done.variables {
        out.push_str(&format!(
            "  {:<26} {}, masked{}: {}\n",
            v.key,
            if v.protected {
                "protected"
            } else {
                "not protected"
            },
            if v.hidden { " and hidden" } else { "" },
            v.what
        ));
    }
    out.push_str(
        "\nNext: create the first tokens by hand and put them in the variables above (the \
         bootstrap; from then on `tokenops apply` keeps them alive), include \
         templates/tokenops.gitlab-ci.yml in the project's .gitlab-ci.yml, and run `tokenops \
         validate`.\n",
    );
    out
}
