//! Who an actor is, as people read it: a console user's name, an API key's name,
//! "casewire" for what it did on its own. The trail keeps ids; pages show names.

use std::collections::HashMap;

use casewire_people::directory;

use crate::{ApiError, Gateway};

pub(crate) struct Names(HashMap<String, String>);

impl Names {
    /// The tenant's people and keys, read once for a page (two statements).
    pub async fn of_tenant(gw: &Gateway, tenant: &str) -> Result<Names, ApiError> {
        let mut names = HashMap::new();
        let users = directory::list(gw.store(), tenant)
            .await
            .map_err(ApiError::internal)?;
        for u in users {
            names.insert(format!("user:{}", u.id), u.name);
        }
        let keys: Vec<(String, String)> =
            sqlx::query_as("SELECT id, name FROM gateway_api_keys WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_all(gw.store().db().reader())
                .await?;
        for (id, name) in keys {
            names.insert(format!("api_key:{id}"), format!("{name} (API key)"));
        }
        Ok(Names(names))
    }

    /// The name of `actor` (`user:<id>`, `api_key:<id>`, `system`, …), else the actor.
    pub fn of(&self, actor: &str) -> String {
        match actor {
            "system" => "casewire".into(),
            "operator" => "the operator".into(),
            "twilio" => "Twilio".into(),
            _ => self
                .0
                .get(actor)
                .cloned()
                .unwrap_or_else(|| actor.to_string()),
        }
    }
}
