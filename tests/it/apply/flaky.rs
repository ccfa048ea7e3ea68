//! Flaky platforms: with 10% of requests failing (5xx, 429, dropped connections) apply
//! converges to the same end state as a clean run, with no rotate repeated.

use tokenops::sandbox::FaultSpec;

use super::{
    assert_converged, assert_no_repeated_rotate, assert_plan_empty, make_trigger_consumer_stale,
};
use crate::scenario::Scenario;

fn live_names(sc: &Scenario) -> Vec<(String, bool)> {
    let now = sc.now();
    sc.with_gitlab(|gl| {
        let mut names: Vec<(String, bool)> = gl
            .tokens
            .values()
            .filter(|t| t.active(now))
            .map(|t| (t.name.clone(), t.expires_at.is_some()))
            .collect();
        names.sort();
        names
    })
}

#[test]
fn ten_percent_failures_converge_like_a_clean_run() {
    let clean = Scenario::gitlab_example().start();
    make_trigger_consumer_stale(&clean);
    assert!(clean.apply(&[]).success());
    assert_converged(&clean);

    let flaky = Scenario::gitlab_example().start();
    make_trigger_consumer_stale(&flaky);
    flaky.faults().set(
        "*",
        FaultSpec {
            error_rate: 0.08,
            statuses: vec![500, 502, 503, 429],
            drop_after_apply: 0.02,
            ..FaultSpec::default()
        },
    );
    let mut runs = 0;
    let mut converged = false;
    while runs < 10 && !converged {
        runs += 1;
        converged = flaky.apply(&[]).success();
    }
    flaky.faults().clear();
    assert!(converged, "apply did not converge in {runs} runs");
    assert_converged(&flaky);
    assert_no_repeated_rotate(&flaky);
    assert_plan_empty(&flaky);
    assert_eq!(live_names(&clean), live_names(&flaky));
    println!("flaky platform: converged after {runs} apply run(s)");
}
