//! The pure plan function: desired state + inventory + ledger + now → [`Plan`].
//!
//! Nothing here performs I/O or reads the clock. The rules, in order of precedence for a
//! token: an unfinished rotation is resumed first; a token discovery could not read is left
//! alone; legacy Zendesk API tokens are never rotated; missing, revoked and expired tokens
//! are created again; live scopes that differ from the declared ones stop everything until a
//! person decides; a token within `rotate_before` of its expiry, or with a consumer that needs
//! a fresh value, is replaced.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use super::consumers::consumer_plan;
use super::desired::{DesiredToken, Mode, NewExpiry, Strategy, TokenClass};
use super::select::{self, Selection, SelectionError};
use super::{
    Action, ConsumerPlan, ConsumerStatus, PLAN_FORMAT, Plan, Summary, TokenPlan, TokenStatus,
    Undeclared,
};
use crate::inventory::{Inventory, LiveRecord, LiveToken};
use crate::kinds::tokens::zendesk_api_token::{Deactivation, deactivation};
use crate::ledger::{Ledger, LedgerToken};
use crate::time::{days_between, days_left, days_words, expires_phrase, midnight, utc_date};

/// The day every remaining Zendesk API token stops working.
pub const ZENDESK_API_TOKEN_END: Date = jiff::civil::date(2027, 4, 30);
/// Zendesk deactivates an API token that nobody used for this many days.
pub const ZENDESK_API_TOKEN_IDLE_DAYS: i64 = crate::kinds::tokens::zendesk_api_token::IDLE_DAYS;
/// GitLab's maximum token lifetime.
pub const GITLAB_MAX_LIFETIME_DAYS: i64 = 365;

/// Computes the whole plan.
pub fn compute(
    desired: &[DesiredToken],
    inventory: &Inventory,
    ledger: &Ledger,
    now: Timestamp,
) -> Plan {
    let tokens: Vec<TokenPlan> = desired
        .iter()
        .map(|token| plan_token(token, inventory, ledger, now, false))
        .collect();
    assemble(
        desired,
        tokens,
        inventory,
        ledger,
        now,
        Selection::default(),
    )
}

/// Computes the plan for a selection: only the `--target` tokens (all when none), with the
/// `--replace` tokens replaced now, due or not. Refused when an id is not declared, or names
/// a token with scope drift or a legacy Zendesk API token.
pub fn compute_selected(
    desired: &[DesiredToken],
    inventory: &Inventory,
    ledger: &Ledger,
    now: Timestamp,
    selection: &Selection,
) -> Result<Plan, SelectionError> {
    let declared: Vec<&str> = desired.iter().map(|t| t.id.as_str()).collect();
    select::check_known(selection, &declared)?;
    let tokens: Vec<TokenPlan> = desired
        .iter()
        .filter(|token| selection.covers(&token.id))
        .map(|token| plan_token(token, inventory, ledger, now, selection.replaces(&token.id)))
        .collect();
    select::check_refusals(selection, &tokens)?;
    Ok(assemble(
        desired,
        tokens,
        inventory,
        ledger,
        now,
        selection.clone(),
    ))
}

fn assemble(
    desired: &[DesiredToken],
    tokens: Vec<TokenPlan>,
    inventory: &Inventory,
    ledger: &Ledger,
    now: Timestamp,
    selection: Selection,
) -> Plan {
    let undeclared: Vec<Undeclared> = inventory
        .discovered
        .iter()
        .filter(|found| found.declared_by.is_none())
        .map(|found| Undeclared {
            platform: found.platform.clone(),
            kind: found.kind.clone(),
            owner: found.owner.clone(),
            name: found.record.name.clone(),
            platform_id: found.record.platform_id.clone(),
            expires_at: found.record.expires_at,
            last_used_at: found.record.last_used_at,
        })
        .collect();
    let summary = summarize(&tokens, undeclared.len());
    Plan {
        format: PLAN_FORMAT,
        generated_at: now,
        live_fingerprint: live_fingerprint(desired, inventory, ledger),
        selection,
        summary,
        tokens,
        undeclared,
        credentials: Vec::new(),
    }
}

