//! The `gitlab` ledger backend: the ledger in the GitLab-managed Terraform state of a project,
//! spoken over the same protocol as the `http` backend ([`super::http`]). What it adds is
//! *where* and *as whom*: in a GitLab pipeline, the project running it, signed in as the job
//! (`CI_JOB_TOKEN`), so that CI jobs on throwaway runners share one ledger with no set-up;
//! outside a pipeline, an explicit instance and project, signed in with that instance's
//! credential. The edge reads the pipeline's predefined variables into [`Pipeline`].

use std::fmt;

use secrecy::SecretString;

/// What a GitLab pipeline says about itself, from its predefined CI/CD variables.
#[derive(Clone)]
pub struct Pipeline {
    /// `CI_API_V4_URL`, e.g. `https://gitlab.com/api/v4`.
    pub api_url: String,
    /// `CI_PROJECT_ID`.
    pub project_id: String,
    /// `CI_PROJECT_PATH`, e.g. `support/ops/tokenops`.
    pub project_path: Option<String>,
    /// `CI_JOB_TOKEN`: valid while the job runs, with the role of the user who started it.
    pub job_token: SecretString,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("api_url", &self.api_url)
            .field("project_id", &self.project_id)
            .field("project_path", &self.project_path)
            .field("job_token", &"[REDACTED]")
            .finish()
    }
}

impl Pipeline {
    /// The GitLab base URL (before `/api/v4`).
    pub fn base_url(&self) -> String {
        trim_url(&self.api_url)
            .trim_end_matches("/api/v4")
            .to_string()
    }

    fn is_project(&self, project: &str) -> bool {
        project == self.project_id
            || self
                .project_path
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(project.trim_matches('/')))
    }
}

/// Where the state is and who signs in to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// The project running the pipeline, signed in as the job.
    ThisPipeline {
        /// The GitLab base URL.
        base: String,
        /// The project (`CI_PROJECT_PATH`, else `CI_PROJECT_ID`).
        project: String,
    },
    /// A project on a declared instance, signed in with that instance's credential.
    Instance {
        /// The instance name.
        gitlab: String,
        /// The project's full path or id.
        project: String,
    },
}

/// Why the state's location cannot be told.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GitlabStateError {
    /// Outside a pipeline nothing says which project holds the state.
    #[error(
        "state.backend `gitlab` outside a GitLab pipeline (CI_JOB_TOKEN, CI_API_V4_URL and \
         CI_PROJECT_ID are not all set) needs `{missing}:` under `state:` in tokenops.yaml, \
         e.g. `state: {{ backend: gitlab, gitlab: gitlab.com, project: support/ops/tokenops }}`"
    )]
    NotInPipeline {
        /// `gitlab` or `project`.
        missing: &'static str,
    },
    /// `state.gitlab` names an instance `gitlab:` does not declare.
    #[error(
        "state.gitlab names `{name}`, which is not declared under `gitlab:` in tokenops.yaml; \
         use one of: {declared}"
    )]
    UnknownInstance {
        /// The name given.
        name: String,
        /// The declared names.
        declared: String,
    },
    /// The state is on another GitLab than the pipeline's, and no project is named there.
    #[error(
        "state.gitlab `{name}` ({url}) is not the GitLab running this pipeline ({here}), so the \
         job's project cannot hold the state: set state.project to a project on `{name}`"
    )]
    OtherInstance {
        /// The instance name.
        name: String,
        /// Its URL.
        url: String,
        /// The pipeline's GitLab.
        here: String,
    },
    /// `state.project` names another project and no declared instance is this GitLab.
    #[error(
        "state.project `{project}` is not the project running this pipeline, and no GitLab \
         instance in tokenops.yaml is at {here}: set state.gitlab to the instance that holds it"
    )]
    NoInstanceHere {
        /// The project asked for.
        project: String,
        /// The pipeline's GitLab.
        here: String,
    },
}

