//! GitLab client.
