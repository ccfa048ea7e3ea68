//! `tokenops apply --provide TOKEN_ID`: a value a person obtained by hand (a legacy Zendesk
//! API token nobody can create by API, or any credential of a token in manual mode) is read
//! from stdin by the CLI and distributed through the same protocol as a rotation: escrowed
//! first, written to every consumer, verified, recorded. A legacy Zendesk API token is first
//! proven to act as the declared email, so a mistyped value is never written anywhere.

use secrecy::SecretString;

use crate::clients::Clients;
use crate::kinds::Issued;
use crate::ledger::Obtain;
use crate::manifest::TokenSpec;

/// Checks the provided value before anything is written; returns the staged value.
pub async fn stage(
    clients: &Clients,
    spec: &TokenSpec,
    value: &SecretString,
) -> Result<Issued, String> {
    if secrecy::ExposeSecret::expose_secret(value)
        .trim()
        .is_empty()
    {
        return Err(format!(
            "--provide {}: stdin held no value; pipe the credential in, e.g. \
             `tokenops apply --provide {} --auto-approve < file`",
            spec.id, spec.id
        ));
    }
    let id = spec.kind.driver().check_provided(clients, value).await?;
    Ok((id, value.clone()))
}

/// Distributes the provided value of token `id` through the rotation protocol.
pub async fn run(
    ctx: &super::Ctx,
    desired: &crate::manifest::Desired,
    id: &str,
) -> super::TokenResult {
    match desired.tokens.iter().find(|t| t.spec.id == id) {
        Some(t) => {
            super::protocol::run(
                ctx,
                &t.spec,
                super::protocol::Start::Fresh {
                    obtain: Obtain::Provide,
                    expires_at: None,
                    old_id: None,
                    retire: None,
                    consumers: Vec::new(),
                },
            )
            .await
        }
        None => super::TokenResult::new(
            id,
            super::TokenOutcome::Failed,
            format!(
                "--provide {id}: no manifest declares a token with this id; check the id \
                 (`tokenops plan` lists them)"
            ),
        ),
    }
}
