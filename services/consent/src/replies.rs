//! What casewire answers a client, in their language: the confirmation request, the one
//! opt-out confirmation, the subscribed notice and the HELP answer. Every answer says who
//! is texting; the defaults follow the carriers' rules (who, how to stop, "Msg & data rates
//! may apply"); a tenant may replace any of them (`Policy::replies`).

use casewire_tenancy::Policy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Confirmation,
    OptOut,
    OptIn,
    Help,
    /// To a text that may be an opt-out: the one clarification the FCC rule allows.
    Clarification,
    /// To a reply that neither confirms nor stops a pending request: how to answer.
    HowToConfirm,
}

fn default_text(reply: Reply, language: &str) -> Option<&'static str> {
    Some(match (language, reply) {
        ("en", Reply::Confirmation) => {
            "{organization}: We have received your request to get text message reminders about your case. \
             Please reply Y or YES to confirm. Message & data rates may apply."
        }
        ("en", Reply::OptOut) => {
            "{organization}: You are unsubscribed and will get no more texts from us. Reply START to subscribe again."
        }
        ("en", Reply::OptIn) => {
            "{organization}: You will get texts about your case. Reply HELP for help, STOP to stop. \
             Msg & data rates may apply."
        }
        ("en", Reply::Help) => {
            "{organization}: Texts about your legal aid case. For help, contact {contact}. \
             Reply STOP to stop texts. Msg & data rates may apply."
        }
        ("en", Reply::Clarification) => "Reply STOP to stop all texts from {organization}.",
        ("en", Reply::HowToConfirm) => {
            "{organization}: To get texts about your case, reply Y or YES. To stop texts, reply STOP."
        }
        ("es", Reply::Clarification) => {
            "Responda PARAR para dejar de recibir todos los mensajes de {organization}."
        }
        ("es", Reply::HowToConfirm) => {
            "{organization}: Para recibir mensajes sobre su caso, responda SI. Para no recibirlos, responda PARAR."
        }
        ("es", Reply::Confirmation) => {
            "{organization}: Recibimos su solicitud para recibir recordatorios por mensaje de texto sobre su caso. \
             Responda SI o Y para confirmar. Pueden aplicarse tarifas de mensajes y datos."
        }
        ("es", Reply::OptOut) => {
            "{organization}: Cancelamos su suscripcion y no recibira mas mensajes nuestros. \
             Responda COMENZAR para suscribirse de nuevo."
        }
        ("es", Reply::OptIn) => {
            "{organization}: Recibira mensajes sobre su caso. Responda AYUDA para ayuda o PARAR para dejar de recibirlos. \
             Pueden aplicarse tarifas de mensajes y datos."
        }
        ("es", Reply::Help) => {
            "{organization}: Mensajes sobre su caso de asistencia legal. Para ayuda, comuniquese con {contact}. \
             Responda PARAR para dejar de recibirlos. Pueden aplicarse tarifas de mensajes y datos."
        }
        _ => return None,
    })
}

/// Who to contact when the tenant named no one.
fn default_contact(language: &str) -> &'static str {
    match language {
        "es" => "su asesor legal",
        _ => "your advocate",
    }
}

/// The text of `reply` in `language` for this tenant: its own text if it set one, else
/// casewire's in that language, else casewire's in English.
pub fn render(reply: Reply, language: &str, organization: &str, policy: &Policy) -> String {
    let primary = language.split('-').next().unwrap_or("en");
    let own = policy.replies.get(primary).and_then(|texts| match reply {
        Reply::Confirmation => texts.confirmation.as_deref(),
        Reply::OptOut => texts.opt_out.as_deref(),
        Reply::OptIn => texts.opt_in.as_deref(),
        Reply::Help => texts.help.as_deref(),
        Reply::Clarification => texts.clarification.as_deref(),
        Reply::HowToConfirm => texts.how_to_confirm.as_deref(),
    });
    let (template, language) = match (own, default_text(reply, primary)) {
        (Some(own), _) => (own, primary),
        (None, Some(default)) => (default, primary),
        (None, None) => (default_text(reply, "en").unwrap_or_default(), "en"),
    };
    let contact = policy
        .contact
        .as_deref()
        .unwrap_or_else(|| default_contact(language));
    template
        .replace("{organization}", organization)
        .replace("{contact}", contact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmation_request_is_the_one_the_issue_gives() {
        assert_eq!(
            render(Reply::Confirmation, "en", "Prairie Legal Aid", &Policy::default()),
            "Prairie Legal Aid: We have received your request to get text message reminders about your case. \
             Please reply Y or YES to confirm. Message & data rates may apply."
        );
    }

    #[test]
    fn help_says_who_how_to_reach_them_how_to_stop_and_the_rates() {
        let policy = Policy {
            contact: Some("(312) 555-0199".into()),
            ..Policy::default()
        };
        let help = render(Reply::Help, "en", "Prairie Legal Aid", &policy);
        for part in [
            "Prairie Legal Aid",
            "(312) 555-0199",
            "Reply STOP",
            "Msg & data rates may apply",
        ] {
            assert!(help.contains(part), "{help:?} lacks {part:?}");
        }
        let ayuda = render(
            Reply::Help,
            "es-MX",
            "Prairie Legal Aid",
            &Policy::default(),
        );
        assert!(
            ayuda.contains("su asesor legal") && ayuda.contains("PARAR"),
            "{ayuda}"
        );
    }

    #[test]
    fn the_tenants_own_text_wins_and_an_unknown_language_falls_back_to_english() {
        let policy: Policy = serde_json::from_value(serde_json::json!({
            "replies": { "en": { "opt_out": "{organization}: no more texts. Text START to return." } }
        }))
        .unwrap();
        assert_eq!(
            render(Reply::OptOut, "en", "PLA", &policy),
            "PLA: no more texts. Text START to return."
        );
        assert!(render(Reply::OptOut, "es", "PLA", &policy).contains("COMENZAR"));
        assert!(render(Reply::OptIn, "pt", "PLA", &policy).contains("Reply HELP"));
    }

    #[test]
    fn every_default_fits_in_two_segments_of_gsm_7() {
        for language in ["en", "es"] {
            for reply in [
                Reply::Confirmation,
                Reply::OptOut,
                Reply::OptIn,
                Reply::Help,
                Reply::Clarification,
                Reply::HowToConfirm,
            ] {
                let text = render(
                    reply,
                    language,
                    "Prairie Legal Aid of Illinois",
                    &Policy::default(),
                );
                let count = casewire_sms::segments::count(&text);
                assert!(
                    count.segments <= 2 && count.encoding == casewire_sms::segments::Encoding::Gsm7,
                    "{language} {reply:?}: {} segments, {:?}",
                    count.segments,
                    count.encoding
                );
            }
        }
    }
}
