//! `tokenops_credential`: the credential tokenops itself signs in to one platform instance
//! with. Writing it switches every client of the run to the new value at once (so no later
//! call of the run uses the value the rotation just revoked); verifying it signs in with the
//! new value. The token is rotated after every other token of the run, and the CI/CD
//! variables that hold the credential for the next run are its other consumers. On Zendesk
//! the credential is the secret of the OAuth client the run signs in with: writing it
//! changes what later sign-ins use, verifying it mints (and revokes) a token with it.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::ListKey;
use crate::inventory::{Holds, LiveConsumer};
use crate::kinds::{
    ConsumerCheck, ConsumerDriver, ConsumerKindId, ConsumerLiveCx, Credential, Proof,
};
use crate::manifest::ConsumerKey;

/// The credential tokenops uses for one instance: `{ gitlab: NAME }` or `{ zendesk: NAME }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["gitlab"]}, {"required": ["zendesk"]}]))]
pub struct TokenopsCredential {
    /// The GitLab instance (a `name` under `gitlab:` in tokenops.yaml) tokenops signs in to
    /// with this token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitlab: Option<String>,
    /// The Zendesk instance (a `name` under `zendesk:`) tokenops signs in to with this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zendesk: Option<String>,
}

impl TokenopsCredential {
    fn target(&self) -> Option<(Platform, &str)> {
        match (&self.gitlab, &self.zendesk) {
            (Some(g), None) => Some((Platform::GitLab, g)),
            (None, Some(z)) => Some((Platform::Zendesk, z)),
            _ => None,
        }
    }
}

#[async_trait]
impl ConsumerDriver for TokenopsCredential {
    fn id(&self) -> ConsumerKindId {
        ConsumerKindId::TokenopsCredential
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        self.target()
    }
    fn key(&self) -> Option<ConsumerKey> {
        let (platform, name) = self.target()?;
        Some(ConsumerKey(format!(
            "tokenops:{}/{name}/credential",
            platform.key()
        )))
    }
    fn label(&self) -> String {
        match self.target() {
            Some((_, name)) => format!("{name}: the credential tokenops signs in with"),
            None => "the credential tokenops signs in with".to_string(),
        }
    }
    fn settings(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
    fn instructions(&self) -> Option<&str> {
        None
    }
    fn check(&self, cx: &mut ConsumerCheck<'_>) {
        let Some((platform, name)) = self.target() else {
            cx.problem(
                "gitlab",
                "a tokenops_credential names exactly one instance",
                "write `tokenops_credential: { gitlab: NAME }` or `{ zendesk: NAME }`",
            );
            return;
        };
        let Some(token) = cx.token else { return };
        let field = platform.key();
        if token.driver().signs_in_to() != Some((platform, name)) {
            cx.problem(
                field,
                format!(
                    "a {} cannot sign tokenops in to {} instance `{name}`",
                    token.key(),
                    platform
                ),
                match platform {
                    Platform::GitLab => {
                        "only a GitLab personal, project or group access token on that instance \
                         can be tokenops's GitLab credential"
                    }
                    Platform::Zendesk => {
                        "only the zendesk_oauth_client_secret of the client tokenops signs in \
                         with on that instance can be its Zendesk credential"
                    }
                },
            );
        }
    }

    fn lists(&self, _needs: &mut BTreeSet<ListKey>) {}
    fn live(&self, _cx: &mut ConsumerLiveCx<'_>) -> Result<LiveConsumer, Option<String>> {
        // What the run signs in with cannot be read back: the ledger's fingerprint of what
        // apply switched to stands in.
        Ok(LiveConsumer::Present {
            settings: BTreeMap::new(),
            holds: Holds::WriteOnly,
        })
    }

    fn written_by_apply(&self) -> bool {
        true
    }
    fn rewrite_safe(&self) -> bool {
        // Switching the run's clients again is harmless.
        true
    }
    async fn write(
        &self,
        clients: &Clients,
        given: Credential<'_>,
    ) -> Result<Option<Proof>, String> {
        let value = given.value;
        switch(self, clients, value).await?;
        Ok(None)
    }
    async fn verify(&self, clients: &Clients, given: Credential<'_>) -> Result<Proof, String> {
        let value = given.value;
        switch(self, clients, value).await?;
        match self.target() {
            Some((Platform::GitLab, name)) => {
                let t = clients
                    .gitlab_for(name)?
                    .personal_token_self()
                    .await
                    .map_err(|e| format!("signing in with the new value failed: {e}"))?;
                if !t.active {
                    return Err(format!(
                        "the new value signs in to {name} as token {}, which is not active",
                        t.id
                    ));
                }
                Ok(Proof::ReadBack)
            }
            Some((Platform::Zendesk, name)) => {
                // The run keeps its access token (still valid until revoked at the end);
                // the proof is a grant with the new secret, whose token is revoked at once.
                clients
                    .zendesk_for(name)?
                    .verify_client_secret(value)
                    .await?;
                Ok(Proof::ReadBack)
            }
            None => Err("a tokenops_credential names exactly one instance".to_string()),
        }
    }
    fn run_credential(&self) -> Option<(Platform, &str)> {
        self.target()
    }
}

/// Signs every client of the run in to the instance with `value`: at once for GitLab; for
/// Zendesk, the client secret of later sign-ins (the run's access token stays valid until
/// the run revokes it at its end).
async fn switch(
    c: &TokenopsCredential,
    clients: &Clients,
    value: &SecretString,
) -> Result<(), String> {
    match c.target() {
        Some((Platform::GitLab, name)) => {
            clients.gitlab_for(name)?.switch_credential(value);
            Ok(())
        }
        Some((Platform::Zendesk, name)) => {
            clients.zendesk_for(name)?.switch_client_secret(value).await
        }
        None => Err("a tokenops_credential names exactly one instance".to_string()),
    }
}
