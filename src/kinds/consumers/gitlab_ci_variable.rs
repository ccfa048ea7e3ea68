//! `gitlab_ci_variable`: a project or group CI/CD variable. Written by update (create when
//! absent; a create whose answer is lost is set again by update), proven by reading it back
//! and asking GitLab who the value authenticates as; a hidden variable is write-only and is
//! proven by the fingerprint of what was written. `part: username` makes it hold the
//! username of a deploy token instead of its value (the user half of a registry login).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::{ListKey, Listing};
use crate::gitlab::{GitLabClient, NewVariable, Variable, VariableUpdate};
use crate::http::ApiError;
use crate::inventory::{Holds, LiveConsumer};
use crate::kinds::gitlab::{owner, owner_words};
use crate::kinds::{
    ConsumerCheck, ConsumerDriver, ConsumerKindId, ConsumerLiveCx, Credential, Part, Proof,
};
use crate::manifest::consumer::{owner_of, split_owner};
use crate::manifest::{ConsumerKey, GitlabOwner};

/// A CI/CD variable of a project or group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "GitlabCiVariableRepr", into = "GitlabCiVariableRepr")]
pub struct GitlabCiVariable {
    /// The GitLab instance.
    pub gitlab: String,
    /// The project or group that holds the variable.
    pub owner: GitlabOwner,
    /// Variable key (`[A-Za-z0-9_]`, at most 255 characters).
    pub key: String,
    /// Environment scope (`*` for all).
    pub environment_scope: String,
    /// Hide the value in job logs.
    pub masked: bool,
    /// Only pass it to protected branches and tags.
    pub protected: bool,
    /// Masked and hidden: the value can never be read back (creation only).
    pub hidden: bool,
    /// No `$VAR` expansion; allows any non-space characters in a masked value.
    pub raw: bool,
    /// Which part of the credential the variable holds.
    pub part: Part,
}

/// The YAML shape of a CI variable consumer (exactly one of `project` and `group`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GitlabCiVariable")]
#[schemars(extend("oneOf" = [{"required": ["project"]}, {"required": ["group"]}]))]
pub struct GitlabCiVariableRepr {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml).
    pub gitlab: String,
    /// Full path of the project holding the variable (or use `group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Full path of the group holding the variable (or use `project`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Variable key (`[A-Za-z0-9_]`, at most 255 characters).
    #[schemars(regex(pattern = r"^[A-Za-z0-9_]{1,255}$"))]
    pub key: String,
    /// Environment scope, `*` (all environments) by default.
    #[serde(default = "star")]
    pub environment_scope: String,
    /// Hide the value in job logs (the value must pass GitLab's masking rules).
    #[serde(default)]
    pub masked: bool,
    /// Only pass the variable to protected branches and tags.
    #[serde(default)]
    pub protected: bool,
    /// Masked and hidden: never readable again (GitLab sets this only at creation).
    #[serde(default)]
    pub hidden: bool,
    /// Do not expand `$VAR` references; lets a masked value hold any non-space character.
    #[serde(default)]
    pub raw: bool,
    /// Which part of the credential the variable holds: the secret `value` (the default),
    /// or the `username` of a deploy token (a registry login is two variables).
    #[serde(default, skip_serializing_if = "Part::is_value")]
    pub part: Part,
}

fn star() -> String {
    "*".to_string()
}

impl TryFrom<GitlabCiVariableRepr> for GitlabCiVariable {
    type Error = String;
    fn try_from(r: GitlabCiVariableRepr) -> Result<Self, String> {
        Ok(GitlabCiVariable {
            owner: owner_of(r.project, r.group)?,
            gitlab: r.gitlab,
            key: r.key,
            environment_scope: r.environment_scope,
            masked: r.masked,
            protected: r.protected,
            hidden: r.hidden,
            raw: r.raw,
            part: r.part,
        })
    }
}

