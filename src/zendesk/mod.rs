//! The Zendesk client: one `ZendeskClient` per account over the shared `ApiClient`, with one
//! file per resource (webhooks, apps, OAuth clients and tokens, legacy API tokens). Paths
//! `/api/v2/...` and `/oauth/tokens` are appended to the instance URL as given.

pub mod api_tokens;
pub mod apps;
pub mod models;
pub mod oauth;
pub mod session;
pub mod users;
pub mod webhooks;

use std::sync::Arc;

use crate::http::{
    ApiClient, ApiError, Auth, ClientSettings, Clock, InstanceAccess, Platform, SystemClock,
};

pub use models::*;
pub use oauth::Grant;
pub use session::{ClientCredentials, RUN_TOKEN_SECONDS};
pub use users::{ApiSettings, ZendeskUser};

/// A client for one Zendesk account. Cheap to clone; clones share the run's sign-in.
#[derive(Debug, Clone)]
pub struct ZendeskClient {
    api: ApiClient,
    /// The client-credentials sign-in, when the instance uses one.
    session: Option<Arc<session::Session>>,
}

impl ZendeskClient {
    /// A client for `access`: a bearer (OAuth) token, or with `access.email` set, a legacy
    /// API token sent as Basic `{email}/token:{token}`.
    pub fn new(access: &InstanceAccess, settings: ClientSettings) -> Result<Self, ApiError> {
        Self::with_clock(access, settings, Arc::new(SystemClock::new()))
    }

    /// Like [`ZendeskClient::new`], on an injected clock (budget and waits).
    pub fn with_clock(
        access: &InstanceAccess,
        settings: ClientSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ApiError> {
        let auth = match &access.email {
            Some(email) => Auth::ZendeskApiToken {
                email: email.clone(),
                token: access.credential.clone(),
            },
            None => Auth::Bearer(access.credential.clone()),
        };
        let api = ApiClient::with_clock(
            Platform::Zendesk,
            &access.name,
            &access.url,
            auth,
            settings,
            clock,
        )?;
        Ok(ZendeskClient { api, session: None })
    }

    /// A client that signs in on its first call with `credentials` (the client-credentials
    /// grant); `access.credential` is not sent.
    pub fn with_client_credentials(
        access: &InstanceAccess,
        credentials: ClientCredentials,
        settings: ClientSettings,
    ) -> Result<Self, ApiError> {
        Self::with_client_credentials_on(
            access,
            credentials,
            settings,
            Arc::new(SystemClock::new()),
        )
    }

    /// Like [`ZendeskClient::with_client_credentials`], on an injected clock (budget, waits
    /// and the renewal of the run's token).
    pub fn with_client_credentials_on(
        access: &InstanceAccess,
        credentials: ClientCredentials,
        settings: ClientSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ApiError> {
        let api = ApiClient::with_clock(
            Platform::Zendesk,
            &access.name,
            &access.url,
            Auth::None,
            settings,
            clock,
        )?;
        api.remember_secret(&credentials.secret);
        Ok(ZendeskClient {
            api,
            session: Some(Arc::new(session::Session::new(credentials))),
        })
    }

    /// Wraps an existing `ApiClient`.
    pub fn from_api(api: ApiClient) -> Self {
        ZendeskClient { api, session: None }
    }

    /// The shared HTTP client.
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// The instance name.
    pub fn instance(&self) -> &str {
        self.api.instance()
    }
}

/// `/api/v2` + `rest`.
pub(crate) fn v2(rest: impl AsRef<str>) -> String {
    format!("/api/v2{}", rest.as_ref())
}