/// Tells where the state is. `instances` are the declared GitLab instances with their URLs
/// (overrides applied); `pipeline` is the running GitLab pipeline, if any. In a pipeline the
/// state is the running project's unless `gitlab` / `project` name another.
pub fn locate(
    gitlab: Option<&str>,
    project: Option<&str>,
    instances: &[(String, String)],
    pipeline: Option<&Pipeline>,
) -> Result<StateLocation, GitlabStateError> {
    let url_of = |name: &str| {
        instances
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, u)| u.clone())
            .ok_or_else(|| GitlabStateError::UnknownInstance {
                name: name.to_string(),
                declared: if instances.is_empty() {
                    "(none)".to_string()
                } else {
                    instances
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            })
    };
    let named_url = gitlab.map(url_of).transpose()?;
    let Some(pipeline) = pipeline else {
        let gitlab = gitlab.ok_or(GitlabStateError::NotInPipeline { missing: "gitlab" })?;
        let project = project.ok_or(GitlabStateError::NotInPipeline { missing: "project" })?;
        return Ok(StateLocation::Instance {
            gitlab: gitlab.to_string(),
            project: project.to_string(),
        });
    };
    let here = pipeline.base_url();
    let same_instance = named_url
        .as_deref()
        .is_none_or(|url| trim_url(url) == trim_url(&here));
    let same_project = project.is_none_or(|p| pipeline.is_project(p));
    if same_instance && same_project {
        return Ok(StateLocation::ThisPipeline {
            base: here,
            project: pipeline
                .project_path
                .clone()
                .unwrap_or_else(|| pipeline.project_id.clone()),
        });
    }
    let (Some(name), Some(url)) = (gitlab, named_url.as_ref()) else {
        // Another project on the pipeline's own GitLab: the instance declared at its URL.
        let project = project.unwrap_or_default();
        let found = instances
            .iter()
            .find(|(_, u)| trim_url(u) == trim_url(&here))
            .ok_or_else(|| GitlabStateError::NoInstanceHere {
                project: project.to_string(),
                here: here.clone(),
            })?;
        return Ok(StateLocation::Instance {
            gitlab: found.0.clone(),
            project: project.to_string(),
        });
    };
    let project = project.ok_or_else(|| GitlabStateError::OtherInstance {
        name: name.to_string(),
        url: url.clone(),
        here: here.clone(),
    })?;
    Ok(StateLocation::Instance {
        gitlab: name.to_string(),
        project: project.to_string(),
    })
}

fn trim_url(url: &str) -> &str {
    url.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline() -> Pipeline {
        Pipeline {
            api_url: "https://gitlab.com/api/v4".into(),
            project_id: "42".into(),
            project_path: Some("support/ops/tokenops".into()),
            job_token: SecretString::from("glcbt-x"),
        }
    }

    fn instances() -> Vec<(String, String)> {
        vec![
            ("gitlab.com".into(), "https://gitlab.com".into()),
            ("self-managed".into(), "https://gitlab.example.com/".into()),
        ]
    }

    #[test]
    fn in_a_pipeline_the_running_project_is_the_default() {
        let here = StateLocation::ThisPipeline {
            base: "https://gitlab.com".into(),
            project: "support/ops/tokenops".into(),
        };
        let p = pipeline();
        assert_eq!(locate(None, None, &instances(), Some(&p)), Ok(here.clone()));
        // Naming the running project (path or id) and its GitLab keeps the job token.
        for project in ["support/ops/tokenops", "42", "Support/Ops/Tokenops"] {
            assert_eq!(
                locate(Some("gitlab.com"), Some(project), &instances(), Some(&p)),
                Ok(here.clone()),
                "{project}"
            );
        }
    }

    #[test]
    fn another_project_or_instance_uses_that_instance() {
        let p = pipeline();
        assert_eq!(
            locate(None, Some("support/other"), &instances(), Some(&p)),
            Ok(StateLocation::Instance {
                gitlab: "gitlab.com".into(),
                project: "support/other".into()
            })
        );
        assert_eq!(
            locate(
                Some("self-managed"),
                Some("ops/state"),
                &instances(),
                Some(&p)
            ),
            Ok(StateLocation::Instance {
                gitlab: "self-managed".into(),
                project: "ops/state".into()
            })
        );
        assert!(matches!(
            locate(Some("self-managed"), None, &instances(), Some(&p)),
            Err(GitlabStateError::OtherInstance { .. })
        ));
        let elsewhere = Pipeline {
            api_url: "https://git.internal.example/api/v4".into(),
            ..pipeline()
        };
        assert!(matches!(
            locate(None, Some("support/other"), &instances(), Some(&elsewhere)),
            Err(GitlabStateError::NoInstanceHere { .. })
        ));
    }

    #[test]
    fn outside_a_pipeline_both_must_be_named() {
        assert_eq!(
            locate(None, Some("a/b"), &instances(), None),
            Err(GitlabStateError::NotInPipeline { missing: "gitlab" })
        );
        assert_eq!(
            locate(Some("gitlab.com"), None, &instances(), None),
            Err(GitlabStateError::NotInPipeline { missing: "project" })
        );
        assert_eq!(
            locate(Some("gitlab.com"), Some("a/b"), &instances(), None),
            Ok(StateLocation::Instance {
                gitlab: "gitlab.com".into(),
                project: "a/b".into()
            })
        );
        let err = locate(Some("gitlab.org"), Some("a/b"), &instances(), None).unwrap_err();
        assert!(
            err.to_string().contains("gitlab.com, self-managed"),
            "{err}"
        );
    }

    #[test]
    fn the_job_token_is_not_printed() {
        assert!(!format!("{:?}", pipeline()).contains("glcbt-x"));
    }
}
