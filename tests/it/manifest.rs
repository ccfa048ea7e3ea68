//! The manifest API others build on: effective rotation policies, consumer keys and origins
//! of the shipped examples.

use tokenops::manifest::{
    self, ConsumerSpec, Duration, LoadOptions, Mode, RotationOverride, Strategy,
};

use crate::scenario::repo_root;

fn shipped() -> manifest::Desired {
    manifest::load(&LoadOptions {
        config: repo_root().join("tokenops.yaml"),
        manifests: repo_root().join("manifests"),
    })
    .expect("shipped manifests load")
}

#[test]
fn rotation_layers_token_over_defaults_over_built_in() {
    let desired = shipped();
    let bridge = &desired.token("bridge-deploy").expect("bridge-deploy").spec;
    let policy = desired.rotation(bridge);
    assert_eq!(policy.lifetime, Duration::from_days(90));
    assert_eq!(policy.rotate_before, Duration::from_days(14));
    assert_eq!(policy.strategy, Strategy::Overlap);
    assert_eq!(policy.mode, Mode::Auto);

    let plain = &desired.token("trigger-reports-from-triage").unwrap().spec;
    let policy = desired.rotation(plain);
    assert_eq!(policy.lifetime, Duration::from_days(365));
    assert_eq!(policy.rotate_before, Duration::from_days(21));

    // Without any defaults the built-in values apply.
    let built_in = plain.rotation_policy(&RotationOverride::default());
    assert_eq!(built_in, manifest::RotationPolicy::BUILT_IN);
}

#[test]
fn explicit_lifetime_is_kept_and_inherited_one_is_capped() {
    let desired = shipped();
    let mut token = desired
        .token("zd-usgov-oauth-escalations")
        .unwrap()
        .spec
        .clone();
    let defaults = RotationOverride {
        lifetime: Some(Duration::from_days(365)),
        ..RotationOverride::default()
    };
    token.rotation.lifetime = None;
    assert_eq!(
        token.rotation_policy(&defaults).lifetime,
        Duration::from_hours(47)
    );
    token.rotation.lifetime = Some(Duration::from_hours(72));
    assert_eq!(
        token.rotation_policy(&defaults).lifetime,
        Duration::from_hours(72)
    );
}

#[test]
fn consumer_keys_identify_each_place() {
    let desired = shipped();
    let keys: Vec<String> = desired
        .tokens
        .iter()
        .flat_map(|t| t.spec.consumers.iter())
        .filter_map(ConsumerSpec::key)
        .map(|k| k.to_string())
        .collect();
    for expected in [
        "gitlab:gitlab.com/project/support/ops/zendesk-sync/variable/SYNC_TOKEN@production",
        "gitlab:gitlab.com/group/support/ops/variable/OPS_BOT_TOKEN@*",
        "gitlab:gitlab.com/project/support/ops/bridge/hook/https://bridge.example.com/hooks/gitlab/token",
        "gitlab:gitlab.com/project/support/ops/escalations/hook/https://example.zendesk.com/api/v2/any_channel/gitlab/header/authorization",
        "zendesk:global/webhook/GitLab sync",
        "zendesk:us-government/app/Ticket Export/setting/trigger_token",
    ] {
        assert!(
            keys.iter().any(|k| k == expected),
            "missing {expected} in {keys:#?}"
        );
    }
    let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "consumer keys repeat");
}

#[test]
fn origins_point_at_the_declarations() {
    let desired = shipped();
    let token = desired.token("gl-ops-bot-readonly").unwrap();
    assert!(
        token
            .origin
            .file
            .ends_with("manifests/gitlab/personal.yaml")
    );
    assert_eq!((token.origin.line, token.origin.column), (34, 5));
    assert_eq!(token.consumer_origins.len(), token.spec.consumers.len());
    let first = &token.consumer_origins[0];
    assert_eq!((first.line, first.column), (43, 9));
}
