//! Signing a run in with an OAuth client's identifier and secret: the first call of the run
//! mints its own short-lived access token with the client-credentials grant, every clone of
//! the client then sends it, and the end of the run revokes it by its id (`DELETE
//! /api/v2/oauth/tokens/{id}` with the token itself, which needs no secret; the id comes from
//! `GET /api/v2/oauth/tokens/current.json` right after the grant, which also proves the
//! token signs in). A token
//! left behind by a killed run expires by itself: every grant asks for a lifetime of
//! [`RUN_TOKEN_SECONDS`], also from clients that Zendesk's expiry policy has not reached yet;
//! a run that lasts longer mints the next token shortly before its token expires.
//!
//! The client secret is the long-lived credential. When apply rotates it, the run's access
//! token keeps working until revoked; [`ZendeskClient::switch_client_secret`] changes what
//! later sign-ins use, and [`ZendeskClient::verify_client_secret`] proves a secret by
//! minting (and at once revoking) a token with it. A grant is never retried: a refused one
//! is remembered, and the run's calls fail with its words until the secret is switched.

use secrecy::SecretString;

use super::{Grant, ZendeskClient, v2};
use crate::http::{ApiError, ApiRequest, Auth, Platform};

/// The lifetime the run asks for its access token, in seconds: long enough for a slow apply
/// under rate limits, short enough that a token left behind by a killed run dies soon.
pub const RUN_TOKEN_SECONDS: u64 = 3_600;

/// How long before the run's token expires a call mints the next one (a run longer than
/// [`RUN_TOKEN_SECONDS`] renews its token, with the client secret in force then, and revokes
/// the old one).
const RENEW_BEFORE_SECONDS: i64 = 300;

/// How a Zendesk instance signs in, as the edge resolved it.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The client's string identifier (`client_id` of the grant).
    pub client_id: String,
    /// The client secret.
    pub secret: SecretString,
    /// Space-separated scopes the run's token asks for. `read write` for every command: the
    /// run holds the client secret, which can mint any scope, so a narrower token protects
    /// nothing, and revoking the token at the end is a write (Zendesk refuses it to a
    /// read-only token).
    pub scope: String,
    /// The variable the secret came from, for messages.
    pub secret_env: String,
}

impl ClientCredentials {
    /// The sign-in of OAuth client `client_id` with `secret` (read from `secret_env`), asking
    /// for `read write`.
    pub fn new(client_id: &str, secret: SecretString, secret_env: &str) -> Self {
        ClientCredentials {
            client_id: client_id.trim().to_string(),
            secret,
            scope: "read write".to_string(),
            secret_env: secret_env.to_string(),
        }
    }
}

#[derive(serde::Deserialize)]
struct Current {
    token: CurrentToken,
}

#[derive(serde::Deserialize)]
struct CurrentToken {
    id: u64,
}

/// Where the run's sign-in stands.
#[derive(Debug)]
enum State {
    /// No grant yet.
    NotYet,
    /// Signed in with this access token, its id, and the Unix second from which a call
    /// first mints a new one (shortly before the token expires).
    SignedIn(SecretString, u64, i64),
    /// The grant was refused; these words explain why.
    Refused(String),
    /// The run's token was revoked at the end of the run.
    SignedOut,
}

/// The run's sign-in through the client-credentials grant.
#[derive(Debug)]
pub(crate) struct Session {
    credentials: std::sync::RwLock<ClientCredentials>,
    state: tokio::sync::Mutex<State>,
}

impl Session {
    pub(crate) fn new(credentials: ClientCredentials) -> Self {
        Session {
            credentials: std::sync::RwLock::new(credentials),
            state: tokio::sync::Mutex::new(State::NotYet),
        }
    }

