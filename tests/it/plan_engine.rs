//! The pure plan engine on hand-built inventories: one scenario per status, each asserting
//! the status, the actions and the words a reviewer reads.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::date;
use tokenops::inventory::{DiscoveredToken, Holds, Inventory, LiveConsumer, LiveRecord, LiveToken};
use tokenops::ledger::{Ledger, LedgerToken, PendingRotation, Step};
use tokenops::plan::render::{self, Format};
use tokenops::plan::{
    Action, ConsumerStatus, DesiredConsumer, DesiredToken, Mode, NewExpiry, Policy, Strategy,
    TokenClass, TokenStatus, compute,
};

const DAY: i64 = 86_400;

fn now() -> Timestamp {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

fn variable(key: &str) -> DesiredConsumer {
    DesiredConsumer {
        key: format!("gitlab:gitlab.com/project/support/ops/sync/variable/{key}@*"),
        kind: "gitlab_ci_variable".into(),
        label: format!("project support/ops/sync variable {key}"),
        settings: BTreeMap::from([
            ("masked".to_string(), "true".to_string()),
            ("protected".to_string(), "false".to_string()),
        ]),
        instructions: None,
    }
}

fn hook() -> DesiredConsumer {
    DesiredConsumer {
        key: "gitlab:gitlab.com/project/support/ops/sync/hook/https://bridge.example.com/h".into(),
        kind: "gitlab_webhook".into(),
        label: "project support/ops/sync hook https://bridge.example.com/h".into(),
        settings: BTreeMap::from([(
            "url".to_string(),
            "https://bridge.example.com/h".to_string(),
        )]),
        instructions: None,
    }
}

fn project_token(consumers: Vec<DesiredConsumer>) -> DesiredToken {
    DesiredToken {
        id: "sync".into(),
        kind: "gitlab_project_access_token".into(),
        platform: "gitlab.com".into(),
        object: "project support/ops/sync, token \"sync-bot\"".into(),
        scopes: vec!["api".into()],
        policy: Policy {
            rotate_before_secs: 21 * DAY,
            lifetime_secs: 365 * DAY,
            strategy: Strategy::Rotate,
            mode: Mode::Auto,
        },
        class: TokenClass::Rotatable,
        bot_owned: true,
        new_expiry: NewExpiry::Lifetime,
        consumers,
    }
}

fn record(id: &str, expires: jiff::civil::Date) -> LiveRecord {
    LiveRecord {
        platform_id: id.into(),
        name: "sync-bot".into(),
        scopes: vec!["api".into()],
        expires_at: Some(expires),
        active: true,
        ..LiveRecord::default()
    }
}

fn present(holds: Holds, masked: &str) -> LiveConsumer {
    LiveConsumer::Present {
        settings: BTreeMap::from([
            ("masked".to_string(), masked.to_string()),
            ("protected".to_string(), "false".to_string()),
        ]),
        holds,
    }
}

fn inventory(token: LiveToken, consumer: LiveConsumer) -> Inventory {
    let mut inv = Inventory::default();
    inv.tokens.insert("sync".into(), token);
    inv.consumers.insert(variable("SYNC").key, consumer);
    inv
}

#[test]
fn in_sync_token_has_no_actions_and_empty_summary() {
    let desired = [project_token(vec![variable("SYNC")])];
    let inv = inventory(
        LiveToken::Found(record("41", date(2027, 6, 1))),
        present(Holds::AuthenticatesAs("41".into()), "true"),
    );
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    assert_eq!(plan.tokens[0].status, TokenStatus::Ok);
    assert!(plan.tokens[0].actions.is_empty());
    assert!(plan.summary.is_empty());
    assert_eq!(plan.summary.in_sync, 1);
    assert_eq!(plan.tokens[0].consumers[0].status, ConsumerStatus::InSync);
    assert_eq!(
        render::summary_line(&plan.summary),
        "No changes: 1 token in sync."
    );
}

#[test]
fn due_token_rotates_with_explicit_expiry_and_writes_every_consumer() {
    let desired = [project_token(vec![variable("SYNC")])];
    let inv = inventory(
        LiveToken::Found(record("41", date(2026, 12, 7))),
        present(Holds::AuthenticatesAs("41".into()), "true"),
    );
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    let token = &plan.tokens[0];
    assert_eq!(token.status, TokenStatus::Due);
    // Whole days from 2026-11-28T09:00Z to 00:00 UTC on 2026-12-07, as `check` counts them.
    assert_eq!(token.days_left, Some(8));
    assert_eq!(
        token.actions,
        vec![
            Action::Rotate {
                new_expires_at: Some(date(2027, 11, 28))
            },
            Action::Write {
                consumer: variable("SYNC").key
            },
        ]
    );
    assert!(
        token.reason.starts_with("expires in 8 days (2026-12-07)"),
        "{}",
        token.reason
    );
    insta::assert_snapshot!("plan_engine_due_text", render::text(&plan, false));
}

#[test]
fn expired_token_is_recreated_and_says_a_new_bot_user_follows() {
    let desired = [project_token(vec![variable("SYNC")])];
    let mut rec = record("41", date(2026, 11, 20));
    rec.active = false;
    let inv = inventory(
        LiveToken::Found(rec),
        present(Holds::Rejected("Token is expired".into()), "true"),
    );
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    let token = &plan.tokens[0];
    assert_eq!(token.status, TokenStatus::Expired);
    assert!(matches!(token.actions[0], Action::Recreate { .. }));
    assert!(token.notes.iter().any(|n| n.contains("new bot user")));
    assert!(
        !token
            .actions
            .iter()
            .any(|a| matches!(a, Action::Revoke { .. }))
    );
}

#[test]
fn revoked_token_is_recreated() {
    let desired = [project_token(vec![variable("SYNC")])];
    let mut rec = record("41", date(2027, 6, 1));
    rec.revoked = true;
    rec.active = false;
    let inv = inventory(
        LiveToken::Found(rec),
        present(Holds::Rejected("Token was revoked".into()), "true"),
    );
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    assert_eq!(plan.tokens[0].status, TokenStatus::Revoked);
    assert!(matches!(plan.tokens[0].actions[0], Action::Recreate { .. }));
    assert_eq!(plan.summary.recreations, 1);
}

#[test]
fn missing_token_is_created() {
    let desired = [project_token(vec![variable("SYNC")])];
    let inv = inventory(LiveToken::Missing, LiveConsumer::Missing);
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    assert_eq!(plan.tokens[0].status, TokenStatus::Missing);
    assert_eq!(plan.tokens[0].consumers[0].status, ConsumerStatus::Missing);
    assert!(matches!(plan.tokens[0].actions[0], Action::Recreate { .. }));
}

#[test]
fn scope_drift_needs_a_person_and_blocks_every_action() {
    let desired = [project_token(vec![variable("SYNC")])];
    let mut rec = record("41", date(2026, 12, 1));
    rec.scopes = vec!["api".into(), "write_repository".into()];
    let inv = inventory(
        LiveToken::Found(rec),
        present(Holds::AuthenticatesAs("41".into()), "true"),
    );
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    let token = &plan.tokens[0];
    assert_eq!(token.status, TokenStatus::ScopeDrift);
    assert!(token.needs_human);
    assert!(token.actions.is_empty());
    assert!(
        token.reason.contains("[api, write_repository]"),
        "{}",
        token.reason
    );
    assert_eq!(plan.summary.needs_human, 1);
}

#[test]
fn stale_consumer_forces_a_rotation_of_a_healthy_token() {
    let desired = [project_token(vec![variable("SYNC")])];
    let inv = inventory(
        LiveToken::Found(record("41", date(2027, 6, 1))),
        present(Holds::Rejected("Token was revoked".into()), "true"),
    );
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    let token = &plan.tokens[0];
    assert_eq!(token.status, TokenStatus::Due);
    assert_eq!(token.consumers[0].status, ConsumerStatus::Stale);
    assert!(matches!(token.actions[0], Action::Rotate { .. }));
    assert!(token.reason.contains("is stale"), "{}", token.reason);
}

#[test]
fn changed_settings_show_a_unified_diff() {
    let desired = [project_token(vec![variable("SYNC")])];
    let inv = inventory(
        LiveToken::Found(record("41", date(2027, 6, 1))),
        present(Holds::AuthenticatesAs("41".into()), "false"),
    );
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    let consumer = &plan.tokens[0].consumers[0];
    assert_eq!(consumer.status, ConsumerStatus::Drifted);
    let diff = consumer.diff.as_deref().unwrap();
    assert!(diff.contains("-masked: false"), "{diff}");
    assert!(diff.contains("+masked: true"), "{diff}");
}

#[test]
fn write_only_consumer_without_fingerprint_is_unverifiable_and_left_alone() {
    let desired = [project_token(vec![hook()])];
    let mut inv = Inventory::default();
    inv.tokens.insert(
        "sync".into(),
        LiveToken::Found(record("41", date(2027, 6, 1))),
    );
    inv.consumers.insert(
        hook().key,
        LiveConsumer::Present {
            settings: BTreeMap::from([(
                "url".to_string(),
                "https://bridge.example.com/h".to_string(),
            )]),
            holds: Holds::WriteOnly,
        },
    );
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    assert_eq!(
        plan.tokens[0].consumers[0].status,
        ConsumerStatus::Unverifiable
    );
    assert!(plan.tokens[0].actions.is_empty());

    let mut ledger = Ledger::default();
    ledger.tokens.insert(
        "sync".into(),
        LedgerToken {
            fingerprint: Some("fp-new".into()),
            consumers: BTreeMap::from([(hook().key, "fp-new".to_string())]),
            ..LedgerToken::default()
        },
    );
    let plan = compute(&desired, &inv, &ledger, now());
    assert_eq!(plan.tokens[0].consumers[0].status, ConsumerStatus::InSync);
}

#[test]
fn changed_hook_url_is_drift() {
    let desired = [project_token(vec![hook()])];
    let mut inv = Inventory::default();
    inv.tokens.insert(
        "sync".into(),
        LiveToken::Found(record("41", date(2027, 6, 1))),
    );
    inv.consumers.insert(
        hook().key,
        LiveConsumer::Present {
            settings: BTreeMap::from([(
                "url".to_string(),
                "https://old.example.com/h".to_string(),
            )]),
            holds: Holds::WriteOnly,
        },
    );
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    assert_eq!(plan.tokens[0].consumers[0].status, ConsumerStatus::Drifted);
    assert!(matches!(plan.tokens[0].actions[0], Action::Rotate { .. }));
}

#[test]
fn overlap_on_project_token_creates_then_revokes_and_warns_about_bot_user() {
    let mut token = project_token(vec![variable("SYNC")]);
    token.policy.strategy = Strategy::Overlap;
    let inv = inventory(
        LiveToken::Found(record("41", date(2026, 12, 7))),
        present(Holds::AuthenticatesAs("41".into()), "true"),
    );
    let plan = compute(&[token], &inv, &Ledger::default(), now());
    let actions = &plan.tokens[0].actions;
    assert!(matches!(actions[0], Action::Create { .. }));
    assert_eq!(
        actions.last(),
        Some(&Action::Revoke {
            old_platform_id: "41".into()
        })
    );
    assert!(
        plan.tokens[0]
            .notes
            .iter()
            .any(|n| n.contains("new bot user"))
    );
}

#[test]
fn pending_rotation_is_resumed_before_anything_else() {
    let desired = [project_token(vec![variable("SYNC")])];
    let inv = inventory(
        LiveToken::Found(record("41", date(2026, 12, 1))),
        present(Holds::AuthenticatesAs("40".into()), "true"),
    );
    let mut ledger = Ledger::default();
    ledger.tokens.insert(
        "sync".into(),
        LedgerToken {
            pending: Some(PendingRotation {
                step: Step::Staged,
                ..PendingRotation::intent(now(), tokenops::ledger::Obtain::Rotate)
            }),
            ..LedgerToken::default()
        },
    );
    let plan = compute(&desired, &inv, &ledger, now());
    assert_eq!(plan.tokens[0].status, TokenStatus::Pending);
    assert_eq!(plan.tokens[0].actions.len(), 1);
    assert!(matches!(plan.tokens[0].actions[0], Action::Resume { .. }));
}

#[test]
fn legacy_zendesk_token_shows_both_deadlines_and_idle_days() {
    let desired = [DesiredToken {
        id: "legacy".into(),
        kind: "zendesk_api_token".into(),
        platform: "global".into(),
        object: "API token 9001".into(),
        scopes: vec![],
        policy: Policy {
            rotate_before_secs: 21 * DAY,
            lifetime_secs: 365 * DAY,
            strategy: Strategy::Rotate,
            mode: Mode::Auto,
        },
        class: TokenClass::Legacy,
        bot_owned: false,
        new_expiry: NewExpiry::Never,
        consumers: vec![],
    }];
    let mut inv = Inventory::default();
    inv.tokens.insert(
        "legacy".into(),
        LiveToken::Found(LiveRecord {
            platform_id: "9001".into(),
            active: true,
            last_used_at: Some("2026-11-10T08:00:00Z".parse().unwrap()),
            ..LiveRecord::default()
        }),
    );
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    let token = &plan.tokens[0];
    assert_eq!(token.status, TokenStatus::Legacy);
    assert!(token.actions.is_empty());
    assert_eq!(token.days_left, Some(152));
    assert!(
        token.reason.contains("2027-04-30 (152 days left)"),
        "{}",
        token.reason
    );
    assert!(
        token
            .reason
            .contains("unused for 18 days: will be deactivated on 2026-12-10"),
        "{}",
        token.reason
    );
    assert!(token.notes[0].contains("zendesk_oauth_token"));
}

#[test]
fn undeclared_tokens_are_listed() {
    let mut inv = Inventory::default();
    inv.discovered.push(DiscoveredToken {
        platform: "gitlab.com".into(),
        kind: "gitlab_project_access_token".into(),
        owner: "support/ops/old-tool".into(),
        record: record("77", date(2026, 12, 24)),
        declared_by: None,
    });
    let plan = compute(&[], &inv, &Ledger::default(), now());
    assert_eq!(plan.undeclared.len(), 1);
    assert_eq!(plan.summary.undeclared, 1);
    assert!(render::text(&plan, false).contains("support/ops/old-tool \"sync-bot\" #77"));
}

#[test]
fn markdown_stays_under_the_note_limit_for_a_huge_estate() {
    let desired: Vec<DesiredToken> = (0..20_000)
        .map(|i| {
            let mut t = project_token(vec![variable(&format!("K{i}"))]);
            t.id = format!("token-{i:05}-with-a-long-identifier-for-width");
            t
        })
        .collect();
    let plan = compute(&desired, &Inventory::default(), &Ledger::default(), now());
    let md = render::markdown(&plan, render::NOTE_LIMIT);
    assert!(md.len() <= render::NOTE_LIMIT, "{}", md.len());
    assert!(md.contains("**Truncated**"));
    assert!(md.starts_with(render::PLAN_MARKER));
    let small = render::markdown(
        &compute(
            &desired[..3],
            &Inventory::default(),
            &Ledger::default(),
            now(),
        ),
        render::NOTE_LIMIT,
    );
    assert!(!small.contains("Truncated"));
}

#[test]
fn json_round_trips() {
    let desired = [project_token(vec![variable("SYNC")])];
    let inv = inventory(
        LiveToken::Found(record("41", date(2026, 12, 7))),
        present(Holds::AuthenticatesAs("41".into()), "true"),
    );
    let plan = compute(&desired, &inv, &Ledger::default(), now());
    let text = render::render(&plan, Format::Json, false);
    let back: tokenops::plan::Plan = serde_json::from_str(&text).unwrap();
    assert_eq!(back, plan);
}

#[test]
fn live_fingerprint_changes_with_live_state() {
    let desired = [project_token(vec![variable("SYNC")])];
    let a = inventory(
        LiveToken::Found(record("41", date(2026, 12, 7))),
        present(Holds::AuthenticatesAs("41".into()), "true"),
    );
    let b = inventory(
        LiveToken::Found(record("42", date(2026, 12, 7))),
        present(Holds::AuthenticatesAs("41".into()), "true"),
    );
    let pa = compute(&desired, &a, &Ledger::default(), now());
    let pa2 = compute(&desired, &a, &Ledger::default(), now());
    let pb = compute(&desired, &b, &Ledger::default(), now());
    assert_eq!(pa.live_fingerprint, pa2.live_fingerprint);
    assert_ne!(pa.live_fingerprint, pb.live_fingerprint);
}