/// A stable digest of the desired state (every declared token, its policy and its consumers'
/// settings), the live state and the ledger a plan was computed from, so that a saved plan is
/// refused when any of them changed. Last-use times are left out: discovery's own probes move
/// them, and a use is not a change a plan depends on.
pub fn live_fingerprint(
    desired: &[DesiredToken],
    inventory: &Inventory,
    ledger: &Ledger,
) -> String {
    let mut stable = inventory.clone();
    for live in stable.tokens.values_mut() {
        if let LiveToken::Found(record) = live {
            record.last_used_at = None;
        }
    }
    for found in &mut stable.discovered {
        found.record.last_used_at = None;
    }
    let mut hasher = Sha256::new();
    // Serializing plain data into a hasher cannot fail; an error would only drop bytes.
    let _ = serde_json::to_writer(HashWriter(&mut hasher), desired);
    let _ = serde_json::to_writer(HashWriter(&mut hasher), &stable);
    let _ = serde_json::to_writer(HashWriter(&mut hasher), ledger);
    let digest = hasher.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn summarize(tokens: &[TokenPlan], undeclared: usize) -> Summary {
    let mut summary = Summary {
        undeclared,
        ..Summary::default()
    };
    for token in tokens {
        if token.needs_human {
            summary.needs_human += 1;
        }
        if token.status == TokenStatus::Legacy {
            summary.legacy += 1;
        }
        if token.actions.is_empty() && !token.needs_human && token.status != TokenStatus::Legacy {
            summary.in_sync += 1;
        }
        summary.unverifiable += token
            .consumers
            .iter()
            .filter(|c| c.status == ConsumerStatus::Unverifiable && !c.write)
            .count();
        for action in &token.actions {
            match action {
                Action::Rotate { .. } | Action::Create { .. } => summary.rotations += 1,
                Action::Recreate { .. } => summary.recreations += 1,
                Action::Write { .. } => summary.writes += 1,
                Action::Revoke { .. } => summary.revocations += 1,
                Action::Manual { .. } => summary.manual += 1,
                Action::Resume { .. } => summary.rotations += 1,
            }
        }
    }
    summary
}

fn plan_token(
    token: &DesiredToken,
    inventory: &Inventory,
    ledger: &Ledger,
    now: Timestamp,
    replace: bool,
) -> TokenPlan {
    let live = inventory.tokens.get(&token.id);
    let record = match live {
        Some(LiveToken::Found(record)) => Some(record),
        _ => None,
    };
    let remembered = ledger.token(&token.id);
    let mut plan = TokenPlan {
        id: token.id.clone(),
        kind: token.kind.clone(),
        platform: token.platform.clone(),
        object: token.object.clone(),
        platform_id: record.map(|r| r.platform_id.clone()),
        status: TokenStatus::Ok,
        reason: String::new(),
        expires_at: None,
        days_left: None,
        needs_human: false,
        manual_mode: token.policy.mode == Mode::Manual,
        actions: Vec::new(),
        consumers: token
            .consumers
            .iter()
            .map(|c| consumer_plan(c, record, remembered, inventory))
            .collect(),
        notes: Vec::new(),
    };

    let expiry = expiry_of(token, record, remembered);
    if let Some(at) = expiry {
        plan.expires_at = Some(utc_date(at));
        plan.days_left = Some(days_left(now, at));
    }

    if let Some(pending) = remembered.and_then(|r| r.pending.as_ref()) {
        plan.status = TokenStatus::Pending;
        plan.reason = format!(
            "a rotation started {} stopped after \"{}\"; apply finishes it before anything else",
            pending.started_at,
            pending.step.label()
        );
        plan.actions.push(Action::Resume {
            after: pending.step.label().to_string(),
        });
        if replace {
            plan.notes.push(
                "replace requested: apply finishes the unfinished rotation first, which \
                 replaces the value; plan again afterwards to confirm the old value is gone"
                    .to_string(),
            );
        }
        return plan;
    }

    match live {
        Some(LiveToken::Unreadable { reason }) => {
            plan.status = TokenStatus::Unknown;
            plan.reason = format!("discovery could not read it: {reason}");
            plan.needs_human = true;
            return plan;
        }
        None => {
            plan.status = TokenStatus::Unknown;
            plan.reason = "discovery did not report it".to_string();
            plan.needs_human = true;
            return plan;
        }
        _ => {}
    }

    if token.class == TokenClass::Legacy {
        plan_legacy(&mut plan, record, now);
        return plan;
    }

    let replacement = if token.class == TokenClass::Generated
        && remembered.is_none_or(|r| r.fingerprint.is_none())
    {
        plan.status = TokenStatus::Missing;
        plan.reason = "tokenops has not generated this secret yet".to_string();
        Some(Replacement::First)
    } else {
        match (live, record) {
            (Some(LiveToken::Missing), _) => {
                plan.status = TokenStatus::Missing;
                plan.reason = format!("no live token matches {}", token.object);
                Some(Replacement::Recreate)
            }
            (_, Some(record)) if record.revoked => {
                plan.status = TokenStatus::Revoked;
                plan.reason = format!(
                    "token {} was revoked outside tokenops; a revoked token cannot be rotated",
                    record.platform_id
                );
                Some(Replacement::Recreate)
            }
            _ if expiry.is_some_and(|at| at <= now) || record.is_some_and(|r| !r.active) => {
                plan.status = TokenStatus::Expired;
                plan.reason = match plan.expires_at {
                    Some(date) => format!(
                        "expired on {date}; an expired token cannot be rotated, only created again"
                    ),
                    None => "inactive; it can only be created again".to_string(),
                };
                Some(Replacement::Recreate)
            }
            (_, Some(record)) if scopes_differ(token, record) => {
                plan.status = TokenStatus::ScopeDrift;
                plan.needs_human = true;
                plan.reason = format!(
                    "live scopes [{}] differ from the approved [{}]; a person must confirm the \
                     scopes before tokenops touches this token",
                    record.scopes.join(", "),
                    token.scopes.join(", ")
                );
                None
            }
            _ => due_or_ok(
                token,
                &mut plan,
                expiry,
                record.is_some_and(|r| r.age_unknown),
                now,
            ),
        }
    };

    let replacement = match replacement {
        _ if !replace || plan.status == TokenStatus::ScopeDrift => replacement,
        Some(replacement) => {
            plan.reason = format!("replace requested; {}", plan.reason);
            Some(replacement)
        }
        None => {
            plan.status = TokenStatus::Replace;
            plan.reason = format!(
                "replace requested (not due: {}); the old value is dead when apply ends",
                plan.reason
            );
            plan.notes.clear();
            Some(Replacement::Renew)
        }
    };
    let Some(replacement) = replacement else {
        return plan;
    };
    add_replacement_actions(token, &mut plan, record, replacement, now);
    plan
}

/// Why and how a token's value is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replacement {
    /// Due: rotate (or overlap, or create-then-revoke for replaceable kinds).
    Renew,
    /// Missing, revoked or expired: create again.
    Recreate,
    /// A generated secret that was never generated.
    First,
}

