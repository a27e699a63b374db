//! A form as it was sent, field by field: to build the API's request from, and to show
//! again, as typed, when the API refuses it.

use std::collections::HashMap;

#[derive(serde::Deserialize, Default)]
#[serde(transparent)]
pub(crate) struct Fields(HashMap<String, String>);

impl Fields {
    /// The field, trimmed; empty when the form did not send it.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0.get(name).map(|v| v.trim()).unwrap_or_default()
    }

    /// A field of several values, separated by commas.
    pub(crate) fn list(&self, name: &str) -> Vec<&str> {
        self.get(name)
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Fields a page fills itself (from what the API holds).
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Fields {
        Fields(pairs.into_iter().collect())
    }

    #[cfg(test)]
    pub(crate) fn of(pairs: &[(&str, &str)]) -> Fields {
        Fields::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}
