//! A run that outlives its own Zendesk access token: the client-credentials sign-in mints
//! the next token shortly before the first expires, with the client secret in force then
//! (the one a rotation of tokenops's own secret switched to), and revokes the old one; the
//! end of the run revokes the last.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;
use tokenops::http::{ClientSettings, InstanceAccess, ManualClock};
use tokenops::zendesk::{ClientCredentials, RUN_TOKEN_SECONDS, ZendeskClient};

use crate::scenario::Scenario;

#[tokio::test]
async fn a_long_run_renews_its_token_with_the_secret_in_force_and_revokes_the_old_one() {
    let sc = Scenario::demo().start();
    let admin = sc.zd_admin("global");
    let created = sc
        .zd(
            "global",
            Method::POST,
            &admin,
            "/api/v2/oauth/clients",
            Some(json!({"client": {"name": "long run", "identifier": "long_run", "kind": "confidential"}})),
        )
        .await;
    let client_id = created.body["client"]["id"].as_u64().expect("id");
    let secret = created.body["client"]["secret"].as_str().expect("secret");
    let clock = Arc::new(ManualClock::new(sc.now().as_second()));
    let access = InstanceAccess {
        name: "global".into(),
        url: sc.sandbox.zendesk_url("global"),
        credential: SecretString::from(secret.to_string()),
        email: None,
    };
    let zd = ZendeskClient::with_client_credentials_on(
        &access,
        ClientCredentials::new(
            "long_run",
            SecretString::from(secret.to_string()),
            "ZD_CLIENT_SECRET",
        ),
        ClientSettings::zendesk(),
        clock.clone(),
    )
    .expect("client");
    let live = || {
        let now = sc.now();
        sc.with_zendesk("global", |z| {
            z.oauth_tokens
                .values()
                .filter(|t| t.client_id == client_id && t.usable(now))
                .map(|t| t.id)
                .collect::<Vec<_>>()
        })
    };
    zd.list_webhooks(None).await.expect("signed in");
    let first = live();
    assert_eq!(first.len(), 1, "one token: {first:?}");

    // A rotation of the secret mid-run: the token stays valid, later sign-ins use the new one.
    let rotated = sc
        .zd(
            "global",
            Method::PUT,
            &admin,
            &format!("/api/v2/oauth/clients/{client_id}/generate_secret"),
            None,
        )
        .await;
    let new_secret = rotated.body["client"]["secret"].as_str().expect("secret");
    zd.switch_client_secret(&SecretString::from(new_secret.to_string()))
        .await
        .expect("switched");
    zd.list_webhooks(None)
        .await
        .expect("the run's token still works");
    assert_eq!(live(), first, "no new token before it is due");

    // Close to the token's expiry, the next call mints the next token and revokes the first;
    // only the new secret can mint it, the old one died with the generate.
    let later = Duration::from_secs(RUN_TOKEN_SECONDS - 200);
    clock.advance(later);
    sc.sandbox
        .clock()
        .advance(jiff::SignedDuration::try_from(later).expect("duration"));
    zd.list_webhooks(None).await.expect("renewed");
    let second = live();
    assert_eq!(second.len(), 1, "{second:?}");
    assert_ne!(second, first, "a new token, the old one revoked");

    zd.sign_out().await;
    assert!(live().is_empty(), "the last token is revoked at the end");
}