    fn credentials(&self) -> ClientCredentials {
        self.credentials
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ZendeskClient {
    /// The client identifier the run signs in with, when it uses the client-credentials
    /// grant.
    pub fn signs_in_as_client(&self) -> Option<String> {
        self.session.as_ref().map(|s| s.credentials().client_id)
    }

    /// The secret the run signs in with, when it signs in as OAuth client `client`: a token
    /// of that client minted through the client-credentials grant needs no second copy of it.
    pub fn own_client_secret(&self, client: &str) -> Option<SecretString> {
        let credentials = self.session.as_ref()?.credentials();
        (credentials.client_id == client).then_some(credentials.secret)
    }

    /// The id of the access token the run signed in with, while it holds one.
    pub(crate) async fn run_token_id(&self) -> Option<u64> {
        let state = self.session.as_ref()?.state.lock().await;
        match &*state {
            State::SignedIn(_, id, _) => Some(*id),
            _ => None,
        }
    }

    /// Signs the run in when it has not yet (the client-credentials grant), or repeats why
    /// it could not. Clients with a static credential are always ready.
    pub(crate) async fn ready(&self) -> Result<&crate::http::ApiClient, ApiError> {
        let Some(session) = &self.session else {
            return Ok(&self.api);
        };
        let mut state = session.state.lock().await;
        let mut expiring = None;
        match &*state {
            State::SignedIn(token, id, renew_at) if self.api.unix_seconds() >= *renew_at => {
                expiring = Some((token.clone(), *id));
            }
            State::SignedIn(..) => return Ok(&self.api),
            State::Refused(reason) => return Err(self.sign_in_error(reason.clone())),
            State::SignedOut => {
                return Err(self.sign_in_error(
                    "the run's access token was already revoked at the end of the run".into(),
                ));
            }
            State::NotYet => {}
        }
        let creds = session.credentials();
        match self.mint(&creds).await {
            Ok((token, id)) => {
                self.api.replace_auth(Auth::Bearer(token.clone()));
                *state = State::SignedIn(token, id, self.renew_at());
                if let Some((old, old_id)) = expiring
                    && let Err(e) = self.revoke_run_token(&old, old_id).await
                {
                    tracing::debug!("the run's previous access token: {e}");
                }
                Ok(&self.api)
            }
            Err(e) if expiring.is_some() => {
                // The current token still works for a little while; the next call tries
                // again.
                tracing::warn!(
                    instance = %self.instance(),
                    "renewing the run's access token failed: {e}"
                );
                Ok(&self.api)
            }
            Err(e) => {
                let reason = refused_words(&creds, &e);
                *state = State::Refused(reason.clone());
                Err(self.sign_in_error(reason))
            }
        }
    }

    /// Whether the run can sign in (signing it in if it has not yet). `Ok(false)` means the
    /// grant was refused: the secret the environment holds does not sign in.
    pub async fn can_sign_in(&self) -> Result<bool, ApiError> {
        match self.ready().await {
            Ok(_) => Ok(true),
            Err(ApiError::SignIn { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Makes `secret` the client secret of later sign-ins (a refused sign-in is tried again
    /// with it; a run already signed in keeps its access token, which stays valid until
    /// revoked). A no-op for clients with a static credential.
    pub async fn switch_client_secret(&self, secret: &SecretString) -> Result<(), String> {
        let Some(session) = &self.session else {
            return Err(format!(
                "Zendesk instance `{}` does not sign in with an OAuth client: set \
                 `client_id_env` and `client_secret_env` in tokenops.yaml",
                self.instance()
            ));
        };
        self.api.remember_secret(secret);
        session
            .credentials
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .secret = secret.clone();
        let mut state = session.state.lock().await;
        if matches!(*state, State::Refused(_)) {
            *state = State::NotYet;
        }
        Ok(())
    }

    /// Proves that `secret` signs in as the run's client: mints an access token with it and
    /// revokes that token at once.
    pub async fn verify_client_secret(&self, secret: &SecretString) -> Result<(), String> {
        let Some(session) = &self.session else {
            return Err(format!(
                "Zendesk instance `{}` does not sign in with an OAuth client",
                self.instance()
            ));
        };
        self.api.remember_secret(secret);
        let creds = ClientCredentials {
            secret: secret.clone(),
            ..session.credentials()
        };
        let (token, id) = self
            .mint(&creds)
            .await
            .map_err(|e| format!("signing in with the new secret failed: {e}"))?;
        self.revoke_run_token(&token, id)
            .await
            .map_err(|e| format!("the new secret signs in, but revoking the proof failed: {e}"))
    }

    /// Revokes the run's access token, when the run minted one (the end of every run, on
    /// every path). Failing to is reported, never fatal: the token expires by itself.
    pub async fn sign_out(&self) {
        let Some(session) = &self.session else {
            return;
        };
        let mut state = session.state.lock().await;
        if let State::SignedIn(token, id, _) = &*state {
            match self.revoke_run_token(token, *id).await {
                Ok(()) => tracing::debug!(instance = %self.instance(), "run token revoked"),
                Err(e) => tracing::warn!(
                    "{e}; the run's access token expires by itself within {} minutes",
                    RUN_TOKEN_SECONDS / 60
                ),
            }
            *state = State::SignedOut;
        }
    }

    /// A grant with `creds`, and the new token's id (asked with the token itself).
    async fn mint(&self, creds: &ClientCredentials) -> Result<(SecretString, u64), ApiError> {
        let granted = self
            .grant(&Grant::ClientCredentials {
                client_id: creds.client_id.clone(),
                client_secret: creds.secret.clone(),
                scope: creds.scope.clone(),
                expires_in: Some(RUN_TOKEN_SECONDS),
            })
            .await?;
        self.api.remember_secret(&granted.access_token);
        if let Some(refresh) = &granted.refresh_token {
            self.api.remember_secret(refresh);
        }
        let req = ApiRequest::get(
            v2("/oauth/tokens/current.json"),
            "OAuth token current (the run's own access token)",
        )
        .auth(Auth::Bearer(granted.access_token.clone()));
        let current: Current = self.api.json(req).await?;
        Ok((granted.access_token, current.token.id))
    }

    /// Revokes the run's token `id` with the token itself. By id, not `current.json`: the
    /// latter has been seen to answer 204 and leave the token working.
    async fn revoke_run_token(&self, token: &SecretString, id: u64) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            v2(format!("/oauth/tokens/{id}")),
            format!("OAuth token {id} revoke (the run's own access token)"),
        )
        .auth(Auth::Bearer(token.clone()));
        self.api.send(req).await.map(drop)
    }

    /// When a token minted now is renewed: five minutes before it expires.
    fn renew_at(&self) -> i64 {
        self.api.unix_seconds() + RUN_TOKEN_SECONDS as i64 - RENEW_BEFORE_SECONDS
    }

    fn sign_in_error(&self, reason: String) -> ApiError {
        ApiError::SignIn {
            platform: Platform::Zendesk,
            instance: self.instance().to_string(),
            reason,
        }
    }
}

/// Why the grant failed, and what to do.
fn refused_words(creds: &ClientCredentials, e: &ApiError) -> String {
    let client = crate::text::echo(&creds.client_id);
    match e {
        ApiError::Unauthorized { detail, .. } | ApiError::Invalid { detail, .. } => format!(
            "Zendesk refused the client-credentials grant for OAuth client `{client}` ({} {detail}). \
             Check that {} holds the client's current secret and that the client is \
             confidential; if an apply was interrupted while rotating that secret, run \
             `tokenops apply`: it signs in with the escrowed value",
            e.status().unwrap_or_default(),
            creds.secret_env
        ),
        _ => format!("the client-credentials grant for OAuth client `{client}` failed ({e})"),
    }
}
