//! The adversarial corpus in one run: hostile servers (`plan` and `check` against them), odd
//! manifests and configurations (`validate`, `plan`), damaged, unwritable and undecryptable
//! ledgers (`plan`, `apply`). Every case must end as expected (most with a clear error and
//! exit 1), none may panic, no output may hold a credential. The run prints its figures: how
//! many inputs, how many refused with exit 1, the slowest case, the peak memory of the
//! largest refused input.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::json;

use super::bounds::numbers_manifest;
use super::ledger::DAMAGED;
use super::write_failure::{apply_with_file_limit, own_escrow};
use super::{
    AGE_IDENTITY, CREDENTIAL, Hostile, ONE_TOKEN, Outcome, config, project, run, sent_credential,
    timed,
};
use crate::http::server::{Reply, Seen};
use crate::scenario::{Exit, Scenario};

/// How a case must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A clear error and exit 1.
    Refused,
    /// Exit 0 (or 2: changes pending) with clean output.
    Survives,
}

struct Case {
    name: String,
    expect: Expect,
    outcome: Outcome,
    secrets: Vec<String>,
}

/// Words the output of the case named `name` must hold, where a case has a message to check.
fn must_say(name: &str) -> &'static [&'static str] {
    match name {
        n if n.contains("escrow sealed to another key") => &[
            "No matching keys found",
            "TOKENOPS_ESCROW_IDENTITY",
            "escrow.recipient",
        ],
        n if n.contains("escrow cut short") => &["damaged or cut short", "escrow.recipient"],
        n if n.contains("write fails mid-run") => &["cannot write the ledger", "run apply again"],
        n if n.starts_with("ledger: ") => &["state.json"],
        n if n.contains("echo") => &["[REDACTED]"],
        // (`check` first looks the user up, and an empty list of users ends it sooner.)
        n if (n.contains("x-next-page") || n.contains("Link next to itself"))
            && n.ends_with("(plan)") =>
        {
            &["does not end"]
        }
        _ => &[],
    }
}

type Script = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

/// Points `gitlab.com` at a closed loopback port: a case that got past validation by mistake
/// must not reach the real gitlab.com.
const NOWHERE: (&str, &str) = ("TOKENOPS_GITLAB_GITLAB_COM_URL", "http://127.0.0.1:9");

fn text(status: u16, body: String) -> Reply {
    Reply::text(status, &body)
}

