//! Writing a new value to a consumer and proving it holds it. Every write is idempotent (an
//! update of a known object, or a create that is re-read when its answer is lost), so a
//! resumed rotation simply writes again. Verification reads back what can be read (an
//! unhidden CI/CD variable, then asks GitLab who the value authenticates as); for write-only
//! consumers (hidden variables, webhook secrets) the successful write is the proof and the
//! keyed fingerprint of what was written is recorded.

use secrecy::{ExposeSecret, SecretString};

use crate::gitlab::{GitLabClient, HookWrite, NewVariable, Owner, VariableUpdate};
use crate::http::ApiError;
use crate::manifest::{ConsumerSpec, GitlabCiVariable, GitlabOwner, GitlabWebhook};
use crate::ops::discover::Clients;

/// How a consumer's value is proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Read back: the consumer holds exactly the new value.
    ReadBack,
    /// Write-only: the platform accepted the write; the fingerprint is recorded.
    Written,
}

fn owner(o: &GitlabOwner) -> Owner {
    match o {
        GitlabOwner::Project(p) => Owner::Project(p.clone()),
        GitlabOwner::Group(g) => Owner::Group(g.clone()),
    }
}

fn client<'a>(clients: &'a Clients, name: &str) -> Result<&'a GitLabClient, String> {
    clients.gitlab_for(name)
}

/// Whether apply can write this consumer kind.
pub fn handled(consumer: &ConsumerSpec) -> bool {
    matches!(
        consumer,
        ConsumerSpec::GitlabCiVariable(_)
            | ConsumerSpec::GitlabWebhook(_)
            | ConsumerSpec::Manual(_)
    ) || super::zendesk_consumers::handled(consumer)
}

/// Writes `value` to the consumer.
pub async fn write(
    clients: &Clients,
    consumer: &ConsumerSpec,
    value: &SecretString,
) -> Result<(), String> {
    match consumer {
        ConsumerSpec::GitlabCiVariable(v) => write_variable(client(clients, &v.gitlab)?, v, value)
            .await
            .map_err(|e| e.to_string()),
        ConsumerSpec::GitlabWebhook(h) => write_hook(client(clients, &h.gitlab)?, h, value).await,
        ConsumerSpec::Manual(_) => Ok(()),
        other if super::zendesk_consumers::handled(other) => {
            super::zendesk_consumers::write(clients, other, value).await
        }
        other => Err(format!(
            "{} consumers are not handled by this version",
            other.kind_key()
        )),
    }
}

async fn write_variable(
    client: &GitLabClient,
    v: &GitlabCiVariable,
    value: &SecretString,
) -> Result<(), ApiError> {
    let owner = owner(&v.owner);
    let scope = Some(v.environment_scope.as_str());
    let update = VariableUpdate {
        value: value.clone(),
        protected: Some(v.protected),
        masked: Some(v.masked || v.hidden),
        raw: Some(v.raw),
        description: None,
    };
    match client.update_variable(&owner, &v.key, scope, &update).await {
        Ok(_) => return Ok(()),
        Err(ApiError::NotFound { .. }) => {}
        Err(e) => return Err(e),
    }
    let new = NewVariable {
        key: v.key.clone(),
        value: value.clone(),
        variable_type: None,
        protected: v.protected,
        masked: v.masked || v.hidden,
        masked_and_hidden: v.hidden,
        raw: v.raw,
        environment_scope: Some(v.environment_scope.clone()),
        description: None,
    };
    match client.create_variable(&owner, &new).await {
        Ok(_) => Ok(()),
        // A lost answer or a concurrent create: the variable exists now; set it by update.
        Err(ApiError::OutcomeUnknown { .. }) | Err(ApiError::Invalid { .. }) => client
            .update_variable(&owner, &v.key, scope, &update)
            .await
            .map(drop),
        Err(e) => Err(e),
    }
}

