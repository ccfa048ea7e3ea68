//! Project and group CI/CD variables: list, get, create, update, delete. When one key exists in
//! several environment scopes, `filter[environment_scope]` (sent URL-encoded) picks one.

use super::models::{NewVariable, Variable, VariableUpdate};
use super::{GitLabClient, Owner, encode_segment, v4};
use crate::http::{ApiError, ApiRequest};

const SCOPE_FILTER: &str = "filter[environment_scope]";

fn described(owner: &Owner, key: &str, scope: Option<&str>) -> String {
    match scope {
        Some(scope) => format!("{} CI/CD variable {key} (scope {scope})", owner.label()),
        None => format!("{} CI/CD variable {key}", owner.label()),
    }
}

impl GitLabClient {
    /// `GET /projects|groups/:id/variables`, all pages.
    pub async fn list_variables(&self, owner: &Owner) -> Result<Vec<Variable>, ApiError> {
        let req = ApiRequest::get(
            v4(format!("{}/variables", owner.prefix())),
            format!("{} CI/CD variables", owner.label()),
        );
        self.api.gitlab_all(req).await
    }

    /// `GET /projects|groups/:id/variables/:key[?filter[environment_scope]=…]`.
    pub async fn get_variable(
        &self,
        owner: &Owner,
        key: &str,
        scope: Option<&str>,
    ) -> Result<Variable, ApiError> {
        let req = ApiRequest::get(
            v4(format!(
                "{}/variables/{}",
                owner.prefix(),
                encode_segment(key)
            )),
            described(owner, key, scope),
        )
        .query_opt(SCOPE_FILTER, scope);
        self.api.json(req).await
    }

    /// `POST /projects|groups/:id/variables`.
    pub async fn create_variable(
        &self,
        owner: &Owner,
        variable: &NewVariable,
    ) -> Result<Variable, ApiError> {
        let req = ApiRequest::post(
            v4(format!("{}/variables", owner.prefix())),
            format!(
                "{} create",
                described(owner, &variable.key, variable.environment_scope.as_deref())
            ),
        )
        .json(variable);
        self.api.json(req).await
    }

    /// `PUT /projects|groups/:id/variables/:key[?filter[environment_scope]=…]`.
    pub async fn update_variable(
        &self,
        owner: &Owner,
        key: &str,
        scope: Option<&str>,
        update: &VariableUpdate,
    ) -> Result<Variable, ApiError> {
        let req = ApiRequest::put(
            v4(format!(
                "{}/variables/{}",
                owner.prefix(),
                encode_segment(key)
            )),
            described(owner, key, scope),
        )
        .query_opt(SCOPE_FILTER, scope)
        .json(update);
        self.api.json(req).await
    }

    /// `DELETE /projects|groups/:id/variables/:key[?filter[environment_scope]=…]`.
    pub async fn delete_variable(
        &self,
        owner: &Owner,
        key: &str,
        scope: Option<&str>,
    ) -> Result<(), ApiError> {
        let req = ApiRequest::delete(
            v4(format!(
                "{}/variables/{}",
                owner.prefix(),
                encode_segment(key)
            )),
            format!("{} delete", described(owner, key, scope)),
        )
        .query_opt(SCOPE_FILTER, scope);
        self.api.send(req).await.map(drop)
    }
}