/// Hostile servers: each answers every request this way.
fn servers() -> Vec<(&'static str, Script)> {
    let echo_json = |status: u16| -> Script {
        Arc::new(move |s: &Seen, _| {
            Reply::json(
                status,
                json!({"message": format!("the token {} is not valid", sent_credential(s))}),
            )
        })
    };
    vec![
        ("401 JSON echo", echo_json(401)),
        (
            "422 JSON field echo",
            Arc::new(|s: &Seen, _| {
                Reply::json(
                    422,
                    json!({"message": {"token": [format!("{} is invalid", sent_credential(s))]}}),
                )
            }),
        ),
        (
            "401 unicode-escaped echo",
            Arc::new(|s: &Seen, _| {
                let esc: String = sent_credential(s)
                    .chars()
                    .map(|c| format!("\\u{:04x}", c as u32))
                    .collect();
                Reply {
                    status: 401,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: format!(r#"{{"error":"invalid_token","error_description":"{esc}"}}"#),
                    delay: None,
                }
            }),
        ),
        (
            "403 scope echo",
            Arc::new(|s: &Seen, _| {
                Reply::json(
                    403,
                    json!({"error": "insufficient_scope", "scope": sent_credential(s)}),
                )
            }),
        ),
        (
            "404 cut echo",
            Arc::new(|s: &Seen, _| {
                let c = sent_credential(s);
                text(404, format!("no {}…", &c[..c.len().saturating_sub(4)]))
            }),
        ),
        (
            "400 percent-encoded echo",
            Arc::new(|s: &Seen, _| {
                let p: String =
                    url::form_urlencoded::byte_serialize(sent_credential(s).as_bytes()).collect();
                text(400, format!("bad request ?private_token={p}"))
            }),
        ),
        (
            "401 base64 Basic echo",
            Arc::new(|s: &Seen, _| {
                let b = super::secrets::base64_of(&format!("x/token:{}", sent_credential(s)));
                text(401, format!("Authorization: Basic {b} refused"))
            }),
        ),
        (
            "401 hex echo",
            Arc::new(|s: &Seen, _| {
                let h: String = sent_credential(s)
                    .bytes()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                text(401, format!("key {h}"))
            }),
        ),
        (
            "500 text echo (retried)",
            Arc::new(|s: &Seen, _| text(500, format!("crash near {}", sent_credential(s)))),
        ),
        (
            "502 HTML page",
            Arc::new(|_: &Seen, _| text(502, "<html><body>bad gateway</body></html>".into())),
        ),
        (
            "200 not JSON",
            Arc::new(|s: &Seen, _| text(200, format!("hello {}", sent_credential(s)))),
        ),
        (
            "200 wrong types quoting the credential",
            Arc::new(|s: &Seen, _| {
                Reply::json(200, json!([{"id": sent_credential(s), "name": 5}]))
            }),
        ),
        (
            "200 body over 64 MiB",
            Arc::new(|_: &Seen, _| text(200, "[".to_string() + &"0,".repeat(34 << 20) + "0]")),
        ),
        (
            "302 to another host",
            Arc::new(|_: &Seen, _| {
                Reply::empty(302).header("location", "https://evil.example/steal")
            }),
        ),
        (
            "429 wait of a day",
            Arc::new(|_: &Seen, _| text(429, "Retry later".into()).header("retry-after", 86_400)),
        ),
        (
            "x-next-page stuck on 2",
            Arc::new(|_: &Seen, _| Reply::json(200, json!([])).header("x-next-page", "2")),
        ),
        (
            "Link next to itself",
            Arc::new(|s: &Seen, _| {
                let host = s.header("host").unwrap_or_default();
                Reply::json(200, json!([])).header(
                    "link",
                    format!("<http://{host}/api/v4/x?cursor=1>; rel=\"next\""),
                )
            }),
        ),
        (
            "Link next to another origin",
            Arc::new(|_: &Seen, _| {
                Reply::json(200, json!([])).header(
                    "link",
                    "<https://evil.example/api/v4/users?page=2>; rel=\"next\"",
                )
            }),
        ),
        (
            "error forging lines and terminal codes",
            Arc::new(|s: &Seen, _| {
                text(
                    401,
                    format!(
                        "bad\nerror: none\n\u{1b}[2J\u{1b}]0;owned\u{7}{}",
                        sent_credential(s)
                    ),
                )
            }),
        ),
        (
            "1 MB error message",
            Arc::new(|s: &Seen, _| {
                text(
                    400,
                    format!("{}{}", "x".repeat(1 << 20), sent_credential(s)),
                )
            }),
        ),
    ]
}

fn server_cases(out: &mut Vec<Case>) {
    for (name, script) in servers() {
        let hostile = Hostile::serve(move |s, i| script(s, i));
        let dir = hostile.project("check:\n  discover: { gitlab_users: [support-ops-bot] }\n");
        for command in ["plan", "check"] {
            // The slow retried one once is enough.
            if command == "check" && name.contains("retried") {
                continue;
            }
            out.push(Case {
                name: format!("server: {name} ({command})"),
                expect: Expect::Refused,
                outcome: run(dir.path(), &[command], &[]),
                secrets: vec![CREDENTIAL.into()],
            });
        }
    }
    // A server that drops every connection.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (origin, _) = rt.block_on(crate::http::server::raw_dropping(|_| true));
    let dir = project(&config(&origin, ""), ONE_TOKEN);
    out.push(Case {
        name: "server: drops every connection (plan)".into(),
        expect: Expect::Refused,
        outcome: run(dir.path(), &["plan"], &[]),
        secrets: vec![CREDENTIAL.into()],
    });
}

/// Manifests and configurations for `validate` (and `plan` for the configuration ones).
fn manifest_cases(out: &mut Vec<Case>) {
    let ok = config("https://gitlab.com", "");
    let with_var = |v: &str| ok.replace("token_env: GITLAB_TOKEN", &format!("token_env: \"{v}\""));
    let recipient = tokenops::ops::apply::escrow::generate_identity().1;
    let mut inputs: Vec<(String, String, String)> = vec![
        ("numbers list 9.9 MiB".into(), ok.clone(), numbers_manifest()),
        ("200,000 bad tokens".into(), ok.clone(), format!("tokens: [{}]\n", vec!["1"; 200_000].join(","))),
        ("1 MB variable key".into(), ok.clone(), ONE_TOKEN.replace("BOT_TOKEN", &"K".repeat(1 << 20))),
        ("id with newline and ESC".into(), ok.clone(), ONE_TOKEN.replace("id: bot", "id: \"a\\n= ok\\e[32m\"")),
        ("id of 100,000 characters".into(), ok.clone(), ONE_TOKEN.replace("id: bot", &format!("id: {}", "a".repeat(100_000)))),
        ("id with a bidi override".into(), ok.clone(), ONE_TOKEN.replace("id: bot", "id: \"bot\u{202e}kcatta\"")),
        ("field name with ESC".into(), ok.clone(), format!("{ONE_TOKEN}    \"x\\e[2J\": 1\n")),
        ("alias bomb".into(), ok.clone(), "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ntokens: *h\n".into()),
        ("nesting 100,000 deep".into(), ok.clone(), format!("tokens: {}{}\n", "[".repeat(100_000), "]".repeat(100_000))),
        ("token_env empty".into(), with_var(""), ONE_TOKEN.into()),
        ("token_env A=B".into(), with_var("A=B"), ONE_TOKEN.into()),
        ("token_env with a space".into(), with_var("GITLAB TOKEN"), ONE_TOKEN.into()),
        ("token_env is the escrow identity".into(), format!("{}escrow: {{ recipient: {recipient} }}\n", with_var("TOKENOPS_ESCROW_IDENTITY")), ONE_TOKEN.into()),
        ("two instances, one variable".into(), ok.replace("state:", "  - { name: b, url: \"https://b.example\", token_env: GITLAB_TOKEN }\nstate:"), ONE_TOKEN.into()),
        ("URL with user information".into(), config("ftp://user:s3cretPW99@host", ""), ONE_TOKEN.into()),
        ("URL with private_token".into(), config(&format!("https://gitlab.com/?private_token={CREDENTIAL}"), ""), ONE_TOKEN.into()),
        ("http to a public host".into(), config("http://gitlab.com", ""), ONE_TOKEN.into()),
        ("http to 127.0.0.1.evil.com".into(), config("http://127.0.0.1.evil.com", ""), ONE_TOKEN.into()),
        ("http to ::ffff:10.0.0.1".into(), config("http://[::ffff:10.0.0.1]", ""), ONE_TOKEN.into()),
        ("http to 0.0.0.0".into(), config("http://0.0.0.0", ""), ONE_TOKEN.into()),
        ("empty ledger path".into(), ok.replace("path: .tokenops/state.json", "path: \"\""), ONE_TOKEN.into()),
        ("ledger path is a directory".into(), ok.replace("path: .tokenops/state.json", "path: manifests"), ONE_TOKEN.into()),
        ("escrow recipient not age".into(), format!("{ok}escrow: {{ recipient: \"age1{CREDENTIAL}\" }}\n"), ONE_TOKEN.into()),
    ];
    inputs.push(("not UTF-8".into(), ok.clone(), String::new()));
    for (name, cfg, manifest) in inputs {
        let dir = project(&cfg, &manifest);
        if name == "not UTF-8" {
            std::fs::write(
                dir.path().join("manifests/tokens.yaml"),
                b"tokens:\n  - id: \xff\xfe\n",
            )
            .unwrap();
        }
        for command in ["validate", "plan"] {
            out.push(Case {
                name: format!("manifest: {name} ({command})"),
                expect: Expect::Refused,
                outcome: run(
                    dir.path(),
                    &[command],
                    &[("TOKENOPS_ESCROW_IDENTITY", AGE_IDENTITY), NOWHERE],
                ),
                secrets: vec![CREDENTIAL.into(), AGE_IDENTITY.into(), "s3cretPW99".into()],
            });
        }
    }
    let big = project(&ok, ONE_TOKEN);
    std::fs::write(big.path().join("manifests/big.yaml"), vec![b'#'; 11 << 20]).unwrap();
    std::os::unix::fs::symlink("/", big.path().join("manifests/root")).unwrap();
    std::fs::write(
        big.path().join("manifests/x\u{1b}[2J\n.yaml"),
        "tokens: 3\n",
    )
    .unwrap();
    out.push(Case {
        name: "manifest: 11 MiB file, link to /, file name with ESC (validate)".into(),
        expect: Expect::Refused,
        outcome: run(big.path(), &["validate"], &[]),
        secrets: vec![],
    });
    let env_cases: [(&str, &str, &str); 4] = [
        (
            "override URL with a credential",
            "TOKENOPS_GITLAB_GITLAB_COM_URL",
            "https://g.example/?private_token=glpat-OverrideSecret0123456789",
        ),
        (
            "override URL in clear to 10.0.0.1",
            "TOKENOPS_GITLAB_GITLAB_COM_URL",
            "http://10.0.0.1",
        ),
        (
            "credential variable holds the age identity",
            "GITLAB_TOKEN",
            AGE_IDENTITY,
        ),
        (
            "TOKENOPS_NOW is not a time",
            "TOKENOPS_NOW",
            "\u{1b}[2Jyesterday",
        ),
    ];
    let dir = project(&ok, ONE_TOKEN);
    for (name, var, value) in env_cases {
        let env = if var == NOWHERE.0 {
            vec![(var, value)]
        } else {
            vec![NOWHERE, (var, value)]
        };
        out.push(Case {
            name: format!("environment: {name} (plan)"),
            expect: Expect::Refused,
            outcome: run(dir.path(), &["plan"], &env),
            secrets: vec![
                CREDENTIAL.into(),
                AGE_IDENTITY.into(),
                "OverrideSecret0123456789".into(),
            ],
        });
    }
}

/// Runs `args` in the scenario's project (with another escrow identity when given).
fn sandbox_outcome(sc: &Scenario, args: &[&str], identity: Option<&str>) -> Outcome {
    timed(|| {
        let mut run = sc.cmd(args);
        if let Some(identity) = identity {
            run = run.env("TOKENOPS_ESCROW_IDENTITY", identity);
        }
        run.expect(Exit::Any)
    })
}

/// Damaged, unwritable and undecryptable ledgers.
fn ledger_cases(out: &mut Vec<Case>) {
    let sc = Scenario::gitlab_example().start();
    let path = sc.path().join(".tokenops/state.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    for (what, doc) in DAMAGED {
        std::fs::write(&path, doc).unwrap();
        for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
            let outcome = sandbox_outcome(&sc, args, None);
            let unchanged = std::fs::read_to_string(&path).unwrap() == doc;
            out.push(Case {
                name: format!("ledger: {what} ({})", args[0]),
                expect: if unchanged {
                    Expect::Refused
                } else {
                    Expect::Survives
                },
                outcome,
                secrets: sc.secrets(),
            });
        }
    }
    // A write that fails after tokens were rotated.
    let (failing, identity) = own_escrow();
    let started = Instant::now();
    let o = apply_with_file_limit(&failing, &identity, 550);
    let mut secrets = failing.secrets();
    secrets.push(identity.expose_secret().to_string());
    out.push(Case {
        name: "ledger: write fails mid-run (apply)".into(),
        expect: Expect::Refused,
        outcome: Outcome {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            elapsed: started.elapsed(),
        },
        secrets,
    });
    // A run killed right after a rotation was escrowed; the next apply with a wrong
    // identity, then with the escrow cut short.
    let crashed = Scenario::gitlab_example().start();
    crashed
        .cmd(&["apply", "--auto-approve"])
        .env("TOKENOPS_TEST_CRASH_AT", "gl-ops-bot-automation:staged")
        .expect(Exit::Killed);
    let good = crashed.ledger();
    assert!(good.contains("BEGIN AGE ENCRYPTED FILE"));
    let (other, _) = tokenops::ops::apply::escrow::generate_identity();
    out.push(Case {
        name: "ledger: escrow sealed to another key (apply)".into(),
        expect: Expect::Refused,
        outcome: sandbox_outcome(
            &crashed,
            &["apply", "--auto-approve"],
            Some(other.expose_secret()),
        ),
        secrets: crashed.secrets(),
    });
    let cut = good.replace("-----END AGE ENCRYPTED FILE-----", "");
    crashed.write(".tokenops/state.json", &cut);
    out.push(Case {
        name: "ledger: escrow cut short (apply)".into(),
        expect: Expect::Refused,
        outcome: sandbox_outcome(&crashed, &["apply", "--auto-approve"], None),
        secrets: crashed.secrets(),
    });
}