async fn find_hook(
    client: &GitLabClient,
    h: &GitlabWebhook,
) -> Result<crate::gitlab::Hook, String> {
    let owner = owner(&h.owner);
    let hooks = client.list_hooks(&owner).await.map_err(|e| e.to_string())?;
    hooks
        .into_iter()
        .find(|hook| match (h.hook_id, &h.url) {
            (Some(id), _) => hook.id == id,
            (None, Some(url)) => &hook.url == url,
            (None, None) => false,
        })
        .ok_or_else(|| {
            format!(
                "{}: {} has no webhook {}; create it (tokenops does not create hooks) or fix the \
                 manifest",
                client.instance(),
                owner.label(),
                h.hook_id
                    .map(|id| format!("#{id}"))
                    .or_else(|| h.url.clone())
                    .unwrap_or_default()
            )
        })
}

async fn write_hook(
    client: &GitLabClient,
    h: &GitlabWebhook,
    value: &SecretString,
) -> Result<(), String> {
    let hook = find_hook(client, h).await?;
    let owner = owner(&h.owner);
    match &h.header {
        Some(header) => {
            let full = SecretString::from(format!(
                "{}{}",
                h.header_prefix.as_deref().unwrap_or(""),
                value.expose_secret()
            ));
            client
                .set_hook_custom_header(&owner, hook.id, header, &full)
                .await
                .map_err(|e| e.to_string())
        }
        None => {
            // The URL is sent unchanged together with the secret, so GitLab clears neither
            // the secret nor the custom headers (it only clears them when the URL changes).
            let write = HookWrite::new(hook.url.clone(), value.clone(), Vec::new());
            client
                .update_hook(&owner, hook.id, &write)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }
}

/// Proves the consumer holds `value`. `authenticates_as` is the new record's id for token
/// kinds GitLab can introspect.
pub async fn verify(
    clients: &Clients,
    consumer: &ConsumerSpec,
    value: &SecretString,
    authenticates_as: Option<(&str, &str)>,
) -> Result<Proof, String> {
    match consumer {
        ConsumerSpec::GitlabCiVariable(v) => {
            let client = client(clients, &v.gitlab)?;
            let owner = owner(&v.owner);
            let live = client
                .get_variable(&owner, &v.key, Some(&v.environment_scope))
                .await
                .map_err(|e| e.to_string())?;
            if v.hidden || live.hidden {
                return Ok(Proof::Written);
            }
            let Some(held) = live.value else {
                return Err(format!(
                    "{} variable {} reads back empty",
                    owner.label(),
                    v.key
                ));
            };
            if held.expose_secret() != value.expose_secret() {
                return Err(format!(
                    "{} variable {} does not hold the new value after the write",
                    owner.label(),
                    v.key
                ));
            }
            if let Some((gitlab, id)) = authenticates_as {
                let who = self::client(clients, gitlab)?
                    .introspect_token(&held)
                    .await
                    .map_err(|e| format!("the new value does not authenticate: {e}"))?;
                if who.id.to_string() != id {
                    return Err(format!(
                        "the value in {} variable {} authenticates as token {}, not {id}",
                        owner.label(),
                        v.key,
                        who.id
                    ));
                }
            }
            Ok(Proof::ReadBack)
        }
        ConsumerSpec::GitlabWebhook(h) => {
            let client = client(clients, &h.gitlab)?;
            let hook = find_hook(client, h).await?;
            if let Some(header) = &h.header
                && !hook
                    .custom_headers
                    .iter()
                    .any(|c| c.key.eq_ignore_ascii_case(header))
            {
                return Err(format!(
                    "webhook {} has no custom header {header} after the write",
                    hook.url
                ));
            }
            Ok(Proof::Written)
        }
        ConsumerSpec::Manual(_) => Ok(Proof::Written),
        other if super::zendesk_consumers::handled(other) => {
            super::zendesk_consumers::verify(clients, other, value).await
        }
        other => Err(format!(
            "{} consumers are not handled by this version",
            other.kind_key()
        )),
    }
}
