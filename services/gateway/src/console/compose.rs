//! What a text will cost as the advocate types it: its segments, encoding and price,
//! counted by the same code that bills it (`casewire_sms::segments`), asked by the send
//! box's script. The text goes in a POST body, never in an address that logs keep.

use super::words::t;
use axum::extract::State;
use axum::Form;
use axum::Json;
use casewire_sms::segments::{self, Encoding};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};

use super::{Person, Shown};
use crate::{ApiError, Gateway};

#[derive(Deserialize)]
pub(crate) struct Draft {
    csrf: String,
    text: String,
}

#[derive(Serialize)]
pub(crate) struct Cost {
    /// "1 segment, GSM-7, about $0.0079", as the box shows it.
    said: String,
}

/// How a text's size and price read: "2 segments, UCS-2 (emoji or accents outside
/// GSM-7), about $0.0158".
pub(crate) fn said(text: &str, per_segment_micros: Option<u64>) -> String {
    let count = segments::count(text);
    let price =
        per_segment_micros.map(|micros| segments::estimated_price(&count, micros) as f64 / 1e6);
    phrase(count.segments, count.encoding == Encoding::Ucs2, price)
}

/// "2 segments, GSM-7, about $0.0158": a count as the console says it, whoever counted.
pub(crate) fn phrase(segments: u32, ucs2: bool, price_usd: Option<f64>) -> String {
    let encoding = if ucs2 {
        t("UCS-2 (a character outside GSM-7: each segment holds fewer)")
    } else {
        "GSM-7"
    };
    let noun = if segments == 1 {
        t("segment")
    } else {
        t("segments")
    };
    let price = match price_usd {
        Some(usd) => format!("{}{usd:.4}", t(", about $")),
        None => String::new(),
    };
    format!("{segments} {noun}, {encoding}{price}")
}

/// The tenant's price of a segment, when it has a provider (the sandbox costs nothing).
pub(crate) async fn price(gw: &Gateway, tenant: &str) -> Result<Option<u64>, ApiError> {
    Ok(gw
        .sms_settings(tenant)
        .await?
        .map(|s| s.price_per_segment_micros))
}

pub(crate) async fn cost(
    State(gw): State<Gateway>,
    person: Person,
    Form(d): Form<Draft>,
) -> Result<Json<Cost>, Shown> {
    person.check_csrf(&d.csrf)?;
    let micros = price(&gw, &person.user.tenant_id).await?;
    Ok(Json(Cost {
        said: said(&d.text, micros),
    }))
}

/// The line under the send box that the script keeps up to date.
pub(crate) fn counter(text: &str, micros: Option<u64>) -> Markup {
    html! {
        p { output id="cost" for="body" aria-live="polite" { (said(text, micros)) } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_says_segments_encoding_and_price() {
        assert_eq!(said("Hello", Some(7900)), "1 segment, GSM-7, about $0.0079");
        assert_eq!(
            said(&"a".repeat(161), Some(7900)),
            "2 segments, GSM-7, about $0.0158"
        );
        assert!(said("Hola 😀", None).starts_with("1 segment, UCS-2"));
    }
}
