//! What the Zendesk token kinds share: finding the declared OAuth client, among the fetched
//! lists or live, and naming the client secret the client-credentials grant needs.

use crate::discover::lists::{Fetched, ListKey, Listing};
use crate::zendesk::{OAuthClient, ZendeskClient};

/// The declared OAuth client among the fetched lists. `Err(None)`: the list failed.
pub fn fetched_client<'a>(
    fetched: &'a Fetched,
    zendesk: &str,
    identifier: &str,
) -> Result<&'a OAuthClient, Option<String>> {
    let Some(Ok(Listing::OauthClients(list))) = fetched.get(&ListKey::ZendeskOauthClients {
        zendesk: zendesk.to_string(),
    }) else {
        return Err(None);
    };
    list.iter()
        .find(|c| c.identifier == identifier)
        .ok_or_else(|| {
            Some(format!(
                "Zendesk {zendesk} has no OAuth client with identifier `{identifier}`; create the \
                 confidential client in Admin Center (Apps and integrations > APIs > OAuth \
                 clients) or fix `client` in the manifest"
            ))
        })
}

/// The declared OAuth client, read live.
pub async fn live_client(zd: &ZendeskClient, identifier: &str) -> Result<OAuthClient, String> {
    let clients = zd.list_oauth_clients().await.map_err(|e| e.to_string())?;
    clients
        .into_iter()
        .find(|c| c.identifier == identifier)
        .ok_or_else(|| {
            format!(
                "Zendesk {}: no OAuth client with identifier `{identifier}`; create the \
                 confidential client in Admin Center or fix `client` in the manifest",
                zd.instance()
            )
        })
}

/// The key of a client secret in the run's client secrets.
pub fn secret_key(zendesk: &str, client: &str) -> String {
    format!("{zendesk}/{client}")
}

/// The environment variable the CLI reads a client's secret from for the
/// client-credentials grant: `TOKENOPS_ZENDESK_CLIENT_SECRET_<INSTANCE>_<CLIENT>`, upper case,
/// every other character an underscore.
pub fn secret_env(zendesk: &str, client: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "TOKENOPS_ZENDESK_CLIENT_SECRET_{}_{}",
        clean(zendesk),
        clean(client)
    )
}

/// A found Zendesk record's identity for `check` (the key of the instance and `parts`) and
/// its owner in words (`Zendesk global`).
pub fn found_identity(
    found: &crate::inventory::DiscoveredToken,
    parts: &[&str],
) -> (String, String) {
    let p = found.platform.as_str();
    let mut all = vec![p];
    all.extend_from_slice(parts);
    (super::entry::key(&all), format!("Zendesk {p}"))
}