fn due_or_ok(
    token: &DesiredToken,
    plan: &mut TokenPlan,
    expiry: Option<Timestamp>,
    age_unknown: bool,
    now: Timestamp,
) -> Option<Replacement> {
    let rotate_before = SignedDuration::from_secs(token.policy.rotate_before_secs);
    if let Some(at) = expiry {
        let left = at.duration_since(now);
        if left <= rotate_before {
            plan.status = TokenStatus::Due;
            plan.reason = format!(
                "expires {} ({}); rotate_before is {}",
                expires_phrase(now, at),
                plan.expires_at.map(|d| d.to_string()).unwrap_or_default(),
                human_duration(rotate_before)
            );
            return Some(Replacement::Renew);
        }
    }
    let needing: Vec<&ConsumerPlan> = plan
        .consumers
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                ConsumerStatus::Stale | ConsumerStatus::Missing | ConsumerStatus::Drifted
            )
        })
        .collect();
    if !needing.is_empty() {
        plan.status = TokenStatus::Due;
        let names: Vec<String> = needing
            .iter()
            .map(|c| format!("{} is {}", c.label, c.status.label()))
            .collect();
        plan.reason = format!(
            "{}; the current value cannot be read back, so every consumer gets a new one",
            names.join("; ")
        );
        return Some(Replacement::Renew);
    }
    let own = || {
        token
            .consumers
            .iter()
            .any(|c| c.kind == crate::kinds::ConsumerKindId::TokenopsCredential.key())
    };
    plan.reason = match expiry {
        Some(at) => format!("expires {}", expires_phrase(now, at)),
        // A credential tokenops signs in with, made by a person at the bootstrap.
        None if age_unknown && own() => format!(
            "age unknown: the platform keeps no date for this value, which a person made; \
             `tokenops apply --replace {id}` (in a pipeline, the replace job with \
             TOKENOPS_REPLACE={id}) makes the first value tokenops keeps, aged from then on",
            id = token.id
        ),
        None if age_unknown => "age unknown: the platform keeps no date for \
             this value and tokenops has not replaced it yet; it is replaced when a consumer \
             needs it, and aged from then on"
            .to_string(),
        None => "no expiry".to_string(),
    };
    if let Some(note) = crate::plan::renewal::next_renewal_note(token, expiry) {
        plan.notes.push(note);
    }
    None
}

