//! tokenops's own credentials at the start of `apply`: when an unfinished rotation of a
//! token declared with a `tokenops_credential` consumer already holds an escrowed value,
//! the run signs in with that value before anything else (the old one was revoked by the
//! rotation, whatever the environment still holds). The value is used only once the
//! platform says it signs in (GitLab's token lookup, a Zendesk grant with the escrowed
//! client secret), neither of which rotates anything, so a dead value is harmless.

use secrecy::SecretString;

use super::escrow::Escrow;
use crate::Platform;
use crate::clients::Clients;
use crate::ledger::{Ledger, Step};
use crate::manifest::Desired;

/// Switches the run's clients to the escrowed values of unfinished rotations of tokenops's
/// own credentials; returns the ids of the tokens whose value the run now signs in with.
pub async fn adopt_escrowed(
    desired: &Desired,
    ledger: &Ledger,
    escrow: &Escrow,
    clients: &Clients,
) -> Vec<String> {
    let mut adopted = Vec::new();
    for declared in &desired.tokens {
        let spec = &declared.spec;
        let Some((platform, instance)) = spec.run_credential() else {
            continue;
        };
        let Some(pending) = ledger.token(&spec.id).and_then(|t| t.pending.as_ref()) else {
            continue;
        };
        if pending.step < Step::Staged {
            continue;
        }
        let Some(armored) = &pending.escrow else {
            continue;
        };
        let Ok(value) = escrow.open(armored) else {
            continue;
        };
        if platform == Platform::Zendesk {
            // The escrowed client secret, once a grant with it works, is what the run
            // signs in with from its first call on.
            let Ok(client) = clients.zendesk_for(instance) else {
                continue;
            };
            if client.verify_client_secret(&value).await.is_ok()
                && client.switch_client_secret(&value).await.is_ok()
            {
                tracing::info!(token = %spec.id, "signing in with the escrowed client secret");
                adopted.push(spec.id.clone());
            }
            continue;
        }
        let Ok(client) = clients.gitlab_for(instance) else {
            continue;
        };
        if signs_in(client, &value, pending.new_platform_id.as_deref()).await {
            client.switch_credential(&value);
            tracing::info!(token = %spec.id, "signing in with the escrowed value");
            adopted.push(spec.id.clone());
        }
    }
    adopted
}

/// An unfinished rotation of tokenops's own credential that stopped before its value was
/// escrowed, while the run's credential no longer signs in: the self-rotation went through
/// and its answer was lost. Nothing can be planned with a dead credential, and the call is
/// never sent again; the words say what a person must do.
pub async fn lost_before_escrow(
    desired: &Desired,
    ledger: &Ledger,
    clients: &Clients,
) -> Option<String> {
    for declared in &desired.tokens {
        let spec = &declared.spec;
        let Some((platform, instance)) = spec.run_credential() else {
            continue;
        };
        let Some(pending) = ledger.token(&spec.id).and_then(|t| t.pending.as_ref()) else {
            continue;
        };
        if pending.step != Step::Intent {
            continue;
        }
        if platform == Platform::Zendesk {
            if let Some(words) = zendesk_lost(spec, instance, clients).await {
                return Some(words);
            }
            continue;
        }
        let Ok(client) = clients.gitlab_for(instance) else {
            continue;
        };
        if let Err(crate::http::ApiError::Unauthorized { .. }) = client.personal_token_self().await
        {
            return Some(crate::kinds::gitlab::lost_own_credential_words(
                spec, instance,
            ));
        }
    }
    None
}

/// The words for a lost generate of tokenops's own Zendesk client secret: the secret the
/// environment holds no longer signs in while a generate was about to be sent.
async fn zendesk_lost(
    spec: &crate::manifest::TokenSpec,
    instance: &str,
    clients: &Clients,
) -> Option<String> {
    let client = clients.zendesk_for(instance).ok()?;
    match client.can_sign_in().await {
        Ok(false) => spec.kind.driver().lost_own_credential(spec),
        _ => None,
    }
}

/// The summary's note for a finished rotation of tokenops's own credential `spec`: what the
/// run switched to, and where the next run finds the new value.
pub fn switched_note(spec: &crate::manifest::TokenSpec) -> Option<String> {
    let (platform, instance) = spec.run_credential()?;
    let holders: Vec<String> = spec
        .consumers
        .iter()
        .filter(|c| c.driver().run_credential().is_none())
        .map(|c| c.driver().label())
        .collect();
    let next = if holders.is_empty() {
        "no consumer holds it for the next run: declare the CI/CD variable it is read from"
            .to_string()
    } else {
        format!("the next run reads it from {}", holders.join(", "))
    };
    Some(match platform {
        Platform::GitLab => format!(
            "tokenops's own credential for GitLab `{instance}`: the run switched to the new \
             value as soon as it was escrowed and signed in with it from then on; the old value \
             is revoked; {next}"
        ),
        Platform::Zendesk => format!(
            "tokenops's own credential for Zendesk `{instance}`: the run's access token keeps \
             working, and every later sign-in (a renewal within this run, and the next run) \
             uses the new secret; {next}"
        ),
    })
}

async fn signs_in(
    client: &crate::gitlab::GitLabClient,
    value: &SecretString,
    expected: Option<&str>,
) -> bool {
    match client.introspect_token(value).await {
        Ok(t) => t.active && expected.is_none_or(|e| e == t.id.to_string()),
        Err(_) => false,
    }
}
