//! Cursor pagination keeps the query: a filtered list over 100 items gives the same filter
//! on every later page (`links.next` used to carry only the page size and cursor).

use std::sync::Arc;

use secrecy::ExposeSecret;
use tokenops::http::{ClientSettings, InstanceAccess, ManualClock};
use tokenops::zendesk::ZendeskClient;

use crate::scenario::Scenario;

const SEED: &str = r#"
gitlab:
  - name: gitlab.com
    admin: tokenops-admin
    users:
      - { username: tokenops-admin, name: tokenops, admin: true }
zendesk:
  - name: global
    admin: admin@example.com
    users:
      - { name: Admin, email: admin@example.com, role: admin }
      - { name: Agent, email: agent@example.com, role: admin }
    oauth_clients:
      - { identifier: wanted, name: Wanted }
      - { identifier: other, name: Other }
"#;

#[test]
fn a_filtered_list_of_250_tokens_keeps_its_filter_on_every_page() {
    let sc = Scenario::seeded(SEED).start();
    let now = sc.now();
    let (wanted, other) = sc.sandbox.with_state(|w| {
        let zd = w.zendesk.get_mut("global").unwrap();
        let id = |name: &str| {
            zd.clients
                .values()
                .find(|c| c.identifier == name)
                .unwrap()
                .id
        };
        let (wanted, other) = (id("wanted"), id("other"));
        let agent = zd.user_by_email("agent@example.com").unwrap().id;
        let admin = zd.user_by_email("admin@example.com").unwrap().id;
        // Interleaved, so that a page without the filter shows the other client's tokens.
        for n in 0..250 {
            let user = if n % 2 == 0 { agent } else { admin };
            zd.mint_oauth_token(
                &mut w.issuer,
                wanted,
                user,
                vec!["read".into()],
                None,
                None,
                now,
            );
            zd.mint_oauth_token(
                &mut w.issuer,
                other,
                admin,
                vec!["read".into()],
                None,
                None,
                now,
            );
        }
        (wanted, other)
    });
    let access = InstanceAccess {
        name: "global".into(),
        url: sc.sandbox.zendesk_url("global"),
        credential: sc
            .sandbox
            .zendesk_admin_token("global")
            .expose_secret()
            .into(),
        email: None,
    };
    let zd = ZendeskClient::with_clock(
        &access,
        ClientSettings::zendesk(),
        Arc::new(ManualClock::new(0)),
    )
    .unwrap();
    let tokens = sc
        .block_on(zd.list_oauth_tokens(true, Some(wanted)))
        .unwrap();
    assert_eq!(tokens.len(), 250, "every token of the client, every user's");
    assert!(tokens.iter().all(|t| t.client_id == Some(wanted)));
    let mut ids: Vec<u64> = tokens.iter().map(|t| t.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 250, "no page repeated");
    let others = sc
        .block_on(zd.list_oauth_tokens(true, Some(other)))
        .unwrap();
    assert_eq!(others.len(), 250);
    // Pages were really cursor pages that carried the filter.
    let pages: Vec<String> = sc
        .requests()
        .entries
        .iter()
        .filter(|e| e.path.contains("/oauth/tokens"))
        .map(|e| e.path.clone())
        .collect();
    assert!(pages.len() >= 6, "{pages:?}");
}
