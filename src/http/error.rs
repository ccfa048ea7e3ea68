//! `ApiError`: every way a platform call can fail, phrased so that a person can act on it.
//! Each message names the platform object the call was about (`Target`) and the fix.

use std::fmt;
use std::time::Duration;

use super::Platform;

/// The platform object a call was about, e.g. "GitLab gitlab.com: POST personal access token
/// 4211 rotate". Carried by every error so that messages say where things went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Which platform.
    pub platform: Platform,
    /// The instance name from `tokenops.yaml`.
    pub instance: String,
    /// HTTP method.
    pub method: String,
    /// A human description of the object and operation ("project access token 58 rotate").
    pub object: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} {}",
            self.platform, self.instance, self.method, self.object
        )
    }
}

/// A failed platform call, or a client that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: the credential is wrong, expired or revoked, or the object is one this credential
    /// cannot see (GitLab answers 401, not 404, for token ids a non-admin cannot see).
    #[error(
        "{target}: 401 Unauthorized ({detail}). The credential is wrong, expired or revoked, or it \
         cannot see this object; check that the instance's token is valid and belongs to a user \
         who can see the object"
    )]
    Unauthorized {
        /// What the call was about.
        target: Box<Target>,
        /// The platform's own words.
        detail: String,
    },
    /// 403: the credential is valid but lacks a scope or role.
    #[error(
        "{target}: 403 Forbidden ({detail}). The credential is valid but not allowed to do this; {}",
        match scope { Some(s) => format!("give it the `{s}` scope"), None => "give it the needed scope or role".to_string() }
    )]
    Forbidden {
        /// What the call was about.
        target: Box<Target>,
        /// The scope the platform says is missing, when it says.
        scope: Option<String>,
        /// The platform's own words.
        detail: String,
    },
    /// 404: the object does not exist (or the platform hides it).
    #[error("{target}: 404 Not Found ({detail}). Check the id or path in the manifest")]
    NotFound {
        /// What the call was about.
        target: Box<Target>,
        /// The platform's own words.
        detail: String,
    },
    /// 409: the object is in a state that conflicts with the call.
    #[error("{target}: 409 Conflict ({detail})")]
    Conflict {
        /// What the call was about.
        target: Box<Target>,
        /// The platform's own words.
        detail: String,
    },
    /// 409 on a GitLab Terraform state lock: someone else holds it.
    #[error(
        "{target}: the state is locked by {who} (lock id {lock_id}, {since}). \
         Wait for that run to finish; if it crashed, release the lock with \
         `DELETE {unlock_path}` (lock id {lock_id})"
    )]
    LockHeld {
        /// What the call was about.
        target: Box<Target>,
        /// The holder's lock id.
        lock_id: String,
        /// The holder's user name.
        who: String,
        /// When the lock was taken and for what.
        since: String,
        /// The API path that releases the lock.
        unlock_path: String,
    },
    /// 400 or 422: the platform rejected the request's content.
    #[error("{target}: {status} rejected: {detail}")]
    Invalid {
        /// What the call was about.
        target: Box<Target>,
        /// 400 or 422.
        status: u16,
        /// The platform's decoded message.
        detail: String,
    },
    /// Still 429 after waiting as told several times.
    #[error(
        "{target}: still rate limited (429) after {waits} waits{}. Lower `requests_per_minute` \
         or run again later",
        match retry_after { Some(d) => format!("; the platform asks to wait {}s", d.as_secs()), None => String::new() }
    )]
    RateLimited {
        /// What the call was about.
        target: Box<Target>,
        /// How many times the client waited.
        waits: usize,
        /// The last wait the platform asked for, when it was too long to honour.
        retry_after: Option<Duration>,
    },
    /// Waiting once more for the platform would take the run's total waiting past its limit
    /// (`max_wait`), so the request is given up instead.
    #[error(
        "{target}: gave up after {cause}: this run has already waited {}s on the platform, and \
         the next wait ({}s) would pass its limit of {}s. The request was not sent again; run \
         again later, or allow more waiting with --max-wait",
        waited.as_secs(), asked.as_secs().max(1), limit.as_secs()
    )]
    WaitLimit {
        /// What the call was about.
        target: Box<Target>,
        /// What made the run wait this time ("429 Too Many Requests", "server error 503", ...).
        cause: String,
        /// Time already spent waiting on the platform.
        waited: Duration,
        /// The limit.
        limit: Duration,
        /// The wait that was refused.
        asked: Duration,
    },
    /// 5xx after the retries allowed for this kind of call.
    #[error(
        "{target}: server error {status} after {attempts} attempts ({detail}). The platform is failing; try again later"
    )]
    Server {
        /// What the call was about.
        target: Box<Target>,
        /// The status.
        status: u16,
        /// How many attempts were made.
        attempts: usize,
        /// The platform's decoded message.
        detail: String,
    },
    /// Any other unexpected status.
    #[error("{target}: unexpected status {status} ({detail})")]
    Unexpected {
        /// What the call was about.
        target: Box<Target>,
        /// The status.
        status: u16,
        /// The platform's decoded message.
        detail: String,
    },
    /// No answer within the timeout, after the retries allowed.
    #[error(
        "{target}: no answer within {timeout:?} after {attempts} attempts. Check the network, or raise the timeout"
    )]
    Timeout {
        /// What the call was about.
        target: Box<Target>,
        /// The per-request timeout.
        timeout: Duration,
        /// How many attempts were made.
        attempts: usize,
    },
    /// The connection failed (DNS, TLS, refused, reset), after the retries allowed.
    #[error(
        "{target}: connection failed after {attempts} attempts: {detail}. Check the instance URL and the network"
    )]
    Transport {
        /// What the call was about.
        target: Box<Target>,
        /// How many attempts were made.
        attempts: usize,
        /// What failed.
        detail: String,
    },
    /// A call that must not be repeated (rotate, create, mint) may have reached the platform,
    /// but its answer was lost. The caller re-reads live state instead of retrying.
    #[error(
        "{target}: outcome unknown ({reason}). The request may have been carried out; it is NOT \
         retried (a repeated rotate can revoke the whole token family). Re-read the live state to \
         learn what happened"
    )]
    OutcomeUnknown {
        /// What the call was about.
        target: Box<Target>,
        /// Why the answer is missing.
        reason: String,
    },
    /// A paginated list that does not end: a page or cursor came back a second time, or the
    /// list ran past the page limit. The partial list is not used.
    #[error(
        "{target}: the list does not end ({detail}); nothing was decided from the partial \
         list. The platform, or a proxy in between, sends the same `next` again; run again \
         later, and tell the instance's administrators if it persists"
    )]
    Pagination {
        /// What the call was about (names the list).
        target: Box<Target>,
        /// What repeated.
        detail: String,
    },
    /// The response could not be read as the expected shape.
    #[error("{target}: the response could not be read: {detail}")]
    Decode {
        /// What the call was about.
        target: Box<Target>,
        /// What did not match.
        detail: String,
    },
    /// A URL that would send a credential in clear text or to an unexpected host.
    #[error("{url}: {reason}")]
    InsecureUrl {
        /// The URL (never contains a credential).
        url: String,
        /// Why it is refused and how to fix it.
        reason: String,
    },
    /// An instance's URL (from tokenops.yaml or an override variable) is refused.
    #[error(
        "{platform} instance `{instance}`: the URL from {source_name} ({url}) is refused: {reason}"
    )]
    InstanceUrl {
        /// Which platform.
        platform: Platform,
        /// The instance name.
        instance: String,
        /// Where the URL came from: `tokenops.yaml` or the override variable's name.
        source_name: String,
        /// The URL as it may be shown (no user information, no query values).
        url: String,
        /// Why it is refused and how to fix it.
        reason: String,
    },
    /// The environment variable that should hold an instance's credential holds something
    /// else (the escrow's age identity).
    #[error(
        "{platform} instance `{instance}`: {env_var} holds an age secret key (the escrow \
         identity), not the instance's credential; it is not sent. Put the \
         instance's access token in {env_var} and keep the escrow identity only in its own \
         variable"
    )]
    WrongCredential {
        /// Which platform.
        platform: Platform,
        /// The instance name.
        instance: String,
        /// The variable that held it.
        env_var: String,
    },
    /// The environment variable that should hold an instance's credential is unset or empty.
    #[error(
        "{platform} instance `{instance}`: environment variable {env_var} is not set (or empty). \
         Export it with the instance's credential{}",
        match override_var { Some(v) => format!(", or set {v}"), None => String::new() }
    )]
    MissingCredential {
        /// Which platform.
        platform: Platform,
        /// The instance name.
        instance: String,
        /// The variable `tokenops.yaml` names.
        env_var: String,
        /// The override variable that would also do.
        override_var: Option<String>,
    },
    /// The run could not sign in to the instance: the client-credentials grant was refused
    /// (or earlier failed), so no call of the run is sent with a credential.
    #[error("{platform} instance `{instance}`: tokenops could not sign in: {reason}")]
    SignIn {
        /// Which platform.
        platform: Platform,
        /// The instance name.
        instance: String,
        /// What happened and what to do.
        reason: String,
    },
}