/// Runs `tokenops validate` in `dir` and returns its peak resident memory in KiB, read from
/// the child's own `VmHWM` while it runs (the accounting of `wait4` would include the pages of
/// this test process the child was forked from).
fn peak_memory_of_validate(dir: &std::path::Path) -> u64 {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("tokenops"))
        .current_dir(dir)
        .arg("validate")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    peak
}

#[test]
fn the_adversarial_corpus_ends_in_clear_errors_without_panics_or_leaks() {
    let started = Instant::now();
    let mut cases = Vec::new();
    std::thread::scope(|s| {
        let a = s.spawn(|| {
            let mut v = Vec::new();
            server_cases(&mut v);
            v
        });
        let b = s.spawn(|| {
            let mut v = Vec::new();
            manifest_cases(&mut v);
            ledger_cases(&mut v);
            v
        });
        cases.extend(a.join().unwrap());
        cases.extend(b.join().unwrap());
    });

    let big = project(&config("https://gitlab.com", ""), &numbers_manifest());
    let peak_kib = peak_memory_of_validate(big.path());

    let mut failures = Vec::new();
    for case in &cases {
        let secrets: Vec<&str> = case.secrets.iter().map(String::as_str).collect();
        let ok = match case.expect {
            Expect::Refused => case.outcome.clear_refusal(),
            Expect::Survives => matches!(case.outcome.code, Some(0 | 2)),
        } && must_say(&case.name)
            .iter()
            .all(|w| case.outcome.all().contains(w));
        if !ok || case.outcome.panicked() || case.outcome.leaked(&secrets).is_some() {
            failures.push(format!(
                "{} (exit {:?}, leaked {:?}):\n{}",
                case.name,
                case.outcome.code,
                case.outcome.leaked(&secrets).map(|s| &s[..8.min(s.len())]),
                &case.outcome.all()[..case.outcome.all().len().min(1500)]
            ));
        }
    }
    let refused = cases.iter().filter(|c| c.outcome.clear_refusal()).count();
    let panics = cases.iter().filter(|c| c.outcome.panicked()).count();
    let leaks = cases
        .iter()
        .filter(|c| {
            let secrets: Vec<&str> = c.secrets.iter().map(String::as_str).collect();
            c.outcome.leaked(&secrets).is_some()
        })
        .count();
    let slowest = cases.iter().max_by_key(|c| c.outcome.elapsed).unwrap();
    eprintln!(
        "hostile corpus: {} inputs, {} refused with a clear error and exit 1, {} panics, {} \
         with a credential in an output; slowest: {} in {:.2?}; peak memory of the largest \
         refused input (9.9 MiB manifest): {} MiB; whole corpus {:.1?}",
        cases.len(),
        refused,
        panics,
        leaks,
        slowest.name,
        slowest.outcome.elapsed,
        peak_kib / 1024,
        started.elapsed()
    );
    for c in &cases {
        eprintln!(
            "  {:>8.2?}  exit {:?}  {}",
            c.outcome.elapsed, c.outcome.code, c.name
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(slowest.outcome.elapsed < Duration::from_secs(60));
    assert!(peak_kib < 512 * 1024, "{peak_kib} KiB");
}