fn add_replacement_actions(
    token: &DesiredToken,
    plan: &mut TokenPlan,
    record: Option<&LiveRecord>,
    replacement: Replacement,
    now: Timestamp,
) {
    let new_expires_at = new_expiry(token, now);
    match &token.new_expiry {
        NewExpiry::Platform(words) => plan.notes.push(words.clone()),
        NewExpiry::Never if token.class != TokenClass::Legacy => plan
            .notes
            .push("the new record does not expire".to_string()),
        _ => {}
    }
    let old_id = record.filter(|r| r.active).map(|r| r.platform_id.clone());
    let first = match (replacement, token.class) {
        (Replacement::Recreate, _) => Action::Recreate { new_expires_at },
        (Replacement::First, _) => Action::Create { new_expires_at },
        (Replacement::Renew, TokenClass::Rotatable)
            if token.policy.strategy == Strategy::Rotate =>
        {
            Action::Rotate { new_expires_at }
        }
        (Replacement::Renew, TokenClass::SecretReset) => Action::Rotate { new_expires_at },
        (Replacement::Renew, TokenClass::Generated) => Action::Create { new_expires_at },
        (Replacement::Renew, _) => Action::Create { new_expires_at },
    };
    let creates_record = matches!(first, Action::Create { .. } | Action::Recreate { .. });
    if creates_record && token.bot_owned && token.class == TokenClass::Rotatable {
        plan.notes.push(
            "creating a project or group token makes a new bot user: memberships, \
             approvals and audit entries attached to the old bot do not carry over"
                .to_string(),
        );
    }
    if first == (Action::Rotate { new_expires_at }) && token.class == TokenClass::Rotatable {
        plan.notes.push(
            "GitLab revokes the old value the moment the rotate call returns; consumers are \
             written right after"
                .to_string(),
        );
    }
    plan.actions.push(first);
    for consumer in &mut plan.consumers {
        consumer.write = consumer.status != ConsumerStatus::Manual;
        if consumer.write {
            plan.actions.push(Action::Write {
                consumer: consumer.key.clone(),
            });
        }
    }
    for consumer in &token.consumers {
        if let Some(instructions) = &consumer.instructions {
            plan.actions.push(Action::Manual {
                instructions: instructions.clone(),
            });
        }
    }
    // The one decision about the old record: apply retires exactly what this says. A
    // replaceable kind's old record is retired even when expired (an expired trigger still
    // exists); an access token is retired only after an overlap, as a rotate kills it.
    let retire = match token.class {
        TokenClass::Replaceable => record.filter(|r| !r.revoked).map(|r| r.platform_id.clone()),
        TokenClass::Rotatable if creates_record && replacement == Replacement::Renew => old_id,
        TokenClass::Rotatable
        | TokenClass::SecretReset
        | TokenClass::Generated
        | TokenClass::Legacy => None,
    };
    if let Some(old) = retire {
        plan.actions.push(Action::Revoke {
            old_platform_id: old,
        });
    }
}

