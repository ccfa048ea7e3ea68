//! Zendesk client.