impl ApiError {
    /// The object the failed call was about, when there was a call.
    pub fn target(&self) -> Option<&Target> {
        match self {
            ApiError::Unauthorized { target, .. }
            | ApiError::Forbidden { target, .. }
            | ApiError::NotFound { target, .. }
            | ApiError::Conflict { target, .. }
            | ApiError::LockHeld { target, .. }
            | ApiError::Invalid { target, .. }
            | ApiError::RateLimited { target, .. }
            | ApiError::WaitLimit { target, .. }
            | ApiError::Server { target, .. }
            | ApiError::Unexpected { target, .. }
            | ApiError::Timeout { target, .. }
            | ApiError::Transport { target, .. }
            | ApiError::OutcomeUnknown { target, .. }
            | ApiError::Pagination { target, .. }
            | ApiError::Decode { target, .. } => Some(&**target),
            ApiError::InsecureUrl { .. }
            | ApiError::InstanceUrl { .. }
            | ApiError::WrongCredential { .. }
            | ApiError::MissingCredential { .. }
            | ApiError::SignIn { .. } => None,
        }
    }

    /// The HTTP status the platform answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Unauthorized { .. } => Some(401),
            ApiError::Forbidden { .. } => Some(403),
            ApiError::NotFound { .. } => Some(404),
            ApiError::Conflict { .. } | ApiError::LockHeld { .. } => Some(409),
            ApiError::RateLimited { .. } => Some(429),
            ApiError::Invalid { status, .. }
            | ApiError::Server { status, .. }
            | ApiError::Unexpected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Builds the error for a non-success status, from the decoded body.
    pub(crate) fn from_status(
        target: Box<Target>,
        status: u16,
        decoded: super::decode::Decoded,
    ) -> Self {
        let detail = decoded.message;
        match status {
            401 => ApiError::Unauthorized { target, detail },
            403 => ApiError::Forbidden {
                target,
                scope: decoded.scope,
                detail,
            },
            404 => ApiError::NotFound { target, detail },
            409 => ApiError::Conflict { target, detail },
            400 | 422 => ApiError::Invalid {
                target,
                status,
                detail,
            },
            _ => ApiError::Unexpected {
                target,
                status,
                detail,
            },
        }
    }
}
