//! `plan`, `check` (without `--report-issue`) and `import` only read: every request they
//! send, as the sandbox's request log records it, is a GET or HEAD, on the shipped example
//! and on an estate with undeclared tokens to discover.

use crate::scenario::{Exit, Scenario};

/// Requests other than GET and HEAD that a reading command may send: none. (Neither
/// platform needs a POST to read anything tokenops reads.)
const READ_ONLY_POSTS: [&str; 0] = [];

/// Runs every reading command in `sc` (each however it exits: the request log is the test)
/// and fails naming each request that is not a read.
fn assert_only_reads(sc: &Scenario, legacy_id: &str) {
    // (arguments, whether the command reads live state at all)
    let runs: [(&[&str], bool); 7] = [
        (&["plan"], true),
        (&["plan", "--format", "json", "--out", "plan.json"], true),
        (&["plan", "--format", "markdown"], true),
        (&["check"], true),
        (&["check", "--format", "json"], true),
        (
            &["import", "--discover", "--out", "manifests/imported"],
            true,
        ),
        // Writes the replacement entry from the manifests alone.
        (&["import", "--migrate-zendesk", legacy_id], false),
    ];
    let mut writes = Vec::new();
    for (args, reads_live) in runs {
        sc.sandbox.clear_requests();
        sc.cmd(args).expect(Exit::Any);
        let log = sc.requests();
        assert_eq!(
            log.total > 0,
            reads_live,
            "tokenops {}: {} requests",
            args.join(" "),
            log.total
        );
        for entry in log.entries {
            let read = matches!(entry.method.as_str(), "GET" | "HEAD")
                || READ_ONLY_POSTS.contains(&entry.route.as_str());
            if !read {
                writes.push(format!("tokenops {}: {}", args.join(" "), entry.route));
            }
        }
    }
    assert!(
        writes.is_empty(),
        "requests that are not reads:\n{}",
        writes.join("\n")
    );
}

#[test]
fn plan_check_and_import_send_only_read_requests_on_the_example() {
    let sc = Scenario::example().start();
    crate::apply::zendesk::make_zendesk_due(&sc);
    crate::apply::make_trigger_consumer_stale(&sc);
    assert_only_reads(&sc, "zd-global-legacy-reporting");
}

#[test]
fn plan_check_and_import_send_only_read_requests_while_discovering() {
    let sc = crate::check_sandbox::scenario();
    assert_only_reads(&sc, "legacy");
}
