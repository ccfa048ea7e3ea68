//! Webhooks: list (cursor pagination), show, create, PATCH the credential only (PUT would
//! replace the whole webhook and could drop settings tokenops does not know), delete, and the
//! signing secret (show, reset).

use serde::{Deserialize, Serialize};

use super::models::{NewWebhook, Webhook, WebhookAuth};
use super::{ZendeskClient, v2};
use crate::http::{ApiError, ApiRequest, encode_segment};

#[derive(Deserialize)]
struct One {
    webhook: Webhook,
}

#[derive(Deserialize)]
struct SigningSecretAnswer {
    signing_secret: SigningSecret,
}

#[derive(Deserialize)]
struct SigningSecret {
    secret: Option<secrecy::SecretString>,
}

#[derive(Serialize)]
struct Wrapped<T> {
    webhook: T,
}

#[derive(Serialize)]
struct AuthOnly<'a> {
    authentication: &'a WebhookAuth,
}

impl ZendeskClient {
    /// `GET /api/v2/webhooks` (optionally `filter[name_contains]`), every page.
    pub async fn list_webhooks(
        &self,
        name_contains: Option<&str>,
    ) -> Result<Vec<Webhook>, ApiError> {
        let req = ApiRequest::get(v2("/webhooks"), "webhooks")
            .query_opt("filter[name_contains]", name_contains);
        self.ready().await?.zendesk_all(req, "webhooks").await
    }

    /// `GET /api/v2/webhooks/{id}`.
    pub async fn get_webhook(&self, id: &str) -> Result<Webhook, ApiError> {
        let req = ApiRequest::get(
            v2(format!("/webhooks/{}", encode_segment(id))),
            format!("webhook {id}"),
        );
        Ok(self.ready().await?.json::<One>(req).await?.webhook)
    }

    /// `POST /api/v2/webhooks`.
    pub async fn create_webhook(&self, webhook: &NewWebhook) -> Result<Webhook, ApiError> {
        let req = ApiRequest::post(
            v2("/webhooks"),
            format!("webhook `{}` create", webhook.name),
        )
        .json(&Wrapped { webhook });
        Ok(self.ready().await?.json::<One>(req).await?.webhook)
    }

    /// `PATCH /api/v2/webhooks/{id}` with only `authentication` (204): every other field is
    /// kept as it is.
    pub async fn set_webhook_auth(&self, id: &str, auth: &WebhookAuth) -> Result<(), ApiError> {
        let req = ApiRequest::patch(
            v2(format!("/webhooks/{}", encode_segment(id))),
            format!("webhook {id} authentication"),
        )
        .json(&Wrapped {
            webhook: AuthOnly {
                authentication: auth,
            },
        });
        self.ready().await?.send(req).await.map(drop)
    }

    /// `DELETE /api/v2/webhooks/{id}`.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            v2(format!("/webhooks/{}", encode_segment(id))),
            format!("webhook {id} delete"),
        );
        self.ready().await?.send(req).await.map(drop)
    }

    /// `GET /api/v2/webhooks/{id}/signing_secret`: the secret Zendesk signs requests with.
    pub async fn show_webhook_signing_secret(
        &self,
        id: &str,
    ) -> Result<Option<secrecy::SecretString>, ApiError> {
        let req = ApiRequest::get(
            v2(format!("/webhooks/{}/signing_secret", encode_segment(id))),
            format!("webhook {id} signing secret"),
        );
        Ok(self
            .api
            .json::<SigningSecretAnswer>(req)
            .await?
            .signing_secret
            .secret)
    }

    /// `POST /api/v2/webhooks/{id}/signing_secret`: a new signing secret, effective at once
    /// (the old one stops signing with no overlap).
    pub async fn reset_webhook_signing_secret(
        &self,
        id: &str,
    ) -> Result<Option<secrecy::SecretString>, ApiError> {
        let req = ApiRequest::post(
            v2(format!("/webhooks/{}/signing_secret", encode_segment(id))),
            format!("webhook {id} signing secret reset"),
        );
        Ok(self
            .api
            .json::<SigningSecretAnswer>(req)
            .await?
            .signing_secret
            .secret)
    }
}
