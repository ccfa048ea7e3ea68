//! `manual`: a step a person does with the new value (a receiver tokenops cannot write). It
//! has no place of its own to discover or write; apply turns it into a checklist item once
//! the value is replaced.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Platform;
use crate::clients::Clients;
use crate::discover::lists::ListKey;
use crate::inventory::LiveConsumer;
use crate::kinds::{
    ConsumerCheck, ConsumerDriver, ConsumerKindId, ConsumerLiveCx, Credential, Proof,
};
use crate::manifest::ConsumerKey;

/// A manual step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manual {
    /// What a person must do with the new value.
    pub instructions: String,
}

#[async_trait]
impl ConsumerDriver for Manual {
    fn id(&self) -> ConsumerKindId {
        ConsumerKindId::Manual
    }
    fn instance(&self) -> Option<(Platform, &str)> {
        None
    }
    fn key(&self) -> Option<ConsumerKey> {
        None
    }
    fn label(&self) -> String {
        format!("manual: {}", self.instructions)
    }
    fn settings(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
    fn instructions(&self) -> Option<&str> {
        Some(&self.instructions)
    }
    fn check(&self, _cx: &mut ConsumerCheck<'_>) {}
    fn lists(&self, _needs: &mut BTreeSet<ListKey>) {}
    fn live(&self, _cx: &mut ConsumerLiveCx<'_>) -> Result<LiveConsumer, Option<String>> {
        Ok(LiveConsumer::Manual)
    }
    fn written_by_apply(&self) -> bool {
        false
    }
    fn rewrite_safe(&self) -> bool {
        true
    }
    async fn write(
        &self,
        _clients: &Clients,
        _given: Credential<'_>,
    ) -> Result<Option<Proof>, String> {
        Ok(Some(Proof::Written))
    }
    async fn verify(&self, _clients: &Clients, _given: Credential<'_>) -> Result<Proof, String> {
        Ok(Proof::Written)
    }
}
