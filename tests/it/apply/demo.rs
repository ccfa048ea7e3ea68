//! `tokenops demo` converges the whole default scenario, Zendesk included: apply skips
//! nothing (Zendesk webhooks and app settings are written, the due Zendesk OAuth token is
//! minted and its old one revoked, tokenops's own GitLab credential is rotated last), and the
//! second plan has nothing left but the legacy
//! Zendesk API tokens, which need a person.

#[test]
fn the_demo_converges_with_zendesk() {
    let (_, stdout) = crate::demo::demo(crate::scenario::NOW);
    let apply = stdout
        .split("==> 2/6")
        .nth(1)
        .and_then(|s| s.split("==> 3/6").next())
        .expect("apply section");
    let summary = apply
        .lines()
        .find(|l| l.starts_with("Summary: "))
        .unwrap_or_default();
    assert!(
        summary.starts_with("Summary: 8 done;"),
        "nothing skipped, manual or blocked:\n{apply}"
    );
    for id in [
        "gl-ops-bot-automation",
        "ops-group-triage",
        "support-digest-bot",
        "zd-global-gitlab-sync",
        "zd-global-oauth-escalations",
        "tokenops-rotate-token",
    ] {
        assert!(
            apply
                .lines()
                .any(|l| l.starts_with("done") && l.contains(id)),
            "{id} is done:\n{apply}"
        );
    }
    let second = stdout
        .split("==> 3/6")
        .nth(1)
        .and_then(|s| s.split("==> 4/6").next())
        .expect("second plan");
    assert!(second.contains("No changes"), "{second}");
    let open: Vec<&str> = second
        .lines()
        .filter(|l| l.starts_with('~') || l.starts_with('!') || l.starts_with('+'))
        .collect();
    assert!(
        open.iter()
            .all(|l| l.contains("(zendesk_api_token) legacy")),
        "only legacy tokens are left: {open:?}"
    );
    assert_eq!(open.len(), 2, "{second}");
}