impl From<GitlabCiVariable> for GitlabCiVariableRepr {
    fn from(v: GitlabCiVariable) -> Self {
        let (project, group) = split_owner(v.owner);
        GitlabCiVariableRepr {
            gitlab: v.gitlab,
            project,
            group,
            key: v.key,
            environment_scope: v.environment_scope,
            masked: v.masked,
            protected: v.protected,
            hidden: v.hidden,
            raw: v.raw,
            part: v.part,
        }
    }
}

#[async_trait]
impl ConsumerDriver for GitlabCiVariable {
    fn id(&self) -> ConsumerKindId {
        ConsumerKindId::GitlabCiVariable
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        Some((Platform::GitLab, &self.gitlab))
    }
    fn key(&self) -> Option<ConsumerKey> {
        Some(ConsumerKey(format!(
            "gitlab:{}/{}/variable/{}@{}",
            self.gitlab,
            self.owner.path(),
            self.key,
            self.environment_scope
        )))
    }
    fn readable_at(&self) -> Option<String> {
        (!self.hidden).then(|| {
            format!(
                "reveal the CI/CD variable {} of {} on {}, under Settings > CI/CD > Variables",
                self.key,
                owner_words(&self.owner),
                self.gitlab
            )
        })
    }
    fn label(&self) -> String {
        format!(
            "{}: {} variable {}{}{}",
            self.gitlab,
            owner_words(&self.owner),
            self.key,
            if self.environment_scope == "*" {
                String::new()
            } else {
                format!(" ({})", self.environment_scope)
            },
            if self.part == Part::Username {
                " (username)"
            } else {
                ""
            }
        )
    }
    fn settings(&self) -> BTreeMap<String, String> {
        let mut settings = BTreeMap::new();
        for (name, value) in [
            ("masked", self.masked),
            ("protected", self.protected),
            ("hidden", self.hidden),
            ("raw", self.raw),
        ] {
            settings.insert(name.to_string(), value.to_string());
        }
        settings.insert(
            "environment_scope".to_string(),
            self.environment_scope.clone(),
        );
        settings
    }
    fn instructions(&self) -> Option<&str> {
        None
    }
    fn check(&self, cx: &mut ConsumerCheck<'_>) {
        let key_ok = !self.key.is_empty()
            && self.key.len() <= 255
            && self
                .key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !key_ok {
            cx.problem(
                "key",
                format!(
                    "`{}` is not a valid CI/CD variable key",
                    crate::text::echo(&self.key)
                ),
                "use only letters, digits and `_` (at most 255 characters)",
            );
        }
        if self.hidden && !self.masked {
            cx.problem(
                "hidden",
                "a hidden variable must also be masked",
                "add `masked: true` (GitLab only hides masked variables)",
            );
        }
        if self.part == Part::Username {
            match cx.token.map(|kind| kind.driver().username()) {
                Some(Err((message, hint))) => cx.problem("part", message, hint),
                Some(Ok(name)) if self.masked && name.len() < 8 => cx.problem(
                    "masked",
                    format!(
                        "the username `{}` is too short to mask",
                        crate::text::echo(name)
                    ),
                    "GitLab masks only values of at least 8 characters; drop `masked` (a \
                     username is not secret) or choose a longer username",
                ),
                _ => {}
            }
        } else if self.masked
            && let Some(kind) = cx.token
            && let Some((message, hint)) = kind.driver().mask_problem(self.raw)
        {
            cx.problem("masked", message, hint);
        }
    }

