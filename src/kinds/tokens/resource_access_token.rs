//! What project and group access tokens share: everything but their owner. Both are owned
//! by a bot user of their project or group, rotated by id with an explicit expiry, or created
//! (a new bot user) with the overlap strategy or when they must be created again.
//! [`resource_access_token!`] writes the driver of each from the kind's struct, its owner
//! field and its scope list.

/// Implements the registry entry, [`crate::kinds::TokenDriver`] and
/// [`crate::kinds::gitlab::GitlabRecords`] for a project or group access token struct with
/// fields `gitlab`, `$field` (the owner's path), `name`, `scopes` and `access_level`.
macro_rules! resource_access_token {
    ($ty:ident, $field:ident, $variant:ident, $kind:literal, $scopes:ident) => {
        /// What the registry knows about the kind.
        pub static META: TokenMeta = TokenMeta {
            words: concat!($kind, " access token"),
            last_use: true,
            class: TokenClass::Rotatable,
            found_identity,
            import,
        };

        fn found_identity(found: &DiscoveredToken) -> (String, String) {
            let (p, o) = (found.platform.as_str(), found.owner.as_str());
            (
                key(&[p, $kind, o, "access_token", &found.record.name]),
                format!(concat!($kind, " {}"), o),
            )
        }

        fn import(found: &DiscoveredToken) -> UndeclaredEntry {
            let r = &found.record;
            UndeclaredEntry::Entry {
                id_base: slug(&[&found.owner, &r.name]),
                body: format!(
                    concat!(
                        "    gitlab_",
                        $kind,
                        "_access_token:\n      gitlab: {}\n      ",
                        $kind,
                        ": {}\n      name: {}\n      scopes: {}\n      access_level: {}\n"
                    ),
                    q(&found.platform),
                    q(&found.owner),
                    q(&r.name),
                    scopes(&r.scopes),
                    role(r.access_level)
                ),
            }
        }

        #[async_trait]
        impl TokenDriver for $ty {
            fn id(&self) -> TokenKindId {
                TokenKindId::$ty
            }
            fn instance(&self) -> Option<(Platform, &str)> {
                Some((Platform::GitLab, &self.gitlab))
            }
            fn scopes(&self) -> &[String] {
                &self.scopes
            }
            fn scope_rules(&self) -> ScopeRules {
                ScopeRules::Gitlab {
                    allowed: &$scopes,
                    what: concat!("a ", $kind, " access token"),
                }
            }
            fn lifetime_limit(&self) -> Option<LifetimeLimit> {
                Some(LifetimeLimit {
                    max: Duration::from_days(365),
                    exclusive: false,
                })
            }
            fn object_words(&self) -> String {
                format!(
                    concat!($kind, " {}, access token \"{}\""),
                    self.$field, self.name
                )
            }
            fn bot_owned(&self) -> bool {
                true
            }
            fn check(&self, _cx: &mut KindCheck<'_>) {}
            fn mask_problem(&self, _raw: bool) -> Option<(String, String)> {
                None
            }
            fn declares(&self, found: &DiscoveredToken) -> bool {
                found.kind == self.id().key()
                    && self.gitlab == found.platform
                    && self.$field == found.owner
                    && self.name == found.record.name
            }
            fn check_identity(&self) -> Option<(String, String, String)> {
                Some((
                    key(&[
                        &self.gitlab,
                        $kind,
                        &self.$field,
                        "access_token",
                        &self.name,
                    ]),
                    format!(concat!($kind, " {}"), self.$field),
                    self.name.clone(),
                ))
            }

            crate::kinds::gitlab::gitlab_named_token_methods!();

            async fn known_ids(&self, cx: &StageCx<'_>) -> Result<Vec<String>, Stop> {
                gl::known_ids(cx, self).await
            }
            async fn stage(
                &self,
                cx: &StageCx<'_>,
                pending: &mut PendingRotation,
                fresh: bool,
                notes: &mut Vec<String>,
            ) -> Result<Issued, Stop> {
                gl::stage(cx, self, pending, fresh, notes).await
            }
            async fn retire(&self, cx: &StageCx<'_>, old: &str) -> Result<(), String> {
                gl::retire(cx, self, old).await
            }
            async fn check_provided(
                &self,
                _clients: &Clients,
                _value: &SecretString,
            ) -> Result<String, String> {
                Ok(String::new())
            }
            fn signs_in_to(&self) -> Option<(Platform, &str)> {
                Some((Platform::GitLab, &self.gitlab))
            }
        }

        impl $ty {
            fn list(&self) -> ListKey {
                ListKey::GitlabOwnerTokens {
                    gitlab: self.gitlab.clone(),
                    owner: GitlabOwner::$variant(self.$field.clone()),
                }
            }

            fn owner(&self) -> Owner {
                Owner::$variant(self.$field.clone())
            }
        }

        #[async_trait]
        impl GitlabRecords for $ty {
            fn gitlab(&self) -> &str {
                &self.gitlab
            }
            fn rotatable(&self) -> bool {
                true
            }
            async fn records(&self, client: &GitLabClient) -> Result<Vec<Record>, String> {
                gl::resource_records(client, &self.owner(), &self.name).await
            }
            async fn rotate(
                &self,
                client: &GitLabClient,
                id: u64,
                expires_at: Date,
            ) -> Result<Issued, ApiError> {
                gl::resource_rotate(client, &self.owner(), id, expires_at).await
            }
            async fn self_rotate(
                &self,
                client: &GitLabClient,
                expires_at: Date,
            ) -> Result<Issued, ApiError> {
                gl::resource_self_rotate(client, &self.owner(), expires_at).await
            }
            async fn create(
                &self,
                client: &GitLabClient,
                expires_at: Option<Date>,
            ) -> Result<Issued, ApiError> {
                let Some(expires_at) = expires_at else {
                    return Err(gl::no_expiry(client));
                };
                let new = NewAccessToken {
                    name: self.name.clone(),
                    scopes: self.scopes.clone(),
                    description: None,
                    access_level: Some(self.access_level.number()),
                    expires_at,
                };
                gl::resource_create(client, &self.owner(), new).await
            }
            async fn revoke(&self, client: &GitLabClient, id: u64) -> Result<(), ApiError> {
                client.revoke_access_token(&self.owner(), id).await
            }
        }
    };
}

pub(crate) use resource_access_token;
