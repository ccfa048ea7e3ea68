//! Resource calls send what the platforms expect (paths, encodings, bodies, auth headers),
//! and no secret ever travels in a URL or shows in Debug output.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokenops::gitlab::{AccessToken, CustomHeader, HookWrite, NewVariable, Owner};
use tokenops::zendesk::{
    Grant, InstallationSettings, NewOAuthToken, OAuthToken, SettingValue, WebhookAuth,
};

use super::server::{Reply, serve};
use super::{TOKEN, fast, gitlab, token_json, zendesk};

#[tokio::test]
async fn gitlab_writes_keep_secrets_in_headers_and_bodies_only() {
    let server = serve(|seen, _| {
        if seen.uri.contains("/hooks/") {
            Reply::json(200, json!({"id": 3, "url": "https://bridge.example.com/hook", "custom_headers": [{"key": "X-Auth"}]}))
        } else if seen.uri.contains("/variables") {
            Reply::json(201, json!({"key": "SYNC_TOKEN", "value": TOKEN, "masked": true}))
        } else {
            Reply::json(200, token_json(4211))
        }
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let project = Owner::Project("support/ops/bridge".into());
    let hook = HookWrite::new(
        "https://bridge.example.com/hook",
        SecretString::from(TOKEN),
        vec![CustomHeader {
            key: "X-Auth".into(),
            value: SecretString::from(TOKEN),
        }],
    )
    .setting("push_events", false)
    .setting("token", "ignored");
    client.update_hook(&project, 3, &hook).await.unwrap();
    let variable = NewVariable {
        key: "SYNC_TOKEN".into(),
        value: SecretString::from(TOKEN),
        variable_type: None,
        protected: true,
        masked: true,
        masked_and_hidden: false,
        raw: false,
        environment_scope: Some("production".into()),
        description: None,
    };
    let created = client.create_variable(&project, &variable).await.unwrap();
    client
        .get_variable(&project, "SYNC_TOKEN", Some("production"))
        .await
        .unwrap();
    client
        .introspect_token(&SecretString::from("glpat-consumer-value"))
        .await
        .unwrap();

    let requests = server.requests();
    let hook_put = &requests[0];
    assert_eq!(
        hook_put.line(),
        "PUT /api/v4/projects/support%2Fops%2Fbridge/hooks/3"
    );
    let body = hook_put.json();
    assert_eq!(body["url"], "https://bridge.example.com/hook");
    assert_eq!(
        body["token"], TOKEN,
        "a hook PUT carries the secret token with the URL"
    );
    assert_eq!(
        body["custom_headers"],
        json!([{"key": "X-Auth", "value": TOKEN}])
    );
    assert_eq!(body["push_events"], false);
    assert_eq!(
        requests[2].line(),
        "GET /api/v4/projects/support%2Fops%2Fbridge/variables/SYNC_TOKEN?filter%5Benvironment_scope%5D=production"
    );
    assert_eq!(
        requests[3].header("private-token").as_deref(),
        Some("glpat-consumer-value")
    );
    for seen in &requests {
        assert!(!seen.uri.contains(TOKEN), "secret in URL: {}", seen.uri);
        assert!(
            !seen.uri.contains("glpat-consumer-value"),
            "secret in URL: {}",
            seen.uri
        );
    }
    assert_eq!(requests[0].header("private-token").as_deref(), Some(TOKEN));
    assert_eq!(created.value.unwrap().expose_secret(), TOKEN);
    assert!(!format!("{client:?}").contains(TOKEN));
    assert!(!format!("{hook:?}").contains(TOKEN));
    assert!(!format!("{variable:?}").contains(TOKEN));
}

#[test]
fn models_never_show_secrets_in_debug() {
    let mut json = token_json(1);
    json["token"] = json!(TOKEN);
    let token: AccessToken = serde_json::from_value(json).unwrap();
    assert_eq!(token.token.as_ref().unwrap().expose_secret(), TOKEN);
    assert!(!format!("{token:?}").contains(TOKEN));
    let oauth: OAuthToken = serde_json::from_value(
        json!({"id": 8, "token": "af3345kdj3", "full_token": TOKEN, "refresh_token": TOKEN}),
    )
    .unwrap();
    assert_eq!(
        oauth.value().unwrap().expose_secret(),
        TOKEN,
        "full_token wins"
    );
    assert!(!format!("{oauth:?}").contains(TOKEN));
    let auth = WebhookAuth::BearerToken(SecretString::from(TOKEN));
    assert!(!format!("{auth:?}").contains(TOKEN));
    let settings = InstallationSettings(vec![(
        "api_token".into(),
        SettingValue::Secret(SecretString::from(TOKEN)),
    )]);
    assert!(!format!("{settings:?}").contains(TOKEN));
    assert!(serde_json::to_string(&settings).unwrap().contains(TOKEN));
}

#[tokio::test]
async fn zendesk_calls_use_the_documented_shapes() {
    let server = serve(|seen, _| match (seen.method.as_str(), seen.uri.as_str()) {
        ("PATCH", _) | ("DELETE", _) => Reply::empty(204),
        ("POST", "/api/v2/oauth/tokens") => Reply::json(
            201,
            json!({"token": {"id": 8678530, "client_id": 223443, "token": "af3345kdj3",
                              "full_token": "zd-full-value", "scopes": ["webhooks:write"]}}),
        ),
        ("POST", "/oauth/tokens") => Reply::json(
            200,
            json!({"access_token": "zd-access", "token_type": "bearer", "expires_in": 1800,
                   "refresh_token": "zd-refresh"}),
        ),
        ("PUT", _) => Reply::json(
            200,
            json!({"id": 36, "app_id": 2, "settings": {"name": "GitLab Sync"}}),
        ),
        ("GET", "/api/v2/api_tokens") => Reply::json(
            200,
            json!({"api_tokens": [
                {"id": 1, "active": true, "last_used": "2026-06-02T11:47:13Z"},
                {"id": 2, "active": true, "last_used_at": "2026-07-02T11:47:13Z"},
                {"id": 3, "active": false}]}),
        ),
        _ => Reply::json(
            404,
            json!({"error": "RecordNotFound", "description": "Not found"}),
        ),
    })
    .await;
    let client = zendesk(&server.origin, None);
    client
        .set_webhook_auth(
            "01EJFTSCC78X5V07NPY2MHR00M",
            &WebhookAuth::BearerToken(SecretString::from(TOKEN)),
        )
        .await
        .unwrap();
    let minted = client
        .create_oauth_token(&NewOAuthToken {
            client_id: 223443,
            scopes: vec!["webhooks:write".into()],
        })
        .await
        .unwrap();
    assert_eq!(minted.value().unwrap().expose_secret(), "zd-full-value");
    let granted = client
        .grant(&Grant::ClientCredentials {
            client_id: "tokenops_prod".into(),
            client_secret: SecretString::from(TOKEN),
            scope: "webhooks:write apps:write".into(),
            expires_in: None,
        })
        .await
        .unwrap();
    assert_eq!(granted.access_token.expose_secret(), "zd-access");
    let settings = InstallationSettings(vec![
        ("name".into(), SettingValue::Plain(json!("GitLab Sync"))),
        (
            "gitlab_token".into(),
            SettingValue::Secret(SecretString::from(TOKEN)),
        ),
    ]);
    let installation = client
        .update_installation_settings(36, &settings)
        .await
        .unwrap();
    assert_eq!(installation.name(), Some("GitLab Sync"));
    let tokens = client.list_api_tokens().await.unwrap();
    let last_used: Vec<_> = tokens
        .iter()
        .map(|t| t.last_used().map(|t| t.to_string()))
        .collect();
    assert_eq!(
        last_used,
        vec![
            Some("2026-06-02T11:47:13Z".to_string()),
            Some("2026-07-02T11:47:13Z".to_string()),
            None
        ]
    );
    let err = client.get_webhook("nope").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("Zendesk global: GET webhook nope: 404"),
        "{err}"
    );

    let requests = server.requests();
    let patch = &requests[0];
    assert_eq!(
        patch.line(),
        "PATCH /api/v2/webhooks/01EJFTSCC78X5V07NPY2MHR00M"
    );
    assert_eq!(
        patch.json(),
        json!({"webhook": {"authentication": {"type": "bearer_token", "add_position": "header",
                                              "data": {"token": TOKEN}}}})
    );
    assert_eq!(
        patch.header("authorization").as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        requests[1].json(),
        json!({"token": {"client_id": 223443, "scopes": ["webhooks:write"]}})
    );
    let grant = &requests[2];
    assert_eq!(
        grant.header("authorization"),
        None,
        "the grant carries its own credential"
    );
    assert_eq!(grant.json()["grant_type"], "client_credentials");
    assert_eq!(grant.json()["client_secret"], TOKEN);
    assert_eq!(requests[3].json()["settings"]["gitlab_token"], TOKEN);
    for seen in &requests {
        assert!(!seen.uri.contains(TOKEN), "secret in URL: {}", seen.uri);
    }
}

#[tokio::test]
async fn legacy_zendesk_tokens_use_basic_auth() {
    let server = serve(|_, _| Reply::json(200, json!({"api_tokens": []}))).await;
    let client = zendesk(&server.origin, Some("ops@example.com"));
    client.list_api_tokens().await.unwrap();
    let expected = format!("ops@example.com/token:{TOKEN}");
    let header = server.requests()[0].header("authorization").unwrap();
    let encoded = header.strip_prefix("Basic ").unwrap();
    assert_eq!(decode_base64(encoded), expected);
}

fn decode_base64(text: &str) -> String {
    const TABLE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.chars().filter(|c| *c != '=') {
        bits = (bits << 6) | TABLE.find(c).unwrap() as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn zendesk_anonymous_users_are_not_taken_for_a_working_credential() {
    let server = serve(|seen, _| {
        if seen.uri.starts_with("/api/v2/account/settings") {
            Reply::json(
                200,
                json!({"settings": {"api": {"api_token_access": false}}}),
            )
        } else if seen
            .header("authorization")
            .is_some_and(|h| h.starts_with("Basic "))
        {
            Reply::json(
                200,
                json!({"user": {"id": null, "email": "invalid@example.com"}}),
            )
        } else {
            Reply::json(
                200,
                json!({"user": {"id": 29, "email": "ops@example.com", "role": "admin"}}),
            )
        }
    })
    .await;
    let client = zendesk(&server.origin, None);
    assert!(client.current_user().await.unwrap().is_authenticated());
    let consumer = client
        .introspect_api_token("agent@example.com", &SecretString::from("zd-legacy-value"))
        .await
        .unwrap();
    assert!(!consumer.is_authenticated());
    assert_eq!(
        client.api_settings().await.unwrap().api_token_access,
        Some(false)
    );
}

#[tokio::test]
async fn service_account_rotation_uses_the_group_route() {
    let server = serve(|_, _| {
        let mut token = token_json(77);
        token["token"] = json!("glpat-service-new");
        Reply::json(201, token)
    })
    .await;
    let (client, _) = gitlab(&server.origin, fast());
    let rotated = client
        .rotate_service_account_token("support", 166, 70, jiff::civil::date(2027, 1, 1))
        .await
        .unwrap();
    assert_eq!(rotated.token.unwrap().expose_secret(), "glpat-service-new");
    let seen = &server.requests()[0];
    assert_eq!(
        seen.line(),
        "POST /api/v4/groups/support/service_accounts/166/personal_access_tokens/70/rotate"
    );
    assert_eq!(seen.json(), json!({"expires_at": "2027-01-01"}));
}
