//! The words that flag a text for review (`PUT /v1/tenants/{id}/review-rules`): a text that
//! holds one is flagged for the compliance officer, automatically.

use serde::{Deserialize, Serialize};

/// At most this many words, of at most this many characters each.
pub const MAX_KEYWORDS: usize = 100;
pub const MAX_KEYWORD_CHARS: usize = 64;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRules {
    /// Words or phrases, matched whole and regardless of case ("social security",
    /// "immigration status"). Stored lowercase, trimmed, once each.
    pub keywords: Vec<String>,
}

impl ReviewRules {
    /// The rules as kept: each word trimmed, lowercased, once; or what is wrong.
    pub fn validate(self) -> Result<ReviewRules, String> {
        if self.keywords.len() > MAX_KEYWORDS {
            return Err(format!("keywords: at most {MAX_KEYWORDS}"));
        }
        let mut keywords: Vec<String> = Vec::with_capacity(self.keywords.len());
        for (i, k) in self.keywords.iter().enumerate() {
            let k = k.trim().to_lowercase();
            if k.is_empty()
                || k.chars().count() > MAX_KEYWORD_CHARS
                || k.chars().any(char::is_control)
            {
                return Err(format!(
                    "keywords[{i}]: 1 to {MAX_KEYWORD_CHARS} characters, no control characters"
                ));
            }
            if !keywords.contains(&k) {
                keywords.push(k);
            }
        }
        Ok(ReviewRules { keywords })
    }

    /// The rules' words that `text` holds, whole words, regardless of case.
    pub fn matches(&self, text: &str) -> Vec<String> {
        let text = words(text);
        self.keywords
            .iter()
            .filter(|k| {
                let k = words(k);
                !k.is_empty() && text.windows(k.len()).any(|w| w == k.as_slice())
            })
            .cloned()
            .collect()
    }
}

/// The words of a text, lowercased: runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_kept_lowercase_once_and_match_whole_words() {
        let rules = ReviewRules {
            keywords: vec![" SSN ".into(), "ssn".into(), "Immigration Status".into()],
        }
        .validate()
        .unwrap();
        assert_eq!(rules.keywords, ["ssn", "immigration status"]);
        assert_eq!(rules.matches("Send your SSN: 123"), ["ssn"]);
        assert!(
            rules.matches("Sending lessons").is_empty(),
            "not inside a word"
        );
        assert_eq!(
            rules.matches("your immigration-status form"),
            ["immigration status"]
        );
        assert!(ReviewRules {
            keywords: vec!["".into()]
        }
        .validate()
        .is_err());
    }
}