fn plan_legacy(plan: &mut TokenPlan, record: Option<&LiveRecord>, now: Timestamp) {
    plan.status = TokenStatus::Legacy;
    let days_to_end = midnight(ZENDESK_API_TOKEN_END).map_or(0, |end| days_left(now, end));
    plan.expires_at = Some(ZENDESK_API_TOKEN_END);
    plan.days_left = Some(days_to_end);
    let mut reason = format!(
        "legacy Zendesk API token: every API token stops working on {ZENDESK_API_TOKEN_END} \
         ({} left)",
        days_words(days_to_end)
    );
    match record.map(|r| deactivation(r.active, r.last_used_at, now)) {
        Some(Deactivation::Done) => reason.push_str("; it is already deactivated"),
        Some(Deactivation::On(off)) => {
            let idle = record
                .and_then(|r| r.last_used_at)
                .map_or(0, |used| days_between(used, now));
            reason.push_str(&format!(
                "; unused for {}: will be deactivated on {off} if still unused",
                days_words(idle)
            ));
        }
        Some(Deactivation::AnyDay { idle_days }) => reason.push_str(&format!(
            "; unused for {} and still active: Zendesk may deactivate it any day",
            days_words(idle_days)
        )),
        Some(Deactivation::NeverUsed) => {
            reason.push_str("; never used: Zendesk deactivates tokens unused for 30 days")
        }
        None => reason.push_str("; Zendesk no longer lists it"),
    }
    plan.reason = reason;
    plan.notes.push(format!(
        "replace it with a zendesk_oauth_token entry on {} (a confidential OAuth client and \
         its scopes to fill in) that has the same consumers; `tokenops import \
         --migrate-zendesk {}` writes that entry",
        plan.platform, plan.id
    ));
    plan.notes.push(format!(
        "{} consumer(s) at risk until then",
        plan.consumers.len()
    ));
}

fn expiry_of(
    token: &DesiredToken,
    record: Option<&LiveRecord>,
    remembered: Option<&LedgerToken>,
) -> Option<Timestamp> {
    if token.class == TokenClass::Generated {
        return remembered.and_then(|r| r.expires_at).and_then(midnight);
    }
    record?.expiry()
}

/// The expiry a new value gets: `now + lifetime`, as a date (GitLab expires at 00:00 UTC on
/// the date, so the date is rounded down to stay within the platform maximum).
fn new_expiry(token: &DesiredToken, now: Timestamp) -> Option<Date> {
    if token.class == TokenClass::Legacy || token.new_expiry != NewExpiry::Lifetime {
        return None;
    }
    let at = now
        .checked_add(SignedDuration::from_secs(token.policy.lifetime_secs))
        .ok()?;
    Some(utc_date(at))
}

fn scopes_differ(token: &DesiredToken, record: &LiveRecord) -> bool {
    if token.scopes.is_empty() {
        return false;
    }
    let mut live = record.scopes.clone();
    live.sort();
    let mut declared = token.scopes.clone();
    declared.sort();
    live != declared
}

pub use crate::time::human_duration;