    fn lists(&self, needs: &mut BTreeSet<ListKey>) {
        needs.insert(ListKey::GitlabVariables {
            gitlab: self.gitlab.clone(),
            owner: self.owner.clone(),
        });
    }
    fn live(&self, cx: &mut ConsumerLiveCx<'_>) -> Result<LiveConsumer, Option<String>> {
        let list = ListKey::GitlabVariables {
            gitlab: self.gitlab.clone(),
            owner: self.owner.clone(),
        };
        let Some(Ok(Listing::Variables(vars))) = cx.fetched.get(&list) else {
            return Err(None);
        };
        let found = vars.iter().find(|var| {
            var.key == self.key
                && var.environment_scope.as_deref().unwrap_or("*") == self.environment_scope
        });
        let Some(var) = found else {
            return Ok(LiveConsumer::Missing);
        };
        let settings = BTreeMap::from([
            ("masked".to_string(), var.masked.to_string()),
            ("protected".to_string(), var.protected.to_string()),
            ("hidden".to_string(), var.hidden.to_string()),
            ("raw".to_string(), var.raw.to_string()),
            (
                "environment_scope".to_string(),
                var.environment_scope
                    .clone()
                    .unwrap_or_else(|| "*".to_string()),
            ),
        ]);
        let holds = match &var.value {
            _ if var.hidden => Holds::WriteOnly,
            None => Holds::WriteOnly,
            Some(value) if value.expose_secret().is_empty() => Holds::Nothing,
            Some(value) if self.part == Part::Username => cx.username_held(value),
            Some(value) => cx.readable(value),
        };
        Ok(LiveConsumer::Present { settings, holds })
    }

    fn written_by_apply(&self) -> bool {
        true
    }
    fn rewrite_safe(&self) -> bool {
        true
    }
    async fn write(
        &self,
        clients: &Clients,
        given: Credential<'_>,
    ) -> Result<Option<Proof>, String> {
        let value = &given.part(self.part)?;
        let client = clients.gitlab_for(&self.gitlab)?;
        let stored = self.put(client, value).await.map_err(|e| e.to_string())?;
        // GitLab answers a write with the variable as stored: a readable one proves itself.
        Ok(
            match stored.and_then(|v| (!v.hidden).then_some(v.value).flatten()) {
                Some(held) if held.expose_secret() == value.expose_secret() => {
                    Some(Proof::ReadBack)
                }
                _ if self.hidden => Some(Proof::Written),
                _ => None,
            },
        )
    }
    async fn verify(&self, clients: &Clients, given: Credential<'_>) -> Result<Proof, String> {
        let value = &given.part(self.part)?;
        let client = clients.gitlab_for(&self.gitlab)?;
        let owner = owner(&self.owner);
        let live = client
            .get_variable(&owner, &self.key, Some(&self.environment_scope))
            .await
            .map_err(|e| e.to_string())?;
        if self.hidden || live.hidden {
            return Ok(Proof::Written);
        }
        let Some(held) = live.value else {
            return Err(format!(
                "{} variable {} reads back empty",
                owner.label(),
                self.key
            ));
        };
        if held.expose_secret() != value.expose_secret() {
            return Err(format!(
                "{} variable {} does not hold the new value after the write",
                owner.label(),
                self.key
            ));
        }
        Ok(Proof::ReadBack)
    }
}

impl GitlabCiVariable {
    /// Sets the variable; the variable as stored when the answer shows it.
    async fn put(
        &self,
        client: &GitLabClient,
        value: &SecretString,
    ) -> Result<Option<Variable>, ApiError> {
        let owner = owner(&self.owner);
        let scope = Some(self.environment_scope.as_str());
        let update = VariableUpdate {
            value: value.clone(),
            protected: Some(self.protected),
            masked: Some(self.masked || self.hidden),
            raw: Some(self.raw),
            description: None,
        };
        match client
            .update_variable(&owner, &self.key, scope, &update)
            .await
        {
            Ok(stored) => return Ok(Some(stored)),
            Err(ApiError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let new = NewVariable {
            key: self.key.clone(),
            value: value.clone(),
            variable_type: None,
            protected: self.protected,
            masked: self.masked || self.hidden,
            masked_and_hidden: self.hidden,
            raw: self.raw,
            environment_scope: Some(self.environment_scope.clone()),
            description: None,
        };
        match client.create_variable(&owner, &new).await {
            Ok(stored) => Ok(Some(stored)),
            // A lost answer or a concurrent create: the variable exists now; set it by update.
            Err(ApiError::OutcomeUnknown { .. }) | Err(ApiError::Invalid { .. }) => client
                .update_variable(&owner, &self.key, scope, &update)
                .await
                .map(Some),
            Err(e) => Err(e),
        }
    }
}
