//! Zendesk as it really answers: OAuth tokens of several users on one client, the
//! whole-second `created_at`, expiries the platform decides, ages from fields that carry them.

mod ages;
mod expiry;
mod oauth_users;
mod pagination;
mod renewal;
mod same_second;
